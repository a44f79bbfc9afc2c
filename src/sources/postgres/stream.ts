/**
 * Turns replication frames into neutral events: relations become TableSchemas, tuples become rows, and
 * transactions are bracketed by begin/end events. Stateful across frames (relations, the open transaction).
 */
import { UNAVAILABLE, type ChangeEvent, type Op, type Row, type SourceEvent, type TransactionInfo, type Value } from '../../model/change.js';
import { InvariantError, SourceError } from '../../model/errors.js';
import type { Logger } from '../../ops/logger.js';
import { columnSelected, type CatalogColumn, type PgCatalog, type TableCodec, type TableConfig } from './catalog.js';
import type { ReplicationFrame } from './connection.js';
import { decodePgoutput, pgTimeToEpochUs, UNCHANGED_TOAST, type PgoutputMessage, type TupleValue } from './pgoutput.js';
import { alreadyDelivered, encodePosition, Lsn, type PgPosition } from './position.js';

export interface StreamContext {
  readonly name: string;
  readonly database: string;
  /** Configured tables by `schema.table`. */
  readonly tables: ReadonlyMap<string, TableConfig>;
  readonly catalog: PgCatalog;
  readonly truncate: boolean;
  readonly transactions: boolean;
  /** The checkpoint resumed from: replayed changes it covers are skipped. */
  readonly resume: PgPosition | undefined;
  readonly logger: Logger;
}

interface RelationState {
  readonly codec: TableCodec;
  /** `schema.table`, computed once rather than per change. */
  readonly table: string;
  /** For each schema column, its index in the relation's tuples. */
  readonly tupleIndexes: readonly number[];
}

interface OpenTransaction {
  readonly xid: number;
  readonly finalLsn: Lsn;
  readonly beginLsn: Lsn;
  readonly tsMs: number;
  readonly tsUs: bigint;
  /** `<xid>:<BEGIN's LSN>`: the scope of every event of the transaction. */
  readonly scope: string;
  /** Debezium's ids are `<xid>:<LSN>`, the LSN varying: this is the part before it. */
  readonly idPrefix: string;
  begun: boolean;
  totalOrder: bigint;
  readonly perTable: Map<string, number>;
  /** Per-transaction parts of every change's strings, built once: the commit LSN, the sequence's first element. */
  readonly finalLsnText: string;
  readonly sequencePrefix: string;
  readonly txId: bigint;
}

export class PgoutputEvents {
  /** null: a relation that is published but not configured. */
  private readonly relations = new Map<number, RelationState | null>();
  private transaction: OpenTransaction | undefined;
  private lastCommitLsn: Lsn | null = null;
  private lastHeartbeat = Lsn.ZERO;

  constructor(private readonly context: StreamContext) {}

  async handle(frame: ReplicationFrame): Promise<SourceEvent[]> {
    if (frame.kind === 'keepalive') return this.keepalive(frame.walEnd);
    const message = decodePgoutput(frame.payload);
    switch (message.tag) {
      case 'begin': {
        const tsUs = pgTimeToEpochUs(message.commitTimeUs);
        this.transaction = {
          xid: message.xid,
          finalLsn: message.finalLsn,
          beginLsn: frame.lsn,
          tsMs: Number(tsUs / 1000n),
          tsUs,
          scope: `${message.xid}:${frame.lsn.toBigInt()}`,
          idPrefix: `${message.xid}:`,
          begun: false,
          totalOrder: 0n,
          perTable: new Map(),
          finalLsnText: message.finalLsn.toString(),
          sequencePrefix: `[${this.lastCommitLsn === null ? 'null' : `"${this.lastCommitLsn.toBigInt()}"`},`,
          txId: BigInt(message.xid),
        };
        return [];
      }
      case 'commit':
        return this.commit(message.endLsn);
      case 'relation':
        await this.relation(message);
        return [];
      case 'insert':
        return this.change(frame.lsn, message.relation, 'c', null, message.newTuple, false);
      case 'update':
        return this.change(frame.lsn, message.relation, 'u', message.oldTuple, message.newTuple, message.oldIsKeyOnly);
      case 'delete':
        return this.change(frame.lsn, message.relation, 'd', message.oldTuple, null, message.oldIsKeyOnly);
      case 'truncate':
        return this.truncate(frame.lsn, message.relations);
      case 'origin':
      case 'type':
      case 'message':
        return [];
    }
  }

