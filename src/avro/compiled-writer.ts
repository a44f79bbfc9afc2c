/**
 * Writers that put an event's Avro bytes straight into a buffer. The leaf encodings are avsc's own (each leaf
 * Type's `_write`); what is compiled away is what makes avsc's generic path slow per event: choosing an
 * unwrapped union's branch by type-checking every value (and, for the bigint long, running its validity check),
 * and the intermediate objects — envelope, rows, key — that were built only to be walked once.
 */
import type avro from 'avsc';
import { createRequire } from 'node:module';
import type { Row, Value } from '../model/change.js';
import { InvariantError } from '../model/errors.js';
import { columnToAvro, type ColumnWithDefault, type ValueContext } from './values.js';
import { checkSchemaId, WIRE_HEADER_BYTES, WIRE_MAGIC } from './wire.js';

/** avsc's Tap: a buffer and a position; writes past the end are dropped and only move `pos`. */
export interface Tap {
  buf: Buffer;
  pos: number;
  writeLong(n: number): void;
}

export type Writer<T = unknown> = (tap: Tap, value: T) => void;

interface LeafType {
  readonly typeName: string;
  readonly types?: readonly LeafType[];
  readonly fields?: readonly { readonly name: string; readonly type: LeafType }[];
  _write(tap: Tap, value: unknown): void;
}

// avsc keeps Tap in lib/utils.js, outside its typed public surface.
const { Tap: TapClass } = createRequire(import.meta.url)('avsc/lib/utils.js') as { Tap: new (buf: Buffer, pos: number) => Tap };

export function newTap(buf: Buffer, pos: number): Tap {
  return new TapClass(buf, pos);
}

/** A writer for any Type: unions of null and one branch pick the branch by `=== null`, records are compiled. */
export function writerFor(type: avro.Type): Writer {
  const t = type as unknown as LeafType;
  if (t.typeName === 'union:unwrapped' && t.types !== undefined) return nullableWriter(t.types, type);
  if (t.typeName === 'record' && t.fields !== undefined) {
    const fields = t.fields.map((field) => ({ name: field.name, write: writerFor(field.type as unknown as avro.Type) }));
    return (tap, value) => {
      const record = value as Record<string, unknown>;
      for (const field of fields) field.write(tap, record[field.name]);
    };
  }
  return (tap, value) => t._write(tap, value);
}

function nullableWriter(branches: readonly LeafType[], type: avro.Type): Writer {
  const nullIndex = branches.findIndex((branch) => branch.typeName === 'null');
  if (branches.length !== 2 || nullIndex < 0) {
    // Debezium's schemas only make optional fields ([null, T] or [T, null]); anything else keeps avsc's dispatch.
    const t = type as unknown as LeafType;
    return (tap, value) => t._write(tap, value);
  }
  const valueIndex = 1 - nullIndex;
  const write = writerFor(branches[valueIndex] as unknown as avro.Type);
  return (tap, value) => {
    if (value === null || value === undefined) {
      tap.writeLong(nullIndex);
    } else {
      tap.writeLong(valueIndex);
      write(tap, value);
    }
  };
}

/**
 * A row as the record `type` (`<topic>.Value` or `<topic>.Key`), field by field from the columns: each value goes
 * through columnToAvro (defaults, fallbacks, placeholders, conversions) and is written by its field's writer.
 */
export function rowWriter(type: avro.Type, columns: readonly ColumnWithDefault[], ctx: ValueContext): Writer<Row> {
  const fields = (type as unknown as LeafType).fields;
  if (fields === undefined || fields.length !== columns.length) {
    throw new InvariantError(`row writer: record ${type.name ?? '?'} does not have one field per column of ${ctx.table}`);
  }
  const writers = columns.map((column, i) => {
    const field = fields[i]!;
    if (field.name !== column.name) throw new InvariantError(`row writer: field ${field.name} is not column ${column.name}`);
    const write = writerFor(field.type as unknown as avro.Type);
    return (tap: Tap, value: Value | undefined) => write(tap, columnToAvro(column, value ?? null, ctx));
  });
  const names = columns.map((column) => column.name);
  return (tap, row) => {
    for (let i = 0; i < writers.length; i++) writers[i]!(tap, row[names[i]!]);
  };
}

/** The nullable row record of the envelope's `before` and `after` (the value schema is an optional struct). */
export function optionalRowWriter(type: avro.Type, columns: readonly ColumnWithDefault[], ctx: ValueContext): Writer<Row | null> {
  const branches = (type as unknown as LeafType).types;
  const nullIndex = branches?.findIndex((branch) => branch.typeName === 'null') ?? -1;
  if (branches?.length !== 2 || nullIndex < 0) throw new InvariantError(`row writer: ${ctx.table}'s row schema is not an optional record`);
  const valueIndex = 1 - nullIndex;
  const write = rowWriter(branches[valueIndex] as unknown as avro.Type, columns, ctx);
  return (tap, row) => {
    if (row === null) {
      tap.writeLong(nullIndex);
    } else {
      tap.writeLong(valueIndex);
      write(tap, row);
    }
  };
}

/** The record's field types by name, for compiling writers of known records (envelope, source block). */
export function fieldTypes(type: avro.Type): ReadonlyMap<string, avro.Type> {
  const fields = (type as unknown as LeafType).fields;
  if (fields === undefined) throw new InvariantError(`${type.name ?? type.typeName} is not a record`);
  return new Map(fields.map((field) => [field.name, field.type as unknown as avro.Type]));
}

/** Where framed records are written: one slab shared by many small records, each a view of its bytes. */
export class SlabOutput {
  private slab: Buffer;
  private used = 0;
  private readonly tap: Tap;

  constructor(private readonly slabBytes = 256 * 1024) {
    this.slab = Buffer.allocUnsafe(slabBytes);
    this.tap = newTap(this.slab, 0);
  }

  /**
   * The bytes `write` produces behind a Confluent wire header for `schemaId`. Records written earlier keep their
   * bytes: a record that does not fit starts a new slab, and the old one lives as long as its views.
   */
  framed<A, B = undefined>(schemaId: number, write: (tap: Tap, a: A, b: B) => void, a: A, b?: B): Buffer {
    checkSchemaId(schemaId);
    for (let attempt = 0; ; attempt++) {
      const tap = this.tap;
      const start = this.used;
      tap.buf = this.slab;
      tap.pos = start + WIRE_HEADER_BYTES;
      write(tap, a, b as B);
      if (tap.pos <= this.slab.length) {
        this.slab[start] = WIRE_MAGIC;
        this.slab.writeInt32BE(schemaId, start + 1);
        this.used = tap.pos;
        return this.slab.subarray(start, tap.pos);
      }
      if (attempt > 0 && start === 0) throw new InvariantError('slab output: a record outgrew a fresh slab sized for it');
      this.slab = Buffer.allocUnsafe(Math.max(this.slabBytes, 2 * (tap.pos - start)));
      this.used = 0;
    }
  }
}
