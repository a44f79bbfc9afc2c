/**
 * An open snapshot as the pipeline's source: one op 'r' event per row, exactly as Debezium's snapshot read
 * events look (no before, source.snapshot 'true', 'last' on the final row, the snapshot's source position in the
 * source block), each positioned by the rows emitted so far and its key, so the pipeline's checkpoint is the
 * replay's progress.
 */
import type { ChangeEvent, SourceEvent, SourceInfo } from '../model/change.js';
import type { PipelineSource } from '../pipeline/pipeline.js';
import { rowPosition } from './checkpoint.js';
import type { TokenBucket } from './rate-limit.js';
import type { KeyedRow, OpenSnapshot } from './snapshot-reader.js';

export interface ReplaySourceOptions {
  /** Rows acknowledged by earlier runs of this replay (positions count on from there). */
  readonly rowsBefore: number;
  readonly rate?: TokenBucket;
  readonly now: () => number;
}

export class ReplaySource implements PipelineSource {
  /** Rows handed to the pipeline by this run. */
  rows = 0;
  /** Events are immutable: the rows read within one millisecond share their source block. */
  private source: SourceInfo | undefined;

  constructor(
    private readonly snapshot: OpenSnapshot,
    private readonly options: ReplaySourceOptions,
  ) {}

  async *events(signal: AbortSignal): AsyncGenerator<SourceEvent> {
    const { rate } = this.options;
    let pending: KeyedRow | undefined;
    for await (const next of this.snapshot.rows(signal)) {
      if (pending !== undefined) yield this.event(pending, false);
      pending = next;
      const wait = rate?.take(1, signal);
      if (wait !== undefined) await wait;
      if (signal.aborted) return;
    }
    if (pending !== undefined && !signal.aborted) yield this.event(pending, true);
  }

  async confirm(): Promise<void> {
    // The checkpoint (ReplayCheckpoint) is all there is to confirm.
  }

  private event(item: KeyedRow, last: boolean): ChangeEvent {
    this.rows++;
    const tsMs = this.options.now();
    const snapshot = last ? 'last' : 'true';
    let source = this.source;
    if (source === undefined || source.tsMs !== tsMs || source.snapshot !== snapshot) {
      source = this.source = { ...this.snapshot.position.source, tsMs, snapshot };
    }
    return {
      type: 'change',
      op: 'r',
      schema: this.snapshot.schema,
      before: null,
      after: item.row,
      source,
      transaction: null,
      position: rowPosition(this.options.rowsBefore + this.rows, item.key, last),
    };
  }
}
