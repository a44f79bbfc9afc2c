/**
 * The positions the crash-test child writes: large enough to span several WAL pages' worth of commits, and
 * self-checking, so a torn or mixed value cannot pass as a valid one.
 */
export function crashPosition(seq: number): string {
  return JSON.stringify({ seq, fill: String(seq).padStart(12, '0').repeat(100) });
}

/** The sequence number of a position written by crashPosition; throws if the text is not exactly one. */
export function parseCrashPosition(text: string): number {
  const { seq } = JSON.parse(text) as { seq: unknown };
  if (typeof seq !== 'number' || !Number.isInteger(seq) || crashPosition(seq) !== text) {
    throw new Error(`not a position the child wrote: ${text.slice(0, 80)}…`);
  }
  return seq;
}
