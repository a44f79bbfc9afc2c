/**
 * `runChecks` against the real local servers. Bad server settings cannot be produced on shared servers, so
 * those are unit-tested on the judges; here: the good path and the problems we can create safely.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { formatReport, runChecks, type CheckProblem, type CheckReport } from '../../src/check/index.js';
import { parseConfig, type Config } from '../../src/config/index.js';

const suffix = randomBytes(4).toString('hex');
const table = `tributary_check_${suffix}`;
const role = `tributary_check_norepl_${suffix}`;

interface Options {
  pgTable?: string;
  pgColumns?: string;
  pgUser?: string;
  pgDatabase?: string;
  myTable?: string;
  myPort?: number;
  brokers?: string;
  registry?: string;
}

function config(options: Options = {}): Config {
  return parseConfig(
    `
sources:
  - name: pg_${suffix}
    kind: postgres
    connection: { database: ${options.pgDatabase ?? 'test'}, user: ${options.pgUser ?? 'postgres'} }
    tables:
      - name: ${options.pgTable ?? `public.${table}`}
        columns: { include: [${options.pgColumns ?? 'id, total'}] }
  - name: my_${suffix}
    kind: mysql
    connection: { user: root, port: ${options.myPort ?? 3306} }
    serverId: 5799
    tables:
      - name: ${options.myTable ?? `test.${table}`}
        key: [id]
kafka:
  brokers: [${options.brokers ?? '"127.0.0.1:9092"'}]
${options.registry ?? ''}
`,
    'integration.yaml',
    {},
  );
}

function problemsOf(report: CheckReport, servicePrefix: string): CheckProblem[] {
  return report.problems.filter((problem) => problem.service.startsWith(servicePrefix));
}

function find(report: CheckReport, pattern: RegExp): CheckProblem {
  const problem = report.problems.find((candidate) => pattern.test(candidate.problem));
  assert.ok(problem !== undefined, `no problem matching ${pattern} in:\n${formatReport(report)}`);
  return problem;
}

let postgres: pg.Client;
let mariadb: mysql.Connection;

before(async () => {
  postgres = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await postgres.connect();
  await postgres.query(`CREATE TABLE public.${table} (id int PRIMARY KEY, total numeric(10,2), note text)`);
  await postgres.query(`CREATE ROLE ${role} LOGIN`);
  mariadb = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
  await mariadb.query(`CREATE TABLE test.${table} (id INT PRIMARY KEY, total DECIMAL(10,2), note TEXT)`);
});

after(async () => {
  await postgres.query(`DROP TABLE IF EXISTS public.${table}`);
  await postgres.query(`DROP ROLE IF EXISTS ${role}`);
  await postgres.end();
  await mariadb.query(`DROP TABLE IF EXISTS test.${table}`);
  await mariadb.end();
});

describe('runChecks against the local stack', () => {
  it('passes a good configuration, listing every service', async () => {
    const report = await runChecks(config());
    assert.deepEqual(report.problems, [], formatReport(report));
    assert.equal(report.ok, true);
    assert.deepEqual(report.services, [`source pg_${suffix} (postgres 127.0.0.1:5432/test)`, `source my_${suffix} (mysql 127.0.0.1:3306)`, 'kafka']);
    assert.match(formatReport(report), /^All checks passed\.$/m);
  });

  it('reports a missing table on each source by key path', async () => {
    const report = await runChecks(config({ pgTable: `public.${table}_missing`, myTable: `test.${table}_missing` }));
    assert.equal(report.ok, false);
    const pgProblem = find(report, /^sources\[0\]\.tables\[0\]\.name: table public\.\S+_missing does not exist in database test$/);
    assert.match(pgProblem.fix, /correct sources\[0\]\.tables\[0\]\.name/);
    const myProblem = find(report, /^sources\[1\]\.tables\[0\]\.name: table test\.\S+_missing does not exist on this server$/);
    assert.match(myProblem.fix, /correct sources\[1\]\.tables\[0\]\.name/);
    assert.equal(report.problems.length, 2, formatReport(report));
  });

  it('reports a missing column by key path', async () => {
    const report = await runChecks(config({ pgColumns: 'id, totl' }));
    const problem = find(report, /^sources\[0\]\.tables\[0\]\.columns\.include: column "totl" does not exist/);
    assert.match(problem.problem, /it has id, total, note/);
    assert.match(problem.fix, /remove "totl" from sources\[0\]\.tables\[0\]\.columns\.include/);
    assert.equal(report.problems.length, 1, formatReport(report));
  });

  it('reports a PostgreSQL role without REPLICATION, and its missing SELECT', async () => {
    const report = await runChecks(config({ pgUser: role }));
    const replication = find(report, new RegExp(`role ${role} \\(sources\\[0\\]\\.connection\\.user\\) has no REPLICATION`));
    assert.equal(replication.fix, `run ALTER ROLE ${role} REPLICATION; as a superuser`);
    const select = find(report, new RegExp(`user ${role} cannot SELECT from public\\.${table}`));
    assert.equal(select.fix, `run GRANT SELECT ON public.${table} TO ${role};`);
    assert.deepEqual(problemsOf(report, 'source my_'), []);
  });

  it('reports an unreachable Kafka broker within the timeout', async () => {
    const started = Date.now();
    const report = await runChecks(config({ brokers: '"127.0.0.1:1"' }), { timeoutMs: 3000 });
    const problems = problemsOf(report, 'kafka');
    assert.equal(problems.length, 1, formatReport(report));
    assert.match(problems[0]?.problem ?? '', /no broker answered a metadata request at kafka\.brokers \(127\.0\.0\.1:1\)/);
    assert.match(problems[0]?.fix ?? '', /check kafka\.brokers/);
    assert.ok(Date.now() - started < 10_000);
  });

  it('reports MariaDB on a wrong port', async () => {
    const report = await runChecks(config({ myPort: 1 }));
    const problems = problemsOf(report, 'source my_');
    assert.equal(problems.length, 1, formatReport(report));
    assert.match(problems[0]?.problem ?? '', /cannot reach MySQL\/MariaDB at 127\.0\.0\.1:1/);
    assert.match(problems[0]?.fix ?? '', /check sources\[1\]\.connection\.host and sources\[1\]\.connection\.port/);
    assert.deepEqual(problemsOf(report, 'source pg_'), []);
  });

  it('reports a PostgreSQL database that does not exist', async () => {
    const database = `tributary_no_such_db_${suffix}`;
    const report = await runChecks(config({ pgDatabase: database }));
    const problems = problemsOf(report, 'source pg_');
    assert.equal(problems.length, 1, formatReport(report));
    assert.match(problems[0]?.problem ?? '', new RegExp(`the database ${database} does not exist`));
    assert.match(problems[0]?.fix ?? '', /correct sources\[0\]\.connection\.database/);
  });

  it('reports an unreachable external registry', async () => {
    const report = await runChecks(config({ registry: 'registry: { mode: external, url: "http://127.0.0.1:1" }' }));
    const problems = problemsOf(report, 'schema registry');
    assert.equal(problems.length, 1, formatReport(report));
    assert.match(problems[0]?.problem ?? '', /cannot reach the registry at registry\.url/);
  });

  it('reports every failing service in one run', async () => {
    const report = await runChecks(config({ myPort: 1, pgDatabase: `tributary_no_such_db_${suffix}`, brokers: '"127.0.0.1:1"' }), { timeoutMs: 3000 });
    const services = report.problems.map((problem) => problem.service.replace(/^source (pg|my)_.*$/, '$1'));
    assert.deepEqual(services, ['pg', 'my', 'kafka'], formatReport(report));
  });
});
