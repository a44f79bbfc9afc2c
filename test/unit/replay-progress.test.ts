import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/ops/logger.js';
import { formatDuration, formatLine, ReplayProgress } from '../../src/replay/progress.js';

test('the progress line shows rows, rate and ETA', () => {
  assert.equal(formatLine({ rows: 250_000, rowsPerSecond: 50_000.4, etaSeconds: 15 }, 1_000_000), 'replay: 250000/1000000 rows (25%)  50000 rows/s  ETA 15s');
  assert.equal(formatLine({ rows: 10, rowsPerSecond: 5, etaSeconds: undefined }, undefined), 'replay: 10 rows  5 rows/s');
  assert.equal(formatDuration(75), '1m15s');
  assert.equal(formatDuration(3700), '1h01m');
});

test('figures count rows acknowledged by this run for the rate, all rows for the total', () => {
  let now = 0;
  const progress = new ReplayProgress({ rowsBefore: 1000, remaining: 9000, logger: silentLogger(), terminal: undefined, now: () => now });
  now = 2000;
  progress.update(5000);
  const figures = progress.stop();
  assert.equal(figures.rows, 5000);
  assert.equal(figures.rowsPerSecond, 2000);
  assert.equal(figures.etaSeconds, 2.5);
});

test('on a terminal the final line is written', () => {
  const written: string[] = [];
  const terminal = { write: (text: string) => written.push(text), isTTY: true } as unknown as NodeJS.WriteStream;
  const progress = new ReplayProgress({ rowsBefore: 0, remaining: 10, logger: silentLogger(), terminal });
  progress.update(10);
  progress.stop();
  assert.match(written.join(''), /replay: 10\/10 rows \(100%\)/);
});
