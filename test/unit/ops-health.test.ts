import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReadinessTracker, stateOfEvent, trackEvents, type SourceState } from '../../src/ops/health.js';
import type { SourceEvent } from '../../src/model/change.js';
import { ConnectionError, SourceError } from '../../src/model/errors.js';

function change(snapshot: 'true' | 'last' | 'false'): SourceEvent {
  return { type: 'change', op: snapshot === 'false' ? 'c' : 'r', source: { snapshot, tsMs: 0 }, position: 'p' } as unknown as SourceEvent;
}

const heartbeat: SourceEvent = { type: 'heartbeat', position: 'p' };

async function* yielding(events: SourceEvent[], error?: unknown): AsyncGenerator<SourceEvent> {
  for (const event of events) yield event;
  if (error !== undefined) throw error;
}

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

describe('stateOfEvent and trackEvents', () => {
  it('reads snapshot rows as snapshotting and the last snapshot row, changes and heartbeats as streaming', () => {
    assert.equal(stateOfEvent(change('true')), 'snapshotting');
    assert.equal(stateOfEvent(change('last')), 'streaming');
    assert.equal(stateOfEvent(change('false')), 'streaming');
    assert.equal(stateOfEvent(heartbeat), 'streaming');
  });

  it('reports each change of state once while passing every event through', async () => {
    const reported: string[] = [];
    const events = [change('true'), change('true'), change('last'), change('false'), heartbeat];
    const seen: SourceEvent[] = [];
    for await (const event of trackEvents(yielding(events), (s) => reported.push(s), new AbortController().signal)) seen.push(event);
    assert.deepEqual(seen, events);
    assert.deepEqual(reported, ['snapshotting', 'streaming']);
  });

  it('reports a retriable failure as reconnecting and a permanent one as failed, and rethrows', async () => {
    for (const [error, expected] of [
      [new ConnectionError('connection reset'), 'reconnecting'],
      [new SourceError('wal_level is replica'), 'failed'],
    ] as const) {
      const reported: [string, string | undefined][] = [];
      await assert.rejects(async () => {
        for await (const _ of trackEvents(yielding([heartbeat], error), (s, d) => reported.push([s, d]), new AbortController().signal));
      }, error);
      assert.deepEqual(reported, [
        ['streaming', undefined],
        [expected, error.message],
      ]);
    }
  });

  it('does not report a failure caused by shutdown', async () => {
    const abort = new AbortController();
    abort.abort();
    const reported: string[] = [];
    await assert.rejects(async () => {
      for await (const _ of trackEvents(yielding([], new Error('aborted')), (s) => reported.push(s), abort.signal));
    });
    assert.deepEqual(reported, []);
  });
});
