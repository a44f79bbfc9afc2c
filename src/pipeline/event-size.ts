/**
 * A cheap estimate of an event's memory footprint, for the queue's byte bound. It needs to be proportional,
 * not exact: it must grow with wide rows and large text/bytea values so that the queue bounds memory.
 */
import type { Row, SourceEvent, Value } from '../model/change.js';

const EVENT_OVERHEAD = 256;

function valueBytes(value: Value): number {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return 8;
  if (typeof value === 'bigint') return 16;
  if (typeof value === 'string') return 16 + value.length * 2;
  if (value instanceof Uint8Array) return 16 + value.byteLength;
  if (Array.isArray(value)) return (value as readonly Value[]).reduce((sum: number, v) => sum + valueBytes(v), 16);
  return 8;
}

function rowBytes(row: Row | null): number {
  if (row === null) return 0;
  let total = 0;
  for (const key in row) total += 32 + valueBytes(row[key] as Value);
  return total;
}

export function estimateEventBytes(event: SourceEvent): number {
  if (event.type !== 'change') return EVENT_OVERHEAD;
  return EVENT_OVERHEAD + rowBytes(event.before) + rowBytes(event.after);
}
