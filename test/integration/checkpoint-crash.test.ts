/**
 * A checkpoint must survive kill -9 of the process: a child commits positions in a tight loop and prints each
 * one after its commit returned; we SIGKILL it at a random moment and check that the file opens, is intact, and
 * holds a position at least as new as the last one printed, never a torn or mixed value.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { tempDir } from '../support/checkpoint-fixtures.js';
import { parseCrashPosition } from '../support/checkpoint-crash-position.js';

const CHILD = fileURLToPath(new URL('../support/checkpoint-writer-child.ts', import.meta.url));
const ROUNDS = 6;
const ROUND_TIMEOUT_MS = 60_000;

interface Round {
  /** Sequence numbers the child printed (committed), in order. */
  readonly printed: number[];
  readonly signal: NodeJS.Signals | null;
}

/** Runs the child until it has printed `killAfter` commits, then SIGKILLs it and collects everything it printed. */
function runAndKill(dbPath: string, killAfter: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dbPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const printed: number[] = [];
    let pending = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) printed.push(Number(line));
      if (!killed && printed.length >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A child that stops printing must fail the test, not hang it.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child printed ${printed.length} of ${killAfter} positions within ${ROUND_TIMEOUT_MS} ms: ${stderr}`));
    }, ROUND_TIMEOUT_MS);
    child.on('error', reject);
    // 'close' fires after stdout is drained, so `printed` is complete; a partial last line was never fully
    // printed, so it does not count as reported.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!killed) reject(new Error(`child exited by itself (code ${code}): ${stderr}`));
      else resolve({ printed, signal });
    });
  });
}

describe('checkpoint store under kill -9', () => {
  const tmp = tempDir();
  after(() => tmp.remove());

  it(`keeps the last committed position over ${ROUNDS} SIGKILLs at random moments`, async () => {
    const dbPath = tmp.file('crash/checkpoint.db');
    let previous = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const killAfter = 1 + Math.floor(Math.random() * 3000);
      const { printed, signal } = await runAndKill(dbPath, killAfter);
      assert.equal(signal, 'SIGKILL');
      assert.ok(printed.length >= killAfter);
      assert.equal(printed[0], previous + 1, 'the child resumed right after the stored position');
      printed.forEach((seq, index) => assert.equal(seq, previous + 1 + index, 'printed positions are consecutive'));
      const lastPrinted = printed.at(-1)!;

      const raw = new Database(dbPath);
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
      raw.close();

      const store = CheckpointStore.open(dbPath);
      const a = store.getPosition('a');
      const b = store.getPosition('b');
      store.close();
      assert.ok(a && b);
      const storedSeq = parseCrashPosition(a.position);
      assert.equal(b.position, a.position, 'both writes of the transaction survived, or neither');
      // The child may have committed one more position than it managed to print before dying.
      assert.ok(
        storedSeq === lastPrinted || storedSeq === lastPrinted + 1,
        `round ${round}: stored ${storedSeq}, last printed ${lastPrinted} (killed after ${killAfter})`,
      );
      previous = storedSeq;
    }
  });
});
