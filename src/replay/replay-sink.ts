/**
 * The two ends of the replay pipeline that differ from the live daemon's. The encoder is the live one, with
 * records moved to the target topic when it differs; it remembers which row position each batch ends at. The
 * sink records that position as replay progress as soon as Kafka acknowledged the batch and every one before it,
 * so after kill -9 only the batches still in flight are sent again.
 */
import { AckTracker } from '../pipeline/ack-tracker.js';
import type { OutgoingRecord, RecordEncoder, RecordSink } from '../pipeline/pipeline.js';
import type { SourceEvent } from '../model/change.js';

export class ReplayEncoder implements RecordEncoder {
  /** The position after the last event of each encoded batch, by the records array handed to the sink. */
  readonly positions = new WeakMap<OutgoingRecord[], string>();

  constructor(
    private readonly encoder: RecordEncoder,
    private readonly toTopic: string | undefined,
  ) {}

  async encode(events: readonly SourceEvent[]): Promise<OutgoingRecord[]> {
    const encoded = await this.encoder.encode(events);
    const toTopic = this.toTopic;
    const records = toTopic === undefined ? encoded : encoded.map((record) => ({ ...record, topic: toTopic }));
    const last = events[events.length - 1];
    if (last !== undefined) this.positions.set(records, last.position);
    return records;
  }
}

export class CheckpointingSink implements RecordSink {
  private readonly tracker = new AckTracker();

  constructor(
    private readonly sink: RecordSink,
    private readonly positions: WeakMap<OutgoingRecord[], string>,
    /** Called with the position up to which everything was acknowledged, in order, once per advance. */
    private readonly acknowledged: (position: string) => void,
  ) {}

  async send(records: OutgoingRecord[]): Promise<void> {
    const seq = this.tracker.begin(this.positions.get(records));
    await this.sink.send(records);
    const position = this.tracker.ack(seq);
    if (position !== undefined) this.acknowledged(position);
  }
}
