/**
 * DebeziumRecordEncoder: transaction order across the delete + create a key-changing update becomes, matched by the
 * transaction's scope while the ids differ from event to event (PostgreSQL), and the connector each event names.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent, MysqlSourceInfo, PostgresSourceInfo, Row, SourceEvent, TransactionEvent } from '../../src/model/change.js';
import type { TableSchema } from '../../src/model/schema.js';
import { buildTransactionSchemas, unframe } from '../../src/avro/index.js';
import { typeFromJson } from '../../src/avro/avro-type.js';
import { DebeziumRecordEncoder, type SchemaRegistrar } from '../../src/pipeline/record-encoder.js';
import type { OutgoingRecord } from '../../src/pipeline/pipeline.js';

/** Hands out ids in registration order and keeps each id's schema text for decoding. */
class FakeRegistry implements SchemaRegistrar {
  readonly schemas: string[] = [];
  readonly subjects = new Map<string, string>();

  async register(subject: string, schema: string): Promise<number> {
    this.subjects.set(subject, schema);
    return this.schemas.push(schema) - 1;
  }

  decode(message: Buffer): Record<string, unknown> {
    const { schemaId, payload } = unframe(message);
    return structuredClone(typeFromJson(JSON.parse(this.schemas[schemaId]!)).fromBuffer(payload)) as Record<string, unknown>;
  }
}

const table: TableSchema = {
  id: { database: 'test', schema: 'public', table: 't' },
  key: ['id'],
  columns: [{ name: 'id', type: { kind: 'int32' }, nullable: false, sourceType: 'integer' }],
};

const pgSource = (lsn: bigint): PostgresSourceInfo => ({
  connector: 'postgresql',
  name: 'shop',
  tsMs: 1_000,
  tsUs: 1_000_123n,
  snapshot: 'false',
  db: 'test',
  schema: 'public',
  table: 't',
  sequence: null,
  txId: 7n,
  lsn,
  xmin: null,
});

/** A change of transaction `scope` whose id names its own LSN, as PostgreSQL's do. */
function change(scope: string, lsn: bigint, order: bigint, op: 'c' | 'u', before: Row | null, after: Row): ChangeEvent {
  return {
    type: 'change',
    op,
    schema: table,
    before,
    after,
    source: pgSource(lsn),
    transaction: { id: `7:${lsn}`, scope, totalOrder: order, dataCollectionOrder: order },
    position: String(lsn),
  };
}

const boundary = (type: 'begin' | 'end', id: string, scope: string, counts?: Map<string, number>): TransactionEvent => ({
  type,
  id,
  scope,
  tsMs: 1_000,
  ...(counts === undefined ? {} : { counts }),
  position: id,
});

async function encode(events: SourceEvent[]): Promise<{ registry: FakeRegistry; records: OutgoingRecord[] }> {
  const registry = new FakeRegistry();
  const encoder = new DebeziumRecordEncoder({ topicPrefix: 'shop', transactions: true, registry });
  return { registry, records: await encoder.encode(events) };
}

describe('DebeziumRecordEncoder', () => {
  it('shifts the orders after a key-changing update by the transaction scope, writing each event its own id', async () => {
    const { registry, records } = await encode([
      boundary('begin', '7:100', '7:90'),
      change('7:90', 100n, 1n, 'c', null, { id: 1 }),
      change('7:90', 200n, 2n, 'u', { id: 1 }, { id: 2 }),
      change('7:90', 300n, 3n, 'c', null, { id: 3 }),
      boundary('end', '7:400', '7:90', new Map([['public.t', 3]])),
      boundary('begin', '8:500', '8:490'),
      { ...change('8:490', 500n, 1n, 'c', null, { id: 4 }), transaction: { id: '8:500', scope: '8:490', totalOrder: 1n, dataCollectionOrder: 1n } },
    ]);
    const changes = records.filter((r) => r.topic === 'shop.public.t' && r.value !== null).map((r) => registry.decode(r.value!));
    assert.deepEqual(
      changes.map((v) => [v.op, v.transaction]),
      [
        ['c', { id: '7:100', total_order: 1n, data_collection_order: 1n }],
        ['d', { id: '7:200', total_order: 2n, data_collection_order: 2n }],
        ['c', { id: '7:200', total_order: 3n, data_collection_order: 3n }],
        ['c', { id: '7:300', total_order: 4n, data_collection_order: 4n }],
        ['c', { id: '8:500', total_order: 1n, data_collection_order: 1n }],
      ],
    );
    const tx = buildTransactionSchemas('shop');
    const boundaries = records.filter((r) => r.topic === tx.topic);
    const values = boundaries.map((r) => structuredClone(tx.value.fromBuffer(unframe(r.value!).payload)) as Record<string, unknown>);
    assert.deepEqual(
      values.map((v) => [v.status, v.id, v.event_count]),
      [
        ['BEGIN', '7:100', null],
        ['END', '7:400', 4n],
        ['BEGIN', '8:500', null],
      ],
    );
    const keys = boundaries.map((r) => (structuredClone(tx.key.fromBuffer(unframe(r.key!).payload)) as { id: string }).id);
    assert.deepEqual(keys, ['7:100', '7:400', '8:500'], 'the key is the value id');
  });

  it("registers and writes each binlog event under its server's connector, MySQL or MariaDB", async () => {
    const binlog = (connector: MysqlSourceInfo['connector']): ChangeEvent => ({
      type: 'change',
      op: 'c',
      schema: { ...table, id: { database: 'test', table: 't' } },
      before: null,
      after: { id: 1 },
      source: {
        connector,
        name: 'shop',
        tsMs: 1_000,
        snapshot: 'false',
        db: 'test',
        table: 't',
        serverId: 1n,
        gtid: null,
        file: 'bin.000001',
        pos: 4n,
        row: 0,
        thread: null,
        query: null,
      },
      transaction: null,
      position: 'p',
    });
    const mariadb = await encode([binlog('mariadb')]);
    assert.match(mariadb.registry.subjects.get('shop.test.t-value')!, /"connect.name":"io\.debezium\.connector\.mariadb\.Source"/);
    assert.equal((mariadb.registry.decode(mariadb.records[0]!.value!).source as { connector: string }).connector, 'mariadb');
    const mysql = await encode([binlog('mysql')]);
    assert.match(mysql.registry.subjects.get('shop.test.t-value')!, /"connect.name":"io\.debezium\.connector\.mysql\.Source"/);
    assert.equal((mysql.registry.decode(mysql.records[0]!.value!).source as { connector: string }).connector, 'mysql');
  });
});
