/** `tributary replay`: re-emit one table's rows onto Kafka as Debezium snapshot read events. */
export { runReplay, type ReplayOptions, type ReplayResult } from './run.js';
export type { KeyedRow, OpenSnapshot, SnapshotPosition, SnapshotReader } from './snapshot-reader.js';
export { replayProgressName, type ReplayPositions } from './checkpoint.js';
