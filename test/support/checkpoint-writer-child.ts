/**
 * Child process for the crash test: commits positions for sources `a` and `b` in one transaction, in a tight
 * loop, and prints each sequence number to stdout only after its commit returned. The parent kills it with
 * SIGKILL. Usage: node --import tsx checkpoint-writer-child.ts <db path>
 */
import { writeSync } from 'node:fs';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { crashPosition, parseCrashPosition } from './checkpoint-crash-position.js';

const path = process.argv[2];
if (!path) throw new Error('usage: checkpoint-writer-child.ts <db path>');

/**
 * Writes straight to fd 1. process.stdout would queue the write in memory once the socket to the parent is
 * full, and this loop never yields to the event loop to flush it: the parent would stop hearing from us.
 */
function printSync(text: string): void {
  const bytes = Buffer.from(text);
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

const store = CheckpointStore.open(path);
const stored = store.getPosition('a');
let seq = stored ? parseCrashPosition(stored.position) + 1 : 1;
while (true) {
  const position = crashPosition(seq);
  store.transaction(() => {
    store.savePosition('a', position);
    store.savePosition('b', position);
  });
  printSync(`${seq}\n`);
  seq += 1;
}
