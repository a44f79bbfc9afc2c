/**
 * `tributary check`: connect to every configured service at once, read (never change) what matters, and report
 * every problem found rather than stopping at the first.
 */
import type { Config, MysqlSourceConfig, PostgresSourceConfig } from '../config/index.js';
import { ConfigError, SourceError } from '../model/errors.js';
import type { Logger } from '../ops/logger.js';
import { describeSourceConnectError } from './connect-errors.js';
import { describeKafkaError, judgeKafka, judgeKafkaConfig, KAFKA_SERVICE, probeKafka } from './kafka.js';
import { judgeMysql, mysqlService } from './mysql-judge.js';
import { probeMysql } from './mysql-probe.js';
import { judgePostgres, postgresService } from './postgres-judge.js';
import { probePostgres } from './postgres-probe.js';
import { checkRegistry, REGISTRY_SERVICE } from './registry.js';
import { makeReport, type CheckProblem, type CheckReport } from './report.js';

export interface CheckDeps {
  /** Per connection and per request; default 5000 ms. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly logger?: Logger;
}

export async function runChecks(config: Config, deps: CheckDeps = {}): Promise<CheckReport> {
  const timeoutMs = deps.timeoutMs ?? 5000;
  const checks: { service: string; run: () => Promise<CheckProblem[]> }[] = config.sources.map((source, index) =>
    source.kind === 'postgres'
      ? { service: postgresService(source), run: () => checkPostgres(source, index, timeoutMs) }
      : { service: mysqlService(source), run: () => checkMysql(source, index, timeoutMs) },
  );
  checks.push({ service: KAFKA_SERVICE, run: () => checkKafka(config, timeoutMs) });
  const registry = config.registry;
  if (registry.mode === 'external') {
    checks.push({ service: REGISTRY_SERVICE, run: () => checkRegistry(registry, timeoutMs, deps.fetch) });
  }
  const results = await Promise.all(
    checks.map(async ({ service, run }) => {
      const problems = await run().catch((error: unknown) => [unexpected(service, error)]);
      deps.logger?.debug({ service, problems: problems.length }, 'checked');
      return problems;
    }),
  );
  return makeReport(
    checks.map((check) => check.service),
    results.flat(),
  );
}

async function checkPostgres(source: PostgresSourceConfig, index: number, timeoutMs: number): Promise<CheckProblem[]> {
  const service = postgresService(source);
  try {
    return judgePostgres(source, index, await probePostgres(source, index, timeoutMs));
  } catch (error) {
    if (isOwnError(error)) throw error;
    return [describeSourceConnectError(error, service, `sources[${index}].connection`, { kind: 'postgres', ...source.connection })];
  }
}

async function checkMysql(source: MysqlSourceConfig, index: number, timeoutMs: number): Promise<CheckProblem[]> {
  const service = mysqlService(source);
  try {
    return judgeMysql(source, index, await probeMysql(source, index, timeoutMs));
  } catch (error) {
    if (isOwnError(error)) throw error;
    return [describeSourceConnectError(error, service, `sources[${index}].connection`, { kind: 'mysql', ...source.connection })];
  }
}

async function checkKafka(config: Config, timeoutMs: number): Promise<CheckProblem[]> {
  const problems = judgeKafkaConfig(config.kafka);
  try {
    problems.push(...judgeKafka(config.kafka, await probeKafka(config.kafka, timeoutMs)));
  } catch (error) {
    if (isOwnError(error)) throw error;
    problems.push(describeKafkaError(config.kafka, error));
  }
  return problems;
}

/** Our own errors (an unreadable TLS file, a failed catalog query) already say what to do. */
function isOwnError(error: unknown): error is ConfigError | SourceError {
  return error instanceof ConfigError || error instanceof SourceError;
}

function unexpected(service: string, error: unknown): CheckProblem {
  if (isOwnError(error)) {
    return { service, severity: 'error', problem: error.message, fix: error.fix ?? 'see the message' };
  }
  return { service, severity: 'error', problem: `the check failed: ${String(error)}`, fix: 'report this as a bug in Tributary' };
}
