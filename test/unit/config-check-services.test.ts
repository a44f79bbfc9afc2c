import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSourceConnectError, errorCode, errorText } from '../../src/check/connect-errors.js';
import { describeKafkaError, judgeKafka, judgeKafkaConfig } from '../../src/check/kafka.js';
import { checkRegistry } from '../../src/check/registry.js';
import { formatReport, makeReport } from '../../src/check/report.js';
import { parseConfig, type Config } from '../../src/config/index.js';

function config(extra = ''): Config {
  return parseConfig(
    `sources: [{ name: s, kind: postgres, connection: { database: test, user: u }, tables: [{ name: public.t }] }]
kafka:
  brokers: ["127.0.0.1:9092"]
${extra}`,
    'c.yaml',
    {},
  );
}

describe('kafka rules', () => {
  it('replicationFactor above the broker count: names kafka.topics.replicationFactor', () => {
    const [problem] = judgeKafka(config('  topics: { replicationFactor: 3 }').kafka, { brokers: 1 });
    assert.match(problem?.problem ?? '', /kafka\.topics\.replicationFactor is 3 but the cluster has 1 broker/);
    assert.equal(problem?.fix, 'set kafka.topics.replicationFactor to at most 1');
    assert.deepEqual(judgeKafka(config().kafka, { brokers: 1 }), []);
  });

  it('zstd without Node support: names kafka.producer.compression', () => {
    const kafka = config('  producer: { compression: zstd }').kafka;
    const [problem] = judgeKafkaConfig(kafka, false);
    assert.match(problem?.problem ?? '', /kafka\.producer\.compression is zstd/);
    assert.match(problem?.fix ?? '', /lz4/);
    assert.deepEqual(judgeKafkaConfig(kafka, true), []);
  });

  it('unreachable brokers: names kafka.brokers and the cause; SASL failures name kafka.sasl', () => {
    const refused = Object.assign(new Error('Cannot connect to any broker.'), {
      errors: [Object.assign(new Error('Connection to 127.0.0.1:1 failed.'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) })],
    });
    const problem = describeKafkaError(config().kafka, refused);
    assert.match(problem.problem, /kafka\.brokers \(127\.0\.0\.1:9092\).*ECONNREFUSED/);
    assert.match(problem.fix, /check kafka\.brokers/);
    assert.equal(errorCode(refused), 'ECONNREFUSED');
    assert.match(describeKafkaError(config().kafka, new Error('SASL authentication failed')).fix, /kafka\.sasl\.username/);
  });
});

describe('source connection errors', () => {
  const target = { kind: 'postgres' as const, host: 'db', port: 5432, user: 'u', database: 'shop' };
  const describe_ = (error: unknown) => describeSourceConnectError(error, 'svc', 'sources[0].connection', target);

  it('maps refused connections, unknown databases, bad logins and unknown hosts to the key to change', () => {
    assert.match(describe_(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).fix, /sources\[0\]\.connection\.host and sources\[0\]\.connection\.port/);
    const database = describe_(Object.assign(new Error('database "shop" does not exist'), { code: '3D000' }));
    assert.match(database.problem, /the database shop does not exist/);
    assert.match(database.fix, /correct sources\[0\]\.connection\.database/);
    assert.match(describe_(Object.assign(new Error('password authentication failed'), { code: '28P01' })).fix, /sources\[0\]\.connection\.user and sources\[0\]\.connection\.password/);
    assert.match(describe_(Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' })).fix, /correct sources\[0\]\.connection\.host/);
    assert.match(describe_(new Error('Connection terminated due to connection timeout')).problem, /cannot reach PostgreSQL at db:5432/);
  });

  it('errorText follows causes and aggregated errors', () => {
    const error = new Error('outer', { cause: new AggregateError([new Error('inner one')], 'agg') });
    assert.equal(errorText(error), 'outer: agg: inner one');
  });
});

describe('external registry', () => {
  const registry = (auth = '') => {
    const parsed = config(`registry: { mode: external, url: "http://registry:8081/"${auth} }`).registry;
    assert.ok(parsed.mode === 'external');
    return parsed;
  };
  const respond = (status: number, body: string, seen: Request[] = []): typeof fetch =>
    (async (input: string | URL | Request, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return new Response(body, { status });
    }) as typeof fetch;

  it('passes when GET /subjects answers a list, sending basic auth', async () => {
    const seen: Request[] = [];
    assert.deepEqual(await checkRegistry(registry(', auth: { username: a, password: b }'), 1000, respond(200, '["x-value"]', seen)), []);
    assert.equal(seen[0]?.url, 'http://registry:8081/subjects');
    assert.equal(seen[0]?.headers.get('authorization'), `Basic ${Buffer.from('a:b').toString('base64')}`);
  });

  it('names registry.auth on 401, registry.url on other failures', async () => {
    assert.match((await checkRegistry(registry(), 1000, respond(401, '{}')))[0]?.fix ?? '', /registry\.auth\.username/);
    assert.match((await checkRegistry(registry(), 1000, respond(404, 'no')))[0]?.fix ?? '', /registry\.url/);
    assert.match((await checkRegistry(registry(), 1000, respond(200, '<html>')))[0]?.problem ?? '', /did not answer with a list/);
    const refused = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    }) as typeof fetch;
    const [problem] = await checkRegistry(registry(), 1000, refused);
    assert.match(problem?.problem ?? '', /cannot reach the registry at registry\.url .*ECONNREFUSED/);
  });
});

describe('formatReport', () => {
  it('lists every service, each problem with its fix, and a summary', () => {
    const report = makeReport(
      ['source a', 'kafka', 'schema registry'],
      [
        { service: 'source a', severity: 'error', problem: 'wal_level is replica', fix: 'ALTER SYSTEM SET wal_level = logical' },
        { service: 'source a', severity: 'warning', problem: 'no key', fix: 'set key' },
        { service: 'schema registry', severity: 'warning', problem: 'slow', fix: 'wait' },
      ],
    );
    assert.equal(report.ok, false);
    assert.equal(
      formatReport(report),
      [
        'FAIL  source a',
        '      error: wal_level is replica',
        '        fix: ALTER SYSTEM SET wal_level = logical',
        '      warning: no key',
        '        fix: set key',
        'ok    kafka',
        'warn  schema registry',
        '      warning: slow',
        '        fix: wait',
        '',
        '1 error and 2 warnings: Tributary cannot start until the errors are fixed.',
      ].join('\n'),
    );
  });

  it('says all passed when there are only warnings', () => {
    const report = makeReport(['kafka'], [{ service: 'kafka', severity: 'warning', problem: 'p', fix: 'f' }]);
    assert.equal(report.ok, true);
    assert.match(formatReport(report), /All checks passed with 1 warning\.$/);
  });
});
