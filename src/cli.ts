#!/usr/bin/env -S node --max-old-space-size=1024
/**
 * The `tributary` command line. Each command is a thin shell over a module: it parses flags, loads the config,
 * calls the module and turns errors into a message with a fix and a non-zero exit code.
 *
 * The heap limit in the first line is for V8's heuristics more than for the limit: with an explicit limit V8
 * collects the old generation early and the heap stays close to what is live (see deploy/README.md).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { loadConfig } from './config/index.js';
import { TributaryError } from './model/errors.js';
import { createLogger } from './ops/logger.js';

// Each command imports its modules when it runs: the long-running daemon should not carry what check, status,
// replay and the lake (DuckDB) load.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('tributary')
  .description('Change-data-capture bridge: PostgreSQL and MySQL/MariaDB row changes as Debezium-compatible Avro events on Kafka.')
  .version(pkg.version)
  .showHelpAfterError();

program
  .command('check')
  .description('validate the config file and connect to every configured service, reporting each problem with its fix')
  .requiredOption('-c, --config <file>', 'the YAML configuration file')
  .option('--timeout <ms>', 'per connection and request', (v) => Number.parseInt(v, 10), 5000)
  .action(async (options: { config: string; timeout: number }) => {
    const config = loadConfig(options.config);
    const { formatReport, runChecks } = await import('./check/index.js');
    const report = await runChecks(config, { timeoutMs: options.timeout });
    process.stdout.write(formatReport(report) + '\n');
    process.exitCode = report.ok ? 0 : 1;
  });

program
  .command('run')
  .description('stream every configured source to Kafka until SIGTERM or SIGINT')
  .requiredOption('-c, --config <file>', 'the YAML configuration file')
  .action(async (options: { config: string }) => {
    const config = loadConfig(options.config);
    const logger = createLogger(config.logging.level);
    const { runDaemon } = await import('./daemon/run.js');
    await runDaemon(config, { logger });
  });

program
  .command('status')
  .description('per source: stored and confirmed positions, slot retained WAL or binlog distance, snapshot progress, lake snapshot ages')
  .requiredOption('-c, --config <file>', 'the YAML configuration file')
  .option('--json', 'machine-readable output')
  .option('--timeout <ms>', 'per connection and query', (v) => Number.parseInt(v, 10), 5000)
  .action(async (options: { config: string; json?: boolean; timeout: number }) => {
    const { collectStatus, formatStatus, formatStatusJson } = await import('./status/index.js');
    const report = await collectStatus(loadConfig(options.config), { timeoutMs: options.timeout });
    process.stdout.write((options.json ? formatStatusJson(report) : formatStatus(report)) + '\n');
    process.exitCode = report.ok ? 0 : 1;
  });

program
  .command('replay')
  .description("re-emit one table's rows onto Kafka as Debezium snapshot read events (op r), resumable")
  .requiredOption('-c, --config <file>', 'the YAML configuration file')
  .requiredOption('--table <name>', 'schema.table / database.table as in the config, or <source>.<schema>.<table>')
  .addOption(
    new Option(
      '--from <where>',
      "lake: the table's published lake snapshot (tributary compact makes it; the database is not touched); " +
        'database: a consistent read of the table. Default: lake when the table has a lake snapshot, else database; ' +
        'an unfinished replay continues from where it read',
    ).choices(['lake', 'database']),
  )
  .option('--to-topic <name>', "target topic (default: the table's live topic)")
  .option('--rate <rows>', 'rows per second at most', (v) => Number(v))
  .action(async (options: { config: string; table: string; from?: 'lake' | 'database'; toTopic?: string; rate?: number }) => {
    const config = loadConfig(options.config);
    const { runReplay } = await import('./replay/index.js');
    const result = await runReplay(config, { ...options, logger: createLogger(config.logging.level) });
    process.exitCode = result.completed ? 0 : 130;
  });

program
  .command('compact')
  .description('materialize per-table Parquet snapshots in lake.path from the change topics (continuous unless --once)')
  .requiredOption('-c, --config <file>', 'the YAML configuration file')
  .option('--table <name>', 'only this table: schema.table / database.table, or <source>.<schema>.<table>')
  .option('--once', 'compact up to the current end of the topics, then exit')
  .action(async (options: { config: string; table?: string; once?: boolean }) => {
    const config = loadConfig(options.config);
    const logger = createLogger(config.logging.level);
    const [{ runCompaction, runContinuousCompaction }, { CheckpointStore }, { checkpointSchemaSource }] = await Promise.all([
      import('./lake/index.js'),
      import('./checkpoint/store.js'),
      import('./daemon/schema-source.js'),
    ]);
    const store = config.registry.mode === 'embedded' ? CheckpointStore.open(config.checkpoint.path) : undefined;
    const registry = store === undefined ? undefined : checkpointSchemaSource(store);
    try {
      if (options.once) {
        for (const result of await runCompaction(config, { logger, table: options.table, registry })) {
          process.stdout.write(`${result.table}: snapshot ${result.snapshotId}, ${result.rows} rows, ${result.changes} changes applied, ${result.filesWritten} files written\n`);
        }
      } else {
        const stop = new AbortController();
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
        await runContinuousCompaction(config, { logger, table: options.table, registry, signal: stop.signal });
      }
    } finally {
      store?.close();
    }
  });

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof TributaryError) {
    process.stderr.write(`tributary: ${error.describe()}\n`);
  } else {
    process.stderr.write(`tributary: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exitCode = 1;
}
