import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError, SourceError } from '../../src/model/errors.js';
import { classifyMysqlError, flavorOf, judgeServerVariables, missingBinlogError } from '../../src/sources/mysql/errors.js';

const FIT = {
  log_bin: 'ON',
  binlog_format: 'ROW',
  binlog_row_image: 'FULL',
  binlog_row_metadata: 'FULL',
  binlog_transaction_compression: 'OFF',
  binlog_row_value_options: '',
};

test('a server with every binlog requirement met passes', () => {
  assert.deepEqual(judgeServerVariables(FIT, 'mariadb'), []);
  assert.deepEqual(judgeServerVariables({ ...FIT, binlog_format: 'row' }, 'mysql'), []);
  const { binlog_transaction_compression: _omitted, binlog_row_value_options: _omitted2, ...older } = FIT;
  assert.deepEqual(judgeServerVariables(older, 'mysql'), [], 'MySQL before 8.0.3 has neither variable');
});

test('each unmet requirement names the variable and the fix', () => {
  const cases: [Record<string, string>, 'mariadb' | 'mysql', string, RegExp][] = [
    [{ binlog_format: 'MIXED' }, 'mariadb', 'binlog_format', /SET GLOBAL binlog_format = 'ROW'.*my\.cnf/],
    [{ binlog_row_image: 'MINIMAL' }, 'mysql', 'binlog_row_image', /SET GLOBAL binlog_row_image = 'FULL'/],
    [{ binlog_row_metadata: 'NO_LOG' }, 'mariadb', 'binlog_row_metadata', /SET GLOBAL binlog_row_metadata = 'FULL'/],
    [{ binlog_transaction_compression: 'ON' }, 'mysql', 'binlog_transaction_compression', /'OFF'/],
    [{ log_bin: 'OFF' }, 'mariadb', 'log_bin', /my\.cnf and restart/],
    [{ binlog_row_value_options: 'PARTIAL_JSON' }, 'mysql', 'binlog_row_value_options', /SET GLOBAL binlog_row_value_options = ''/],
  ];
  for (const [change, flavor, variable, fix] of cases) {
    const problems = judgeServerVariables({ ...FIT, ...change }, flavor);
    assert.equal(problems.length, 1, variable);
    assert.ok(problems[0] instanceof SourceError);
    assert.match(problems[0]!.message, new RegExp(`^server variable ${variable} is`));
    assert.match(problems[0]!.fix ?? '', fix);
  }
  assert.deepEqual(judgeServerVariables({ ...FIT, binlog_transaction_compression: 'ON' }, 'mariadb'), [], 'MySQL-only');
  assert.match(judgeServerVariables({ ...FIT, binlog_row_value_options: 'PARTIAL_JSON' }, 'mysql')[0]!.message, /is PARTIAL_JSON, must be '' \(empty\)/);
  assert.equal(judgeServerVariables({}, 'mariadb').length, 4);
});

test('server flavour comes from the version string', () => {
  assert.equal(flavorOf('10.11.19-MariaDB-0+deb12u1-log'), 'mariadb');
  assert.equal(flavorOf('8.0.36'), 'mysql');
});

test('binlog errors become errors that say what to do', () => {
  const purged = classifyMysqlError(Object.assign(new Error('Could not find first log file name in binary log index file'), { errno: 1236 }), 'reading');
  assert.ok(purged instanceof SourceError && !purged.retriable);
  assert.match(purged.fix ?? '', /delete this source's checkpoint/);
  const gtid = classifyMysqlError(Object.assign(new Error('GTID 0-1-99 not in binlog'), { errno: 1236 }), 'reading');
  assert.ok(gtid instanceof SourceError);
  const lost = classifyMysqlError(Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }), 'reading');
  assert.ok(lost instanceof ConnectionError && lost.retriable);
  const login = classifyMysqlError(Object.assign(new Error('Access denied for user'), { errno: 1045 }), 'connecting');
  assert.match((login as SourceError).fix ?? '', /connection\.password/);
  const denied = classifyMysqlError(Object.assign(new Error('Access denied; you need the REPLICATION SLAVE privilege'), { errno: 1227 }), 'reading');
  assert.match((denied as SourceError).fix ?? '', /REPLICATION SLAVE/);
  const other = new Error('something else');
  assert.equal(classifyMysqlError(other, 'x'), other);
});

test('a checkpoint in a purged binlog is reported with the way out', () => {
  assert.equal(missingBinlogError(['b.000002', 'b.000003'], 'b.000003'), null);
  const error = missingBinlogError(['b.000002', 'b.000003'], 'b.000001');
  assert.ok(error instanceof SourceError);
  assert.match(error.message, /b\.000001.*oldest kept: b\.000002/);
  assert.match(error.fix ?? '', /delete this source's checkpoint/);
});
