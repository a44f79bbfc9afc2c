/** `tributary status` reads lake snapshot ages from the table metadata the compactor publishes. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { nextMetadata } from '../../src/lake/metadata.js';
import { TableDirectory } from '../../src/lake/table-dir.js';
import { silentLogger } from '../../src/ops/logger.js';
import { readLakeSnapshots } from '../../src/status/lake.js';
import { collectStatus, formatStatus } from '../../src/status/index.js';

describe('lake snapshot ages in tributary status', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-status-lake-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const configFile = (lake: boolean): string => {
    const path = join(dir, `tributary-${lake}.yaml`);
    writeFileSync(
      path,
      `sources:
  - { name: shop, kind: mysql, serverId: 7, connection: { host: 127.0.0.1, port: 1, user: u }, tables: [{ name: shop.orders }, { name: shop.lines }] }
kafka: { brokers: ["127.0.0.1:9092"] }
checkpoint: { path: ./absent.db }
${lake ? 'lake: { path: ./lake }\n' : ''}`,
    );
    return path;
  };

  it('lists the published tables with rows, position and age, and skips unpublished ones', async () => {
    const config = loadConfig(configFile(true));
    const madeAt = new Date(Date.now() - 600_000);
    const metadata = nextMetadata(
      {
        tableUuid: '00000000-0000-4000-8000-000000000001',
        source: { name: 'shop', connector: 'mariadb' },
        namespace: 'shop',
        table: 'orders',
        topic: 'shop.shop.orders',
        partitionSpec: { transform: 'bucket', columns: ['id'], buckets: 4 },
      },
      {
        schema: { schemaId: 1, fields: [], key: ['id'] },
        lastColumnId: 1,
        files: [{ path: 'data/b0.parquet', bucket: 0, rows: 1234, bytes: 1, schemaId: 1 }],
        filesAdded: 1,
        filesRemoved: 0,
        changesApplied: 1234,
        source: { connector: 'mariadb', file: 'bin.000003', pos: '900', row: 0, gtid: '0-1-77', serverId: '1', tsMs: 0 },
        kafka: { topic: 'shop.shop.orders', offsets: { '0': '1234' } },
        madeAt,
      },
    );
    const table = new TableDirectory(join(dir, 'lake', 'shop', 'shop', 'orders'), silentLogger());
    await table.prepare();
    await table.publish(1, metadata);

    assert.deepEqual(await readLakeSnapshots(config, 'shop'), [{ table: 'shop.orders', madeAt: madeAt.getTime(), rows: 1234, position: '0-1-77' }]);
    const report = await collectStatus(config, { timeoutMs: 500 });
    const shop = report.sources[0]!;
    assert.equal(Math.round(shop.lake![0]!.ageSeconds / 60), 10);
    assert.match(formatStatus(report), /\n {2}lake\n {4}table +rows +age +position\n {4}shop\.orders +1234 +10m0\ds +0-1-77$/);
  });

  it('shows nothing for a config without a lake', async () => {
    const report = await collectStatus(loadConfig(configFile(false)), { timeoutMs: 500 });
    assert.equal(report.sources[0]!.lake, undefined);
    assert.doesNotMatch(formatStatus(report), /^ {2}lake/m);
  });

  it('says when the metadata cannot be read', async () => {
    writeFileSync(join(dir, 'lake', 'shop', 'shop', 'orders', 'metadata', 'version-hint.text'), 'garbage\n');
    const report = await collectStatus(loadConfig(configFile(true)), { timeoutMs: 500 });
    assert.match(report.sources[0]!.lakeError ?? '', /does not hold a version number/);
    assert.match(formatStatus(report), /lake {2}unreadable: .*version-hint\.text does not hold a version number/);
  });
});
