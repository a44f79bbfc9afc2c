import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, ResponseError, TimeoutError, UserError } from '@platformatic/kafka';
import { ConfigError, ConnectionError, TributaryError } from '../../src/model/errors.js';
import { flattenErrors, isRetriableProduceFailure, protocolErrorIds, toTributaryError } from '../../src/kafka/errors.js';

const context = { action: 'producing to t1', brokers: ['k1:9092', 'k2:9092'] };

function refused(): MultipleErrors {
  const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  return new MultipleErrors('Cannot connect to any broker.', [new NetworkError('Connection to 127.0.0.1:1 failed.', { cause: socket })]);
}

/** A produce response carrying one partition error, as the client builds it. */
function responseWith(...ids: string[]): MultipleErrors {
  const errors = Object.fromEntries(ids.map((id, i) => [`/responses/0/partition_responses/${i}`, [id, null]]));
  return new MultipleErrors('produce failed 6 times.', [new ResponseError(0, 10, errors as never, {})]);
}

test('flattenErrors walks AggregateError members and cause chains', () => {
  const nodes = flattenErrors(refused());
  assert.equal(nodes.length, 3);
  assert.ok(nodes.some((node) => (node as { code?: string }).code === 'ECONNREFUSED'));
});

test('protocolErrorIds finds broker error names at any depth', () => {
  assert.deepEqual([...protocolErrorIds(responseWith('NOT_LEADER_OR_FOLLOWER', 'TOPIC_ALREADY_EXISTS'))].sort(), [
    'NOT_LEADER_OR_FOLLOWER',
    'TOPIC_ALREADY_EXISTS',
  ]);
  assert.equal(protocolErrorIds(new Error('plain')).size, 0);
});

test('an unreachable broker is a retriable ConnectionError naming the brokers and the fix', () => {
  const mapped = toTributaryError(refused(), context);
  assert.ok(mapped instanceof ConnectionError);
  assert.equal(mapped.retriable, true);
  assert.match(mapped.message, /k1:9092, k2:9092/);
  assert.match(mapped.message, /ECONNREFUSED/);
  assert.match(mapped.fix ?? '', /kafka\.brokers/);
  assert.ok(mapped.cause instanceof MultipleErrors);
});

test('a request timeout is retriable although the client marks it canRetry=false', () => {
  const mapped = toTributaryError(new TimeoutError('Request timed out'), context);
  assert.ok(mapped instanceof ConnectionError);
});

test('authentication failures are permanent and point at kafka.sasl', () => {
  for (const error of [new AuthenticationError('SASL failed'), responseWith('SASL_AUTHENTICATION_FAILED')]) {
    const mapped = toTributaryError(error, context);
    assert.equal(mapped.retriable, false);
    assert.ok(!(mapped instanceof ConnectionError));
    assert.match(mapped.fix ?? '', /kafka\.sasl/);
  }
});

test('authorization, size and missing-topic errors are permanent with their own fix', () => {
  const cases: [string, RegExp][] = [
    ['TOPIC_AUTHORIZATION_FAILED', /WRITE/],
    ['MESSAGE_TOO_LARGE', /kafka\.producer\.batchBytes/],
    ['RECORD_LIST_TOO_LARGE', /kafka\.producer\.batchBytes/],
    ['UNKNOWN_TOPIC_OR_PARTITION', /create the topic/],
  ];
  for (const [id, fix] of cases) {
    const mapped = toTributaryError(responseWith(id), context);
    assert.equal(mapped.retriable, false, id);
    assert.match(mapped.fix ?? '', fix, id);
    assert.match(mapped.message, new RegExp(id));
  }
});

test("the client's own 'Unknown topic' error counts as a missing topic", () => {
  const mapped = toTributaryError(new UserError('Unknown topic orders.public.items.'), context);
  assert.equal(mapped.retriable, false);
  assert.match(mapped.message, /orders\.public\.items/);
  assert.match(mapped.fix ?? '', /create the topic/);
});

test('a lost idempotent session is retriable', () => {
  for (const id of ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']) {
    assert.ok(toTributaryError(responseWith(id), context) instanceof ConnectionError, id);
  }
});

test('other errors follow the client canRetry flag', () => {
  assert.equal(toTributaryError(new ProtocolError('NOT_ENOUGH_REPLICAS'), context).retriable, true);
  assert.equal(toTributaryError(new ProtocolError('INVALID_REQUIRED_ACKS'), context).retriable, false);
});

test('Tributary errors pass through unchanged', () => {
  const original = new ConfigError('bad');
  assert.equal(toTributaryError(original, context), original);
  const unknown = toTributaryError(new Error('boom'), context);
  assert.ok(unknown instanceof TributaryError);
  assert.equal(unknown.retriable, false);
});

test('a produce failure is resent when every classified error may pass, timeouts and unknown topics included', () => {
  const cases: [string, Error, boolean][] = [
    ['broker unreachable', refused(), true],
    ['connection closed', new NetworkError('Connection closed'), true],
    ['request timed out (client)', new TimeoutError('Request timed out'), true],
    ['leader moved', responseWith('NOT_LEADER_OR_FOLLOWER'), true],
    ['leaders moved on two brokers', new MultipleErrors('two brokers', [responseWith('LEADER_NOT_AVAILABLE'), responseWith('NOT_ENOUGH_REPLICAS')]), true],
    ['request timed out (broker)', new ProtocolError('REQUEST_TIMED_OUT'), true],
    ['topic not in the metadata yet', new UserError('Unknown topic orders.public.items.'), true],
    ['one retriable, one not', responseWith('NOT_LEADER_OR_FOLLOWER', 'MESSAGE_TOO_LARGE'), false],
    ['session lost', responseWith('OUT_OF_ORDER_SEQUENCE_NUMBER'), false],
    ['authentication', new AuthenticationError('SASL failed'), false],
    ['unclassified', new Error('boom'), false],
    ['a bug of ours', new TypeError('x is undefined'), false],
  ];
  for (const [name, error, retriable] of cases) assert.equal(isRetriableProduceFailure(error), retriable, name);
});
