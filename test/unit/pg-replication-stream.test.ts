import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { ReplicationStream } from '../../src/sources/postgres/connection.js';
import { Lsn } from '../../src/sources/postgres/position.js';
import { silentLogger } from '../../src/ops/logger.js';

/** A stand-in for a pg.Client in CopyBoth mode: records what is sent and whether the socket is paused. */
class FakeClient extends EventEmitter {
  readonly sent: Buffer[] = [];
  readonly queries: string[] = [];
  paused = false;
  readonly connection = Object.assign(new EventEmitter(), {
    sendCopyFromChunk: (chunk: Buffer) => this.sent.push(chunk),
    stream: { pause: () => (this.paused = true), resume: () => (this.paused = false) },
  });
  query(sql: string): Promise<never> {
    this.queries.push(sql);
    return new Promise(() => undefined);
  }
  async end(): Promise<void> {}

  xlogData(lsn: bigint, payload: string): void {
    const header = Buffer.alloc(25);
    header[0] = 0x77;
    header.writeBigUInt64BE(lsn, 1);
    header.writeBigUInt64BE(lsn, 9);
    this.connection.emit('copyData', { chunk: Buffer.concat([header, Buffer.from(payload)]) });
  }

  keepalive(walEnd: bigint, replyRequested: boolean): void {
    const message = Buffer.alloc(18);
    message[0] = 0x6b;
    message.writeBigUInt64BE(walEnd, 1);
    message[17] = replyRequested ? 1 : 0;
    this.connection.emit('copyData', { chunk: message });
  }
}

function open(highWaterMark = 4): { client: FakeClient; stream: ReplicationStream } {
  const client = new FakeClient();
  const stream = new ReplicationStream(client as unknown as pg.Client, {
    slot: 's1',
    publication: 'p1',
    start: Lsn.parse('0/100'),
    statusIntervalMs: 60_000,
    highWaterMark,
    logger: silentLogger(),
    now: () => Date.UTC(2000, 0, 1) + 5,
  });
  stream.start();
  return { client, stream };
}

const flushed = (message: Buffer): string => Lsn.of(message.readBigUInt64BE(9)).toString();

test('starts replication at the given LSN with pgoutput options', async () => {
  const { client, stream } = open();
  assert.deepEqual(client.queries, [`START_REPLICATION SLOT "s1" LOGICAL 0/100 (proto_version '1', publication_names '"p1"')`]);
  await stream.stop();
});

test('pauses the socket at the high-water mark and resumes once the consumer catches up', async () => {
  const { client, stream } = open(4);
  for (let i = 1; i <= 4; i++) client.xlogData(BigInt(i), `m${i}`);
  assert.equal(client.paused, true);
  const first = await stream.next();
  assert.equal(first?.kind === 'data' && first.payload.toString(), 'm1');
  assert.equal(client.paused, true, 'still above the low-water mark');
  await stream.next();
  assert.equal(client.paused, false, 'resumed at half the high-water mark');
  await stream.stop();
  assert.equal((await stream.next())?.kind, 'data', 'buffered frames are still handed out');
});

test('keepalive replies report only the confirmed LSN, never the received one', async () => {
  const { client, stream } = open();
  client.xlogData(0x500n, 'x');
  client.keepalive(0x600n, true);
  assert.equal(client.sent.length, 1);
  assert.equal(flushed(client.sent[0]!), '0/0', 'nothing confirmed yet');
  stream.confirm(Lsn.parse('0/500'));
  assert.equal(client.sent.length, 2);
  assert.equal(flushed(client.sent[1]!), '0/500');
  const status = client.sent[1]!;
  assert.equal(status[0], 0x72);
  assert.equal(status.length, 34);
  assert.equal(status.readBigUInt64BE(1), 0x500n, 'written');
  assert.equal(status.readBigUInt64BE(17), 0x500n, 'applied');
  assert.equal(status.readBigInt64BE(25), 5000n, 'microseconds since 2000-01-01');
  stream.confirm(Lsn.parse('0/400'));
  assert.equal(client.sent.length, 2, 'an older position sends nothing');
  client.keepalive(0x700n, true);
  assert.equal(flushed(client.sent[2]!), '0/500');
  const frames = [await stream.next(), await stream.next(), await stream.next()];
  assert.deepEqual(frames.map((frame) => frame?.kind), ['data', 'keepalive', 'keepalive']);
  await stream.stop();
});

test('a connection error surfaces from next()', async () => {
  const { client, stream } = open();
  const pending = stream.next();
  client.emit('error', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
  await assert.rejects(pending, (error: Error & { retriable?: boolean }) => error.retriable === true && /administrator command/.test(error.message));
  await stream.stop();
});
