import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgePostgres, type PostgresFacts, type PostgresTableFacts } from '../../src/check/postgres-judge.js';
import type { CheckProblem } from '../../src/check/report.js';
import { parseConfig, type PostgresSourceConfig } from '../../src/config/index.js';

const source = ((): PostgresSourceConfig => {
  const config = parseConfig(
    `
sources:
  - name: inventory
    kind: postgres
    connection: { database: test, user: cdc }
    tables:
      - name: public.orders
        columns: { include: [id, total] }
      - name: public.events
        key: [event_id]
kafka: { brokers: ["127.0.0.1:9092"] }
`,
    'c.yaml',
    {},
  );
  const [first] = config.sources;
  assert.ok(first?.kind === 'postgres');
  return first;
})();

const orders: PostgresTableFacts = {
  name: 'public.orders',
  kind: 'table',
  columns: ['id', 'total', 'note'],
  primaryKey: ['id'],
  canSelect: true,
  replicaIdentity: 'd',
};
const events: PostgresTableFacts = {
  name: 'public.events',
  kind: 'table',
  columns: ['event_id', 'payload'],
  primaryKey: [],
  canSelect: true,
  replicaIdentity: 'f',
};

const good: PostgresFacts = {
  settings: { wal_level: 'logical', max_replication_slots: '10', max_wal_senders: '10' },
  role: { name: 'cdc', superuser: false, replication: true },
  slots: [{ name: 'other', plugin: 'pgoutput', database: 'test', active: true }],
  walSendersInUse: 1,
  tables: [orders, events],
};

function only(problems: CheckProblem[]): CheckProblem {
  assert.equal(problems.length, 1, `expected one problem, got ${JSON.stringify(problems, null, 2)}`);
  const [problem] = problems;
  assert.ok(problem !== undefined);
  assert.equal(problem.service, 'source inventory (postgres 127.0.0.1:5432/test)');
  return problem;
}

