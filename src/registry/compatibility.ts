/**
 * Confluent's compatibility levels for Avro, decided by avsc's schema resolution: a reader schema can read a
 * writer's data exactly when `reader.createResolver(writer)` succeeds (missing fields need defaults, promotions
 * such as int → long are allowed, renamed records need aliases).
 */
import avro from 'avsc';

export const COMPATIBILITY_LEVELS = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** Confluent's default when neither the subject nor the registry has a level. */
export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export function parseCompatibilityLevel(value: unknown): CompatibilityLevel | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.toUpperCase();
  return (COMPATIBILITY_LEVELS as readonly string[]).includes(upper) ? (upper as CompatibilityLevel) : undefined;
}

export function isTransitive(level: CompatibilityLevel): boolean {
  return level.endsWith('_TRANSITIVE');
}

export interface PreviousSchema {
  readonly version: number;
  readonly schemaText: string;
}

/**
 * Checks `candidate` against `previous` (the versions the level asks about: the latest one, or all of them for
 * the transitive levels). Returns one message per broken rule; empty means compatible.
 */
export function compatibilityProblems(
  level: CompatibilityLevel,
  candidate: string,
  previous: readonly PreviousSchema[],
): string[] {
  if (level === 'NONE') return [];
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const old of previous) {
    // Fresh types each time: avsc caches resolvers on the reader type.
    if (backward) {
      const problem = resolutionProblem(candidate, old.schemaText);
      if (problem) problems.push(`the new schema cannot read data written with version ${old.version}: ${problem}`);
    }
    if (forward) {
      const problem = resolutionProblem(old.schemaText, candidate);
      if (problem) problems.push(`version ${old.version} cannot read data written with the new schema: ${problem}`);
    }
  }
  return problems;
}

function resolutionProblem(readerText: string, writerText: string): string | undefined {
  const reader = avro.Type.forSchema(JSON.parse(readerText) as avro.Schema);
  const writer = avro.Type.forSchema(JSON.parse(writerText) as avro.Schema);
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
