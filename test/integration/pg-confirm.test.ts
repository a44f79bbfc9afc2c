import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransactionEvent } from '../../src/model/change.js';
import { decodePosition, Lsn } from '../../src/sources/postgres/position.js';
import { admin, sourceOptions, sql, startSource, streaming, uniqueName, waitFor } from '../support/postgres.js';

test('confirm() advances confirmed_flush_lsn to the confirmed position and never further', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  const source = startSource(sourceOptions({ tables: [{ name: table }], snapshot: 'never', heartbeatIntervalMs: 100 }));
  const client = await admin();
  const flushed = async (): Promise<Lsn> => {
    const result = await client.query<{ lsn: string }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [source.slot]);
    return Lsn.parse(result.rows[0]!.lsn);
  };
  /** Waits until the source has sent `count` more standby status updates. */
  const statusUpdates = async (count: number): Promise<void> => {
    const replyTime = async (): Promise<string> => {
      const result = await client.query<{ reply: string }>(
        `SELECT r.reply_time::text AS reply FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid
          WHERE s.slot_name = $1`,
        [source.slot],
      );
      return result.rows[0]?.reply ?? '';
    };
    for (let i = 0; i < count; i++) {
      const before = await replyTime();
      await waitFor(async () => (await replyTime()) !== before, 'a standby status update');
    }
  };
  try {
    await streaming(source);
    const initial = await flushed();
    await sql(`INSERT INTO ${table} VALUES (1)`, `INSERT INTO ${table} VALUES (2)`);
    const ends = (await source.reader.take(2, (event) => event.type === 'end')) as TransactionEvent[];
    await statusUpdates(3);
    assert.equal((await flushed()).toString(), initial.toString(), 'nothing confirmed: confirmed_flush_lsn stays');

    const firstEnd = decodePosition(ends[0]!.position).lsn;
    await source.source.confirm(ends[0]!.position);
    await waitFor(async () => (await flushed()).compare(firstEnd) === 0, 'confirmed_flush_lsn to reach the first commit');
    await statusUpdates(3);
    assert.equal((await flushed()).toString(), firstEnd.toString(), 'not beyond the confirmed position');

    const secondEnd = decodePosition(ends[1]!.position).lsn;
    await source.source.confirm(ends[1]!.position);
    await waitFor(async () => (await flushed()).compare(secondEnd) === 0, 'confirmed_flush_lsn to reach the second commit');
    await source.source.confirm(ends[0]!.position);
    await statusUpdates(2);
    assert.equal((await flushed()).toString(), secondEnd.toString(), 'an older position does not move it back');

    // WAL that no published table produces moves the server on; the source reports it as a heartbeat.
    await sql("SELECT pg_logical_emit_message(false, 'tributary-test', 'x')");
    const heartbeat = (await source.reader.take(1, (event) => event.type === 'heartbeat'))[0]!;
    await source.source.confirm(heartbeat.position);
    await waitFor(async () => (await flushed()).compare(decodePosition(heartbeat.position).lsn) === 0, 'a heartbeat position to be confirmed');
  } finally {
    await client.end();
    await source.cleanup();
    await sql(`DROP TABLE ${table}`);
  }
});

test('lagBytes() is the WAL the server holds beyond the confirmed position, and the source says when it streams', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  const activity: string[] = [];
  const source = startSource(sourceOptions({ tables: [{ name: table }], snapshot: 'never', heartbeatIntervalMs: 100, report: (a) => activity.push(a) }));
  try {
    await streaming(source);
    await waitFor(() => activity.length > 0, 'the source to report');
    assert.deepEqual(activity, ['streaming'], 'streaming as soon as the server streams: no event needed');
    await waitFor(() => source.source.lagBytes() !== undefined, 'a first lag measurement', 15_000);

    // 1 MB of WAL and nothing confirmed: the lag grows past it.
    const client = await admin();
    const emitted = await client.query<{ lsn: string }>("SELECT pg_logical_emit_message(true, 'tributary-lag-test', repeat('x', 1000000))::text AS lsn");
    await client.end();
    const message = Lsn.parse(emitted.rows[0]!.lsn);
    await waitFor(() => (source.source.lagBytes() ?? 0) >= 1_000_000, `the lag to reach 1 MB (at ${source.source.lagBytes()})`, 15_000);

    // Confirming a heartbeat past the message takes it back out.
    const read = await source.reader.until((event) => event.type === 'heartbeat' && decodePosition(event.position).lsn.compare(message) >= 0);
    await source.source.confirm(read.at(-1)!.position);
    await waitFor(() => source.source.lagBytes()! < 1_000_000, `the lag to drop under 1 MB (at ${source.source.lagBytes()})`, 15_000);
    assert.deepEqual(activity, ['streaming']);
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}`);
  }
});