describe('judgePostgres', () => {
  it('finds nothing wrong with good facts', () => {
    assert.deepEqual(judgePostgres(source, 0, good), []);
  });

  it('wal_level replica: names the setting and ALTER SYSTEM + restart', () => {
    const problem = only(judgePostgres(source, 0, { ...good, settings: { ...good.settings, wal_level: 'replica' } }));
    assert.equal(problem.severity, 'error');
    assert.match(problem.problem, /wal_level is replica/);
    assert.match(problem.fix, /ALTER SYSTEM SET wal_level = logical/);
    assert.match(problem.fix, /restart/);
  });

  it('role without REPLICATION: names the role, the key and ALTER ROLE', () => {
    const problem = only(judgePostgres(source, 0, { ...good, role: { name: 'cdc', superuser: false, replication: false } }));
    assert.match(problem.problem, /role cdc \(sources\[0\]\.connection\.user\) has no REPLICATION/);
    assert.equal(problem.fix, 'run ALTER ROLE cdc REPLICATION; as a superuser');
  });

  it('a superuser needs no REPLICATION attribute', () => {
    assert.deepEqual(judgePostgres(source, 0, { ...good, role: { name: 'cdc', superuser: true, replication: false } }), []);
  });

  it('all replication slots taken: names max_replication_slots and the idle slots to drop', () => {
    const slots = [
      { name: 'a', plugin: 'pgoutput', database: 'test', active: true },
      { name: 'stale', plugin: 'pgoutput', database: 'x', active: false },
    ];
    const problem = only(
      judgePostgres(source, 0, { ...good, slots, settings: { ...good.settings, max_replication_slots: '2' }, walSendersInUse: 1 }),
    );
    assert.match(problem.problem, /max_replication_slots is 2/);
    assert.match(problem.fix, /max_replication_slots = 3/);
    assert.match(problem.fix, /pg_drop_replication_slot\('stale'\)/);
  });

  it('an existing slot of ours needs no free slot', () => {
    const slots = [{ name: 'tributary_inventory', plugin: 'pgoutput', database: 'test', active: false }];
    assert.deepEqual(judgePostgres(source, 0, { ...good, slots, settings: { ...good.settings, max_replication_slots: '1' } }), []);
  });

  it('our slot name taken by another plugin: names sources[0].slot', () => {
    const slots = [{ name: 'tributary_inventory', plugin: 'test_decoding', database: 'test', active: false }];
    const problem = only(judgePostgres(source, 0, { ...good, slots }));
    assert.match(problem.problem, /^sources\[0\]\.slot: .*test_decoding/);
    assert.match(problem.fix, /pg_drop_replication_slot\('tributary_inventory'\)/);
  });

  it('our slot active elsewhere is a warning', () => {
    const slots = [{ name: 'tributary_inventory', plugin: 'pgoutput', database: 'test', active: true }];
    const problem = only(judgePostgres(source, 0, { ...good, slots }));
    assert.equal(problem.severity, 'warning');
    assert.match(problem.problem, /in use by another connection/);
  });

  it('all WAL senders busy: names max_wal_senders', () => {
    const problem = only(judgePostgres(source, 0, { ...good, walSendersInUse: 10 }));
    assert.match(problem.problem, /max_wal_senders is 10/);
    assert.match(problem.fix, /max_wal_senders = 11/);
  });

  it('missing table: names the table and its key path', () => {
    const problem = only(judgePostgres(source, 0, { ...good, tables: [events] }));
    assert.equal(problem.problem, 'sources[0].tables[0].name: table public.orders does not exist in database test');
    assert.match(problem.fix, /create public\.orders, or correct sources\[0\]\.tables\[0\]\.name/);
  });

  it('table found only with other letter case: suggests the real name', () => {
    const problem = only(judgePostgres(source, 0, { ...good, tables: [{ ...orders, name: 'public.Orders' }, events] }));
    assert.match(problem.fix, /set sources\[0\]\.tables\[0\]\.name to public\.Orders/);
  });

  it('missing included column: names the column, the key path and the existing columns', () => {
    const problem = only(judgePostgres(source, 0, { ...good, tables: [{ ...orders, columns: ['id', 'note'] }, events] }));
    assert.match(problem.problem, /^sources\[0\]\.tables\[0\]\.columns\.include: column "total" does not exist in public\.orders \(it has id, note\)/);
    assert.match(problem.fix, /remove "total" from sources\[0\]\.tables\[0\]\.columns\.include/);
  });

  it('missing key column: names tables[1].key', () => {
    const problem = only(judgePostgres(source, 0, { ...good, tables: [orders, { ...events, columns: ['id', 'payload'] }] }));
    assert.match(problem.problem, /^sources\[0\]\.tables\[1\]\.key: column "event_id"/);
  });

  it('table without primary key or configured key: a warning asking for key', () => {
    const keyless = parseConfig(
      'sources: [{ name: inventory, kind: postgres, connection: { database: test, user: cdc }, tables: [{ name: public.events }] }]\nkafka: { brokers: ["k:9092"] }',
      'c.yaml',
      {},
    ).sources[0] as PostgresSourceConfig;
    const problem = only(judgePostgres(keyless, 0, { ...good, tables: [events] }));
    assert.equal(problem.severity, 'warning');
    assert.match(problem.problem, /public\.events has no primary key and no key is configured/);
    assert.match(problem.fix, /set sources\[0\]\.tables\[0\]\.key/);
  });

  it('keyless table with REPLICA IDENTITY DEFAULT: an error, since updates would fail in the database', () => {
    const problem = only(judgePostgres(source, 0, { ...good, tables: [orders, { ...events, replicaIdentity: 'd' }] }));
    assert.equal(problem.severity, 'error');
    assert.match(problem.problem, /REPLICA IDENTITY DEFAULT/);
    assert.equal(problem.fix, 'run ALTER TABLE public.events REPLICA IDENTITY FULL; (or add a primary key)');
  });

  it('a view: names the table and says it is a view', () => {
    const problem = only(judgePostgres(source, 0, { ...good, tables: [{ ...orders, kind: 'view' }, events] }));
    assert.match(problem.problem, /public\.orders is a view/);
  });

  it('no SELECT privilege: names the user and the GRANT', () => {
    const problem = only(judgePostgres(source, 0, { ...good, tables: [{ ...orders, canSelect: false }, events] }));
    assert.match(problem.problem, /user cdc cannot SELECT from public\.orders/);
    assert.equal(problem.fix, 'run GRANT SELECT ON public.orders TO cdc;');
  });

  it('reports every problem, not just the first', () => {
    const problems = judgePostgres(source, 0, {
      ...good,
      settings: { ...good.settings, wal_level: 'minimal' },
      role: { name: 'cdc', superuser: false, replication: false },
      tables: [],
    });
    assert.equal(problems.length, 4);
  });
});
