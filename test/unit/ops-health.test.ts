import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReadinessTracker, type SourceState } from '../../src/ops/health.js';

describe('ReadinessTracker', () => {
  it('is ready only when every source streams, and names the others', () => {
    let now = 1000;
    const tracker = new ReadinessTracker(['pg', 'maria'], { clock: () => now });
    assert.equal(tracker.report().ready, false);
    tracker.set('pg', 'streaming');
    now = 2000;
    tracker.set('maria', 'snapshotting');
    let report = tracker.report();
    assert.equal(report.ready, false);
    assert.deepEqual(
      report.sources.map((s) => [s.source, s.state, s.ready, s.since]),
      [
        ['pg', 'streaming', true, 1000],
        ['maria', 'snapshotting', false, 2000],
      ],
    );
    tracker.set('maria', 'streaming');
    assert.equal(tracker.report().ready, true);
    tracker.set('pg', 'reconnecting', 'connection refused');
    report = tracker.report();
    assert.equal(report.ready, false);
    assert.equal(report.sources[0]?.detail, 'connection refused');
  });

  it('keeps `since` when a state repeats and reports changes once', () => {
    let now = 0;
    const changes: [string, SourceState, SourceState][] = [];
    const tracker = new ReadinessTracker(['pg'], { clock: () => now, onChange: (s, state, previous) => changes.push([s, state, previous]) });
    const report = tracker.reporter('pg');
    now = 5;
    report('reconnecting', 'attempt 1');
    now = 9;
    report('reconnecting', 'attempt 2');
    assert.equal(tracker.report().sources[0]?.since, 5);
    assert.equal(tracker.report().sources[0]?.detail, 'attempt 2');
    report('streaming');
    assert.equal(tracker.report().sources[0]?.detail, undefined);
    assert.deepEqual(changes, [
      ['pg', 'reconnecting', 'starting'],
      ['pg', 'streaming', 'reconnecting'],
    ]);
  });

  it('refuses unknown sources and is not ready without sources', () => {
    const tracker = new ReadinessTracker([]);
    assert.throws(() => tracker.set('nope', 'streaming'), /unknown source "nope"/);
    assert.throws(() => tracker.reporter('nope'), /unknown source/);
    assert.equal(tracker.report().ready, false);
  });
});
