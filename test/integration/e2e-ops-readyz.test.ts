/**
 * `/readyz` of a running `tributary run` while PostgreSQL goes away: the daemon's replication connection is
 * terminated on the server (the shared server itself keeps running for other tests), /readyz turns 503 with the
 * source reconnecting, then 200 once the source reconnected by itself, and the rows written meanwhile reach Kafka.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { opsUrl, readiness, ReadinessRecorder } from '../support/ops.js';
import { admin, dropSlotAndPublication, uniqueName, waitFor } from '../support/postgres.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

test('/readyz turns 503 when the PostgreSQL connection is lost and 200 after the source reconnects', async () => {
  const name = uniqueName('e2e_ops_readyz');
  const slot = `tributary_${name}`;
  const topic = `${name}.public.${name}`;
  const pg = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, note text)`);
  const config = writeDaemonConfig(
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: `public.${name}` }] }],
    registry.url,
  );
  const daemon = new Daemon(config);
  let recorder: ReadinessRecorder | undefined;
  try {
    const ops = await opsUrl(daemon);
    await daemon.waitForLog(/streaming changes/);
    await pg.query(`INSERT INTO ${name} VALUES (1, 'before')`);
    await waitFor(async () => (await readiness(ops)).status === 200, '/readyz to answer 200 while streaming');

    // Every distinct /readyz answer in order, from before the outage to after the recovery.
    recorder = new ReadinessRecorder(ops);
    const { seen } = recorder;
    await waitFor(() => seen.length > 0, 'the first /readyz sample');

    const terminated = await pg.query<{ done: boolean }>(
      'SELECT pg_terminate_backend(active_pid) AS done FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL',
      [slot],
    );
    assert.deepEqual(terminated.rows, [{ done: true }], 'the daemon held the slot and its backend was terminated');
    // Written while the source is down: they must arrive once it is back.
    await pg.query(`INSERT INTO ${name} SELECT g, 'during' FROM generate_series(2, 101) g`);

    await waitFor(() => recorder!.wentDownAndUp(), `/readyz to go 503 and back to 200 (seen ${JSON.stringify(seen)})`, 30_000);
    await recorder.stop();
    console.log(`# /readyz went through ${JSON.stringify(seen)}`);
    assert.equal(seen[0]?.status, 200);
    assert.ok(seen.some((r) => r.status === 503 && r.states === 'reconnecting'), 'unready because the source was reconnecting');
    assert.ok(daemon.logs.some((l) => /restarting from the last checkpoint/.test(l)), `no restart logged:\n${daemon.tail()}`);

    const records = await readDecoded<{ id: number }>(registry.url, topic, (r) => r.length >= 101, 30_000);
    const ids = new Set(records.map((r) => r.key!.id));
    for (let id = 1; id <= 101; id++) assert.ok(ids.has(id), `row ${id} is in Kafka`);
    assert.equal(await daemon.stop(), 0, daemon.tail());
  } finally {
    await recorder?.stop().catch(() => undefined);
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    await dropSlotAndPublication(slot, slot);
    await pg.query(`DROP TABLE IF EXISTS ${name}`);
    await pg.end();
  }
});
