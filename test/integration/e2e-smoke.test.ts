import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { admin, dropSlotAndPublication, uniqueName } from '../support/postgres.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

test('tributary run streams a PostgreSQL table to Kafka and exits 0 on SIGTERM', async () => {
  const name = uniqueName('e2e_smoke');
  const pg = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, note text)`);
  await pg.query(`INSERT INTO ${name} VALUES (1, 'snapshot')`);
  const config = writeDaemonConfig(
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: `public.${name}` }] }],
    registry.url,
  );
  const daemon = new Daemon(config);
  try {
    await daemon.waitForLog(/streaming changes/);
    await pg.query(`UPDATE ${name} SET note = 'streamed' WHERE id = 1`);
    const records = await readDecoded(registry.url, `${name}.public.${name}`, (r) => r.length >= 2);
    assert.deepEqual(records.map((r) => [r.value?.op, r.value?.after]), [
      ['r', { id: 1, note: 'snapshot' }],
      ['u', { id: 1, note: 'streamed' }],
    ]);
    assert.equal(await daemon.stop(), 0);
  } finally {
    if (daemon.running) daemon.kill('SIGKILL');
    await dropSlotAndPublication(`tributary_${name}`, `tributary_${name}`);
    await pg.query(`DROP TABLE ${name}`);
    await pg.end();
  }
});
