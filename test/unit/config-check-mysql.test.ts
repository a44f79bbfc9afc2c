import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeMysql, parseGrants, type MysqlFacts } from '../../src/check/mysql-judge.js';
import type { CheckProblem } from '../../src/check/report.js';
import { parseConfig, type MysqlSourceConfig } from '../../src/config/index.js';

function mysqlSource(extra = ''): MysqlSourceConfig {
  const config = parseConfig(
    `
sources:
  - name: shop
    kind: mysql
    connection: { user: cdc }
    serverId: 5701${extra}
    tables:
      - name: shop.orders
        columns: { exclude: [secret] }
kafka: { brokers: ["127.0.0.1:9092"] }
`,
    'c.yaml',
    {},
  );
  const [first] = config.sources;
  assert.ok(first?.kind === 'mysql');
  return first;
}

const source = mysqlSource();

const good: MysqlFacts = {
  version: '10.11.6-MariaDB-0+deb12u1',
  variables: { log_bin: 'ON', binlog_format: 'ROW', binlog_row_image: 'FULL', binlog_row_metadata: 'FULL', server_id: '1' },
  grants: ["GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdc`@`%` IDENTIFIED BY PASSWORD '*ABC'"],
  tables: [{ name: 'shop.orders', kind: 'table', columns: ['id', 'secret'], primaryKey: ['id'], canSelect: true }],
};

function only(problems: CheckProblem[]): CheckProblem {
  assert.equal(problems.length, 1, `expected one problem, got ${JSON.stringify(problems, null, 2)}`);
  const [problem] = problems;
  assert.ok(problem !== undefined);
  assert.equal(problem.service, 'source shop (mysql 127.0.0.1:3306)');
  return problem;
}

const withVariable = (name: string, value: string | undefined): MysqlFacts => {
  const variables: Record<string, string> = { ...good.variables };
  if (value === undefined) delete variables[name];
  else variables[name] = value;
  return { ...good, variables };
};

