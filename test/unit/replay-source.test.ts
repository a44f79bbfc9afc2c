import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent, PostgresSourceInfo, SourceEvent } from '../../src/model/change.js';
import { parseRowPosition } from '../../src/replay/checkpoint.js';
import { ReplaySource } from '../../src/replay/replay-source.js';
import type { KeyedRow, OpenSnapshot } from '../../src/replay/snapshot-reader.js';

const source: PostgresSourceInfo = {
  connector: 'postgresql', name: 'shop', tsMs: 0, snapshot: 'true', db: 'test', schema: 'public', table: 'orders',
  sequence: null, txId: null, lsn: 0x16b3748n, xmin: null,
};

function snapshot(ids: number[]): OpenSnapshot {
  return {
    schema: { id: { database: 'test', schema: 'public', table: 'orders' }, columns: [{ name: 'id', type: { kind: 'int32' }, nullable: false, sourceType: 'integer' }], key: ['id'] },
    position: { text: '0/16B3748', source },
    remainingRows: ids.length,
    resumable: true,
    async *rows(): AsyncGenerator<KeyedRow> {
      for (const id of ids) yield { row: { id }, key: JSON.stringify([String(id)]) };
    },
    async close() {},
  };
}

async function collect(events: AsyncIterable<SourceEvent>): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  for await (const event of events) out.push(event as ChangeEvent);
  return out;
}

test('snapshot read events: op r, snapshot true, last on the final row, the snapshot position, counted positions', async () => {
  const replay = new ReplaySource(snapshot([1, 2, 3]), { rowsBefore: 10, now: () => 1234 });
  const events = await collect(replay.events(new AbortController().signal));
  assert.deepEqual(events.map((e) => [e.op, e.before, e.after, e.source.snapshot]), [
    ['r', null, { id: 1 }, 'true'],
    ['r', null, { id: 2 }, 'true'],
    ['r', null, { id: 3 }, 'last'],
  ]);
  for (const event of events) {
    assert.equal((event.source as PostgresSourceInfo).lsn, 0x16b3748n);
    assert.equal(event.source.tsMs, 1234);
  }
  assert.deepEqual(events.map((e) => parseRowPosition(e.position)), [
    { rows: 11, key: '["1"]', last: false },
    { rows: 12, key: '["2"]', last: false },
    { rows: 13, key: '["3"]', last: true },
  ]);
  assert.equal(replay.rows, 3);
});

test('an empty snapshot yields nothing; an aborted one yields no last row', async () => {
  assert.deepEqual(await collect(new ReplaySource(snapshot([]), { rowsBefore: 0, now: Date.now }).events(new AbortController().signal)), []);
  const abort = new AbortController();
  const replay = new ReplaySource(snapshot([1, 2, 3, 4]), { rowsBefore: 0, now: Date.now });
  const seen: ChangeEvent[] = [];
  for await (const event of replay.events(abort.signal)) {
    seen.push(event as ChangeEvent);
    if (seen.length === 2) abort.abort();
  }
  assert.ok(seen.every((e) => e.source.snapshot === 'true'));
});