  private keepalive(walEnd: Lsn): SourceEvent[] {
    if (this.transaction !== undefined || walEnd.compare(this.lastHeartbeat) <= 0) return [];
    this.lastHeartbeat = walEnd;
    return [{ type: 'heartbeat', position: encodePosition({ lsn: walEnd }) }];
  }

  private commit(endLsn: Lsn): SourceEvent[] {
    const transaction = this.openTransaction();
    this.transaction = undefined;
    this.lastCommitLsn = endLsn;
    this.lastHeartbeat = this.lastHeartbeat.max(endLsn);
    const position = encodePosition({ lsn: endLsn });
    if (!transaction.begun || !this.context.transactions) return [{ type: 'heartbeat', position }];
    // Debezium names a PostgreSQL data collection by its TableId without catalog: `schema.table`. Its END id
    // carries the LSN last seen, the commit's end.
    const id = `${transaction.idPrefix}${endLsn.toBigInt()}`;
    return [{ type: 'end', id, scope: transaction.scope, tsMs: transaction.tsMs, counts: new Map(transaction.perTable), position }];
  }

  private async relation(message: Extract<PgoutputMessage, { tag: 'relation' }>): Promise<void> {
    const qualified = `${message.schema}.${message.name}`;
    const config = this.context.tables.get(qualified);
    if (config === undefined) {
      this.relations.set(message.oid, null);
      return;
    }
    const { catalog } = this.context;
    const live = new Map((await catalog.columns(message.oid)).map((column) => [column.name, column]));
    const columns: CatalogColumn[] = [];
    const tupleIndexes: number[] = [];
    for (const [index, column] of message.columns.entries()) {
      if (!columnSelected(config, column.name)) continue;
      const current = live.get(column.name);
      const sameType = current !== undefined && current.typeOid === column.typeOid && current.typeMod === column.typeMod;
      columns.push({
        name: column.name,
        typeOid: column.typeOid,
        typeMod: column.typeMod,
        nullable: current?.nullable ?? true,
        sourceType: sameType ? current.sourceType : await catalog.formatType(column.typeOid, column.typeMod),
        ...(sameType && current.defaultExpr !== undefined ? { defaultExpr: current.defaultExpr } : {}),
      });
      tupleIndexes.push(index);
    }
    const key = config.key ?? (await catalog.primaryKey(message.oid));
    const codec = await catalog.tableCodec(message.schema, message.name, columns, key);
    const previous = this.relations.get(message.oid);
    if (previous !== undefined && previous !== null && previous.codec.schema !== codec.schema) {
      this.context.logger.info({ table: qualified, columns: codec.schema.columns.map((column) => column.name) }, 'table schema changed');
    }
    this.relations.set(message.oid, { codec, tupleIndexes, table: qualified });
  }

  private relationState(oid: number): RelationState | null {
    const state = this.relations.get(oid);
    if (state === undefined) throw new InvariantError(`pgoutput change for relation ${oid} before its RELATION message`);
    return state;
  }

  private openTransaction(): OpenTransaction {
    if (this.transaction === undefined) throw new InvariantError('pgoutput change or commit outside a transaction');
    return this.transaction;
  }

  private row(state: RelationState, tuple: readonly TupleValue[], fallback: readonly TupleValue[] | null): Row {
    const row: Record<string, Value> = {};
    const { schema } = state.codec;
    schema.columns.forEach((column, index) => {
      const tupleIndex = state.tupleIndexes[index]!;
      let value = tuple[tupleIndex];
      // An unchanged TOASTed value is not sent again; a full old row (REPLICA IDENTITY FULL) still has it.
      if (value === UNCHANGED_TOAST && fallback !== null && typeof fallback[tupleIndex] === 'string') value = fallback[tupleIndex];
      if (value === undefined || value === null) row[column.name] = null;
      else if (value === UNCHANGED_TOAST || typeof value !== 'string') row[column.name] = UNAVAILABLE;
      else row[column.name] = this.read(state, index, value);
    });
    return row;
  }

