/**
 * Turns out-of-order acknowledgements of in-flight batches into an in-order checkpoint: the checkpoint is the
 * position of the last batch such that it and every batch before it were acknowledged by Kafka. This is the
 * rule that keeps a confirmed source position from ever running ahead of what Kafka holds.
 */
import { invariant } from '../model/errors.js';

interface InFlight {
  readonly seq: number;
  readonly position: string | undefined;
  done: boolean;
}

export class AckTracker {
  private readonly inFlight: InFlight[] = [];
  private nextSeq = 0;
  private checkpoint: string | undefined;

  /** Registers a batch about to be sent; `position` is the resume point after its last event, if any. */
  begin(position: string | undefined): number {
    const seq = this.nextSeq++;
    this.inFlight.push({ seq, position, done: false });
    return seq;
  }

  /** Marks a batch acknowledged; returns the new checkpoint if it advanced. */
  ack(seq: number): string | undefined {
    const entry = this.inFlight.find((e) => e.seq === seq);
    invariant(entry !== undefined && !entry.done, `batch ${seq} acknowledged twice or never begun`);
    entry.done = true;
    let advanced = false;
    while (this.inFlight.length > 0 && (this.inFlight[0] as InFlight).done) {
      const head = this.inFlight.shift() as InFlight;
      if (head.position !== undefined) {
        this.checkpoint = head.position;
        advanced = true;
      }
    }
    return advanced ? this.checkpoint : undefined;
  }

  get pending(): number {
    return this.inFlight.length;
  }

  /** The highest position such that everything before it was acknowledged. */
  get position(): string | undefined {
    return this.checkpoint;
  }
}
