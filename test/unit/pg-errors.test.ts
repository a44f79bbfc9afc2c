import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError, SourceError } from '../../src/model/errors.js';
import { translatePgError, walLevelError } from '../../src/sources/postgres/errors.js';

const pgError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

test('wal_level error says what to set', () => {
  const error = walLevelError('replica');
  assert.match(error.message, /wal_level is "replica"/);
  assert.match(error.fix ?? '', /wal_level = logical/);
  assert.match(translatePgError(pgError('55000', 'logical decoding requires wal_level >= logical'), 'x').message, /wal_level/);
});

test('driver errors become errors that name the problem and the fix', () => {
  const noReplication = translatePgError(pgError('42501', 'must be superuser or replication role to start walsender'), 'connecting', { user: 'app' });
  assert.ok(noReplication instanceof SourceError);
  assert.match(noReplication.fix ?? '', /ALTER ROLE "app" WITH REPLICATION/);

  const active = translatePgError(pgError('55006', 'replication slot "s1" is active for PID 4242'), 'streaming', { slot: 's1' });
  assert.match(active.message, /"s1" is in use by another process \(pid 4242\)/);
  assert.equal(active.retriable, true);

  const dropped = translatePgError(pgError('57P01', 'terminating connection due to administrator command'), 'streaming');
  assert.ok(dropped instanceof ConnectionError);
  assert.equal(dropped.retriable, true);

  const login = translatePgError(pgError('28P01', 'password authentication failed'), 'connecting');
  assert.match(login.fix ?? '', /connection\.user/);
  assert.equal(login.retriable, false);

  const other = translatePgError(pgError('42P07', 'relation exists'), 'doing a thing');
  assert.match(other.message, /while doing a thing: relation exists \(42P07\)/);
});