  private read(state: RelationState, index: number, text: string): Value {
    try {
      return state.codec.readers[index]!(text);
    } catch (cause) {
      const { id, columns } = state.codec.schema;
      const column = columns[index]!;
      throw new SourceError(`cannot read column "${column.name}" (${column.sourceType}) of table "${id.schema}.${id.table}": ${String(cause)}`, {
        cause,
        fix: 'report this value; exclude the column until it is supported',
      });
    }
  }

  private change(
    lsn: Lsn,
    relation: number,
    op: Op,
    oldTuple: readonly TupleValue[] | null,
    newTuple: readonly TupleValue[] | null,
    oldIsKeyOnly: boolean,
  ): SourceEvent[] {
    const state = this.relationState(relation);
    const transaction = this.openTransaction();
    if (state === null || this.delivered(transaction, lsn)) return [];
    const fullOld = oldTuple !== null && !oldIsKeyOnly ? oldTuple : null;
    const before = oldTuple === null ? null : this.row(state, oldTuple, null);
    const after = newTuple === null ? null : this.row(state, newTuple, fullOld);
    return this.emit(state, transaction, lsn, op, before, after);
  }

  private delivered(transaction: OpenTransaction, lsn: Lsn): boolean {
    return this.context.resume !== undefined && alreadyDelivered(this.context.resume, transaction.finalLsn, lsn);
  }

  private truncate(lsn: Lsn, relations: readonly number[]): SourceEvent[] {
    const transaction = this.openTransaction();
    if (!this.context.truncate || this.delivered(transaction, lsn)) return [];
    const events: SourceEvent[] = [];
    for (const oid of relations) {
      const state = this.relations.get(oid);
      if (state !== undefined && state !== null) events.push(...this.emit(state, transaction, lsn, 't', null, null));
    }
    return events;
  }

  private emit(state: RelationState, transaction: OpenTransaction, lsn: Lsn, op: Op, before: Row | null, after: Row | null): SourceEvent[] {
    const events: SourceEvent[] = [];
    const lsnValue = lsn.toBigInt();
    // Debezium's transaction id is `<xid>:<LSN>` with the LSN of the event at hand, so BEGIN's is its first change's.
    const transactionId = this.context.transactions ? `${transaction.idPrefix}${lsnValue}` : null;
    if (!transaction.begun) {
      transaction.begun = true;
      if (transactionId !== null) {
        events.push({ type: 'begin', id: transactionId, scope: transaction.scope, tsMs: transaction.tsMs, position: encodePosition({ lsn: transaction.beginLsn, commitLsn: transaction.finalLsn }) });
      }
    }
    const { id } = state.codec.schema;
    const table = state.table;
    const tableOrder = (transaction.perTable.get(table) ?? 0) + 1;
    transaction.perTable.set(table, tableOrder);
    transaction.totalOrder += 1n;
    const info: TransactionInfo | null =
      transactionId === null
        ? null
        : { id: transactionId, scope: transaction.scope, totalOrder: transaction.totalOrder, dataCollectionOrder: BigInt(tableOrder) };
    const event: ChangeEvent = {
      type: 'change',
      op,
      schema: state.codec.schema,
      before,
      after,
      source: {
        connector: 'postgresql',
        name: this.context.name,
        tsMs: transaction.tsMs,
        tsUs: transaction.tsUs,
        snapshot: 'false',
        db: this.context.database,
        schema: id.schema ?? 'public',
        table: id.table,
        // JSON.stringify([lastCommitLsn, lsn]) as decimal strings, from the transaction's prefix.
        sequence: `${transaction.sequencePrefix}"${lsnValue}"]`,
        txId: transaction.txId,
        lsn: lsnValue,
        xmin: null,
      },
      transaction: info,
      // encodePosition({ lsn, commitLsn }) with the commit LSN's text reused.
      position: `{"lsn":"${lsn.toString()}","commitLsn":"${transaction.finalLsnText}"}`,
    };
    events.push(event);
    return events;
  }
}
