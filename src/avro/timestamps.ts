/**
 * Debezium's ts_ms/ts_us/ts_ns triple as the bigints avsc writes. Every event carries two of them (the envelope's
 * processing time and the source's commit time) and both change rarely from one event to the next, so each
 * call site keeps the last triple instead of allocating three bigints per event.
 */
export interface EpochTimestamps {
  readonly ms: bigint;
  readonly us: bigint;
  readonly ns: bigint;
}

/** A function from epoch milliseconds to the triple, remembering the last one. */
export function timestampTriples(): (epochMs: number) => EpochTimestamps {
  let lastMs = Number.NaN;
  let last: EpochTimestamps = { ms: 0n, us: 0n, ns: 0n };
  return (epochMs) => {
    if (epochMs !== lastMs) {
      const ms = BigInt(epochMs);
      last = { ms, us: ms * 1000n, ns: ms * 1_000_000n };
      lastMs = epochMs;
    }
    return last;
  };
}

/** A function from epoch microseconds to the triple (ms = floor(µs / 1000)), remembering the last one. */
export function microTimestampTriples(): (epochUs: bigint) => EpochTimestamps {
  let lastUs: bigint | undefined;
  let last: EpochTimestamps = { ms: 0n, us: 0n, ns: 0n };
  return (epochUs) => {
    if (epochUs !== lastUs) {
      const ms = epochUs / 1000n;
      last = { ms: epochUs < 0n && ms * 1000n !== epochUs ? ms - 1n : ms, us: epochUs, ns: epochUs * 1000n };
      lastUs = epochUs;
    }
    return last;
  };
}
