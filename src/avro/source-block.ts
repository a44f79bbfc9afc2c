/**
 * The envelope's `source` block, as Debezium 3.6 builds it: SchemaFactory.sourceInfoSchemaBuilder (common
 * fields), then PostgresSourceInfoStructMaker or BinlogSourceInfoStructMaker (shared by the MySQL and MariaDB
 * connectors, which differ only in the record name and `connector` value).
 */
import type { SourceInfo } from '../model/change.js';
import {
  debeziumEnum,
  field,
  optional,
  primitive,
  struct,
  type ConnectField,
  type ConnectSchema,
} from './connect-schema.js';
import type { SourceKind } from './connect-types.js';
import { microTimestampTriples, timestampTriples } from './timestamps.js';

/** Every SnapshotRecord constant, lower-cased, in declaration order: the Enum's `allowed` parameter. */
const SNAPSHOT_VALUES = [
  'true',
  'first',
  'first_in_data_collection',
  'last_in_data_collection',
  'last',
  'false',
  'incremental',
];

const str = primitive('string');
const optStr = primitive('string', true);
const int64 = primitive('int64');
const optInt64 = primitive('int64', true);

function commonFields(): ConnectField[] {
  return [
    field('version', str),
    field('connector', str),
    field('name', str),
    field('ts_ms', int64),
    field('snapshot', { ...optional(debeziumEnum(SNAPSHOT_VALUES)), defaultValue: 'false' }),
    field('db', str),
    field('sequence', optStr),
    field('ts_us', optInt64),
    field('ts_ns', optInt64),
  ];
}

export function sourceSchema(kind: SourceKind): ConnectSchema {
  if (kind === 'postgresql') {
    return struct(
      'io.debezium.connector.postgresql.Source',
      [
        ...commonFields(),
        field('schema', str),
        field('table', str),
        field('txId', optInt64),
        field('lsn', optInt64),
        field('xmin', optInt64),
        field('origin', optStr),
        field('origin_lsn', optInt64),
      ],
      { version: 1 },
    );
  }
  return struct(
    `io.debezium.connector.${kind}.Source`,
    [
      ...commonFields(),
      field('table', optStr),
      field('server_id', int64),
      field('gtid', optStr),
      field('file', str),
      field('pos', int64),
      field('row', primitive('int32')),
      field('thread', optInt64),
      field('query', optStr),
    ],
    { version: 1 },
  );
}

/**
 * The Avro value of the source block, in the schema sourceSchema(info.connector) describes. `version` is what the
 * `version` field reports (Debezium puts its own release there). ts_us/ts_ns come from the microsecond commit
 * time when the source has one (PostgreSQL), else from the millisecond one.
 */
const commitTimestamps = timestampTriples();
const microCommitTimestamps = microTimestampTriples();

export function sourceValue(info: SourceInfo, version: string): Record<string, unknown> {
  // One object literal per kind, no spreads: this runs for every event.
  const ts = info.tsUs === undefined ? commitTimestamps(info.tsMs) : microCommitTimestamps(info.tsUs);
  if (info.connector === 'postgresql') {
    return {
      version,
      connector: info.connector,
      name: info.name,
      ts_ms: ts.ms,
      snapshot: info.snapshot,
      db: info.db,
      sequence: info.sequence,
      ts_us: ts.us,
      ts_ns: ts.ns,
      schema: info.schema,
      table: info.table,
      txId: info.txId,
      lsn: info.lsn,
      xmin: info.xmin,
      origin: null,
      origin_lsn: null,
    };
  }
  return {
    version,
    connector: info.connector,
    name: info.name,
    ts_ms: ts.ms,
    snapshot: info.snapshot,
    db: info.db,
    sequence: null,
    ts_us: ts.us,
    ts_ns: ts.ns,
    table: info.table,
    server_id: info.serverId,
    gtid: info.gtid,
    file: info.file,
    pos: info.pos,
    row: info.row,
    thread: info.thread,
    query: info.query,
  };
}
