import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatAge, formatBytes, formatStatus, formatStatusJson } from '../../src/status/format.js';
import type { StatusReport } from '../../src/status/report.js';

const report: StatusReport = {
  generatedAt: '2026-11-25T04:00:00.000Z',
  checkpoint: { path: '/var/lib/tributary/tributary.db', exists: true },
  ok: false,
  sources: [
    {
      name: 'pg',
      kind: 'postgres',
      endpoint: 'tributary@db1:5432/shop',
      stored: { position: '{"lsn":"0/1A2B3C"}', updatedAt: 0, ageSeconds: 12 },
      confirmed: { position: '{"lsn":"0/1A2B00"}', updatedAt: 0, ageSeconds: 73 },
      snapshot: {
        status: 'running',
        consistentPoint: '{"lsn":"0/100"}',
        tables: [
          { table: 'public.orders', status: 'done', rows: 120000, startedAt: 0, finishedAt: 1, ageSeconds: 3600 },
          { table: 'public.order_lines', status: 'running', rows: 5, startedAt: 0, finishedAt: null, ageSeconds: 2 },
        ],
      },
      server: {
        kind: 'postgres',
        slot: 'tributary_pg',
        exists: true,
        active: true,
        currentLsn: '0/1A3000',
        confirmedFlushLsn: '0/1A2B00',
        restartLsn: '0/190000',
        retainedWalBytes: 1_245_184,
        lagBytes: 5376,
        storedLagBytes: 5316,
        walStatus: 'reserved',
      },
      lake: [{ table: 'public.orders', madeAt: 0, rows: 119_000, position: '{"lsn":"0/1A0000"}', ageSeconds: 320 }],
    },
    {
      name: 'maria',
      kind: 'mysql',
      endpoint: 'root@127.0.0.1:3306',
      stored: { position: '{"file":"bin.000002","pos":500,"gtids":"0-1-9","skip":0}', updatedAt: 0, ageSeconds: 1 },
      confirmed: null,
      snapshot: { status: 'none', consistentPoint: null, tables: [] },
      server: {
        kind: 'mysql',
        currentFile: 'bin.000003',
        currentPos: 700,
        gtids: '0-1-12',
        storedFile: 'bin.000002',
        storedPos: 500,
        distance: { bytes: 1700, files: 1, purged: false },
      },
    },
    {
      name: 'gone',
      kind: 'postgres',
      endpoint: 'u@nowhere:5432/x',
      stored: null,
      confirmed: null,
      snapshot: { status: 'none', consistentPoint: null, tables: [] },
      server: { kind: 'unreachable', error: 'connect ECONNREFUSED 127.0.0.1:5999' },
    },
  ],
};

describe('formatStatus', () => {
  it('prints one aligned block per source', () => {
    assert.equal(
      formatStatus(report),
      [
        'checkpoint /var/lib/tributary/tributary.db',
        '',
        'pg  postgres  tributary@db1:5432/shop',
        '  stored        {"lsn":"0/1A2B3C"}  (12s ago)',
        '  confirmed     {"lsn":"0/1A2B00"}  (1m13s ago)',
        '  slot          tributary_pg  active  wal_status=reserved',
        '  server lsn    0/1A3000',
        '  slot lsns     confirmed_flush 0/1A2B00  restart 0/190000',
        '  lag           5.3 KiB not confirmed; checkpoint 5.2 KiB behind the server',
        '  retained wal  1.2 MiB',
        '  snapshot      running, consistent at {"lsn":"0/100"}',
        '    table               status   rows    updated',
        '    public.orders       done     120000  1h00m ago',
        '    public.order_lines  running  5       2s ago',
        '  lake',
        '    table          rows    age    position',
        '    public.orders  119000  5m20s  {"lsn":"0/1A0000"}',
        '',
        'maria  mysql  root@127.0.0.1:3306',
        '  stored           {"file":"bin.000002","pos":500,"gtids":"0-1-9","skip":0}  (1s ago)',
        '  confirmed        -',
        '  server binlog    bin.000003:700  gtids 0-1-12',
        '  binlog distance  1.7 KiB behind (1 file later)',
        '  snapshot         none recorded',
        '',
        'gone  postgres  u@nowhere:5432/x',
        '  stored     -',
        '  confirmed  -',
        '  server     unreachable: connect ECONNREFUSED 127.0.0.1:5999',
        '  snapshot   none recorded',
      ].join('\n'),
    );
  });

  it('says when the slot does not exist, the binlog was purged or the checkpoint file is missing', () => {
    const text = formatStatus({
      ...report,
      checkpoint: { path: 'x.db', exists: false },
      sources: [
        { ...report.sources[0]!, lake: undefined, server: { kind: 'postgres', slot: 'tributary_pg', exists: false } },
        { ...report.sources[1]!, server: { kind: 'mysql', currentFile: 'bin.000009', currentPos: 4, gtids: null, storedFile: 'bin.000002', storedPos: 500, distance: { bytes: null, files: 3, purged: true } } },
      ],
    });
    assert.match(text, /^checkpoint x\.db \(not created yet/);
    assert.match(text, /slot +tributary_pg does not exist/);
    assert.match(text, /binlog bin\.000002 was purged: a restart needs a new snapshot/);
    assert.doesNotMatch(text, /lake/);
  });

  it('--json is the report itself', () => {
    assert.deepEqual(JSON.parse(formatStatusJson(report)), report);
  });
});

describe('formatAge and formatBytes', () => {
  it('formats', () => {
    assert.deepEqual([0, 59.9, 60, 3599, 3600, 86_399, 90_000].map(formatAge), ['0s', '59s', '1m00s', '59m59s', '1h00m', '23h59m', '1d01h']);
    assert.deepEqual([0, 1023, 1024, 1_245_184, 5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.0 KiB', '1.2 MiB', '5.0 GiB']);
  });
});