describe('judgeMysql', () => {
  it('finds nothing wrong with good facts', () => {
    assert.deepEqual(judgeMysql(source, 0, good), []);
  });

  it('log_bin OFF: names log_bin and the [mariadbd] section', () => {
    const problem = only(judgeMysql(source, 0, withVariable('log_bin', 'OFF')));
    assert.match(problem.problem, /log_bin is OFF/);
    assert.match(problem.fix, /log_bin = mysql-bin under \[mariadbd\] in my\.cnf/);
  });

  it('binlog_format MIXED: names the setting, SET GLOBAL and my.cnf', () => {
    const problem = only(judgeMysql(source, 0, withVariable('binlog_format', 'MIXED')));
    assert.match(problem.problem, /binlog_format is MIXED/);
    assert.match(problem.fix, /SET GLOBAL binlog_format = 'ROW'/);
    assert.match(problem.fix, /binlog_format = ROW under \[mariadbd\] in my\.cnf/);
  });

  it('binlog_row_image MINIMAL: names the setting and SET GLOBAL', () => {
    const problem = only(judgeMysql(source, 0, withVariable('binlog_row_image', 'MINIMAL')));
    assert.match(problem.problem, /binlog_row_image is MINIMAL/);
    assert.match(problem.fix, /SET GLOBAL binlog_row_image = 'FULL'/);
  });

  it('binlog_row_metadata MINIMAL: names the setting and SET GLOBAL', () => {
    const problem = only(judgeMysql(source, 0, withVariable('binlog_row_metadata', 'MINIMAL')));
    assert.match(problem.problem, /binlog_row_metadata is MINIMAL/);
    assert.match(problem.fix, /SET GLOBAL binlog_row_metadata = 'FULL'.*\[mariadbd\]/);
  });

  it('no binlog_row_metadata at all: asks for an upgrade', () => {
    const problem = only(judgeMysql(source, 0, withVariable('binlog_row_metadata', undefined)));
    assert.match(problem.problem, /has no binlog_row_metadata/);
    assert.match(problem.fix, /MariaDB 10\.5\+/);
  });

  it('MySQL uses the [mysqld] section in fixes', () => {
    const mysql8: MysqlFacts = {
      ...good,
      version: '8.0.36',
      variables: { ...good.variables, binlog_format: 'STATEMENT', gtid_mode: 'ON' },
      grants: ['GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO `cdc`@`%`'],
    };
    const problem = only(judgeMysql(source, 0, mysql8));
    assert.match(problem.fix, /binlog_format = ROW under \[mysqld\]/);
  });

  it('serverId equal to the server_id: names sources[0].serverId', () => {
    const problem = only(judgeMysql(source, 0, withVariable('server_id', '5701')));
    assert.match(problem.problem, /^sources\[0\]\.serverId is 5701/);
    assert.match(problem.fix, /set sources\[0\]\.serverId/);
  });

  it('server_id 0: names server_id', () => {
    const problem = only(judgeMysql(source, 0, withVariable('server_id', '0')));
    assert.match(problem.problem, /server_id is 0/);
    assert.match(problem.fix, /server_id = 1/);
  });

  it('gtid on MySQL without gtid_mode: names sources[0].gtid', () => {
    const problem = only(
      judgeMysql(source, 0, { ...good, version: '8.0.36', variables: { ...good.variables, gtid_mode: 'OFF' }, grants: ['GRANT ALL PRIVILEGES ON *.* TO `cdc`@`%`'] }),
    );
    assert.match(problem.problem, /sources\[0\]\.gtid is true but the server's gtid_mode is OFF/);
    assert.match(problem.fix, /gtid: false/);
    assert.deepEqual(judgeMysql(mysqlSource('\n    gtid: false'), 0, { ...good, version: '8.0.36', variables: { ...good.variables, gtid_mode: 'OFF' }, grants: ['GRANT ALL PRIVILEGES ON *.* TO `cdc`@`%`'] }), []);
  });

  it('missing REPLICATION SLAVE: names the user and the GRANT', () => {
    const problem = only(judgeMysql(source, 0, { ...good, grants: ['GRANT SELECT, BINLOG MONITOR ON *.* TO `cdc`@`%`'] }));
    assert.match(problem.problem, /user cdc \(sources\[0\]\.connection\.user\) lacks REPLICATION SLAVE/);
    assert.equal(problem.fix, "run GRANT REPLICATION SLAVE ON *.* TO 'cdc'@'%';");
  });

  it('missing REPLICATION CLIENT / BINLOG MONITOR: names the privilege', () => {
    const problem = only(judgeMysql(source, 0, { ...good, grants: ['GRANT SELECT, REPLICATION SLAVE ON *.* TO `cdc`@`%`'] }));
    assert.match(problem.problem, /lacks BINLOG MONITOR/);
    assert.match(problem.fix, /GRANT BINLOG MONITOR ON \*\.\*/);
  });

  it('no SELECT on the table: names the table and the GRANT', () => {
    const grants = ['GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdc`@`%`', 'GRANT SELECT ON `other`.* TO `cdc`@`%`'];
    const problem = only(judgeMysql(source, 0, { ...good, grants }));
    assert.match(problem.problem, /cannot SELECT from shop\.orders/);
    assert.equal(problem.fix, "run GRANT SELECT ON shop.orders TO 'cdc'@'%';");
  });

  it('missing table and missing excluded column: each named by key path', () => {
    const missingTable = only(judgeMysql(source, 0, { ...good, tables: [] }));
    assert.equal(missingTable.problem, 'sources[0].tables[0].name: table shop.orders does not exist on this server');
    const missingColumn = only(judgeMysql(source, 0, { ...good, tables: [{ ...good.tables[0]!, columns: ['id'] }] }));
    assert.match(missingColumn.problem, /^sources\[0\]\.tables\[0\]\.columns\.exclude: column "secret" does not exist in shop\.orders/);
  });
});

describe('parseGrants', () => {
  it('understands ALL PRIVILEGES, database and table grants, column grants and the old privilege names', () => {
    const all = parseGrants(['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION']);
    assert.ok(all.has('REPLICATION SLAVE', '*.*') && all.has('BINLOG MONITOR', '*.*') && all.canSelect('a.b'));

    const scoped = parseGrants([
      'GRANT USAGE ON *.* TO `u`@`%`',
      'GRANT SELECT ON `shop`.* TO `u`@`%`',
      'GRANT SELECT (`id`, `total`) ON `crm`.`orders` TO `u`@`%`',
      'GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `u`@`%`',
    ]);
    assert.ok(scoped.canSelect('shop.anything'));
    assert.ok(scoped.canSelect('crm.orders'));
    assert.ok(!scoped.canSelect('crm.customers'));
    assert.ok(scoped.has('BINLOG MONITOR', '*.*'));
    assert.ok(scoped.has('REPLICATION SLAVE', '*.*'));
    assert.ok(!parseGrants(['GRANT USAGE ON *.* TO `u`@`%`']).has('REPLICATION SLAVE', '*.*'));
  });
});
