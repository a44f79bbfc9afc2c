/**
 * Turns a `tls` config section into Node's TLS options, reading the CA, certificate and key files. Shared by
 * every client (PostgreSQL, MySQL, Kafka) so a bad path fails the same way everywhere: naming the key.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../model/errors.js';
import type { TlsConfig } from './schema.js';

/** `undefined` when TLS is disabled. `keyPath` is where the section sits in the file, e.g. `kafka.tls`. */
export function tlsOptions(tls: TlsConfig, keyPath: string): ConnectionOptions | undefined {
  if (!tls.enabled) return undefined;
  const read = (field: 'ca' | 'cert' | 'key'): Buffer | undefined => {
    const file = tls[field];
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new ConfigError(`${keyPath}.${field}: cannot read ${file} (${code})`, {
        cause: error,
        fix: `correct ${keyPath}.${field} (relative paths start at the config file's directory) or make the file readable`,
      });
    }
  };
  return { ca: read('ca'), cert: read('cert'), key: read('key'), rejectUnauthorized: tls.rejectUnauthorized };
}
