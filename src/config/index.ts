export { loadConfig, parseConfig } from './load.js';
export { ConfigIssuesError, formatIssue, type ConfigIssue } from './issues.js';
export type { Environment } from './env.js';
export {
  configSchema,
  defaultSlotName,
  type Config,
  type SourceConfig,
  type PostgresSourceConfig,
  type MysqlSourceConfig,
  type TableConfig,
  type TlsConfig,
  type KafkaConfig,
  type RegistryConfig,
  type LakeConfig,
} from './schema.js';
export { tlsOptions } from './tls.js';
