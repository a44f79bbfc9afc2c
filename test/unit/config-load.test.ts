import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigIssuesError, loadConfig, parseConfig, type ConfigIssue } from '../../src/config/index.js';
import { ConfigError } from '../../src/model/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(root, 'test/fixtures/config');

const MINIMAL = `
sources:
  - name: inventory
    kind: postgres
    connection: { database: test, user: postgres }
    tables: [{ name: public.orders }]
kafka:
  brokers: ["127.0.0.1:9092"]
`;

describe('loadConfig: valid files', () => {
  it('loads the shipped example and the local stack config', () => {
    const example = loadConfig(path.join(root, 'config/tributary.example.yaml'), {});
    assert.deepEqual(
      example.sources.map((source) => [source.name, source.kind]),
      [
        ['inventory', 'postgres'],
        ['shop', 'mysql'],
      ],
    );
    assert.ok(example.lake !== undefined);

    const local = loadConfig(path.join(root, 'config/local.yaml'), {});
    assert.deepEqual(
      local.sources.map((source) => source.tables.map((table) => table.name)),
      [['public.tributary_demo'], ['test.tributary_demo']],
    );
    assert.equal(local.checkpoint.path, path.join(root, '.tmp/local/tributary.db'));
    assert.equal(local.lake?.path, path.join(root, '.tmp/local/lake'));
  });

  it('applies every default and derives slot, publication, topic prefix and registry URL', () => {
    const config = parseConfig(MINIMAL, '/etc/tributary/config.yaml', {});
    const [source] = config.sources;
    assert.ok(source?.kind === 'postgres');
    assert.equal(source.topicPrefix, 'inventory');
    assert.equal(source.slot, 'tributary_inventory');
    assert.equal(source.publication, 'tributary_inventory');
    assert.deepEqual(source.heartbeat, { intervalMs: 10_000 });
    assert.deepEqual(source.connection, {
      host: '127.0.0.1',
      port: 5432,
      database: 'test',
      user: 'postgres',
      password: '',
      tls: { enabled: false, rejectUnauthorized: true },
    });
    assert.equal(source.snapshot, 'initial');
    assert.equal(source.snapshotChunkRows, 10_000);
    assert.equal(source.transactions, false);
    assert.equal(source.truncate, true);
    assert.deepEqual(config.kafka.producer, { compression: 'lz4', lingerMs: 5, batchBytes: 1_048_576 });
    assert.deepEqual(config.kafka.topics, { partitions: 1, replicationFactor: 1, autoCreate: true });
    assert.equal(config.kafka.clientId, 'tributary');
    assert.deepEqual(config.registry, { mode: 'embedded', listen: { host: '127.0.0.1', port: 8081 }, url: 'http://127.0.0.1:8081' });
    assert.equal(config.checkpoint.path, '/etc/tributary/tributary.db');
    assert.equal(config.lake, undefined);
    assert.deepEqual(config.pipeline, { queue: { maxEvents: 2_000, maxBytes: 67_108_864 }, shutdownTimeoutMs: 30_000 });
    assert.equal(config.logging.level, 'info');
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 9464 });
  });

  it('folds a source name into a valid slot name', () => {
    const config = parseConfig(MINIMAL.replace('name: inventory', 'name: Shop-EU.1'), 'c.yaml', {});
    const [source] = config.sources;
    assert.ok(source?.kind === 'postgres');
    assert.equal(source.slot, 'tributary_shop_eu_1');
    assert.equal(source.topicPrefix, 'Shop-EU.1');
  });

  it('derives a connectable registry URL from a wildcard listen address', () => {
    const config = parseConfig(`${MINIMAL}registry: { listen: { host: 0.0.0.0, port: 18081 } }\n`, 'c.yaml', {});
    assert.equal(config.registry.url, 'http://127.0.0.1:18081');
  });

  it('reads mysql sources and an external registry', () => {
    const config = loadConfig(path.join(fixtures, 'minimal-mysql.yaml'), {});
    const [source] = config.sources;
    assert.ok(source?.kind === 'mysql');
    assert.equal(source.connection.port, 3306);
    assert.equal(source.serverId, 4242);
    assert.equal(source.gtid, true);
    assert.deepEqual(config.registry, { mode: 'external', url: 'http://registry:8081', auth: { username: 'u', password: 'p' } });
  });

  it('resolves relative paths against the config file directory', () => {
    const config = loadConfig(path.join(fixtures, 'relative-paths.yaml'), {});
    const tls = config.sources[0]?.connection.tls;
    assert.equal(tls?.ca, path.join(fixtures, 'certs/ca.pem'));
    assert.equal(tls?.cert, path.join(fixtures, 'certs/client.pem'));
    assert.equal(tls?.key, '/abs/client.key');
    assert.equal(config.kafka.tls.ca, path.join(root, 'test/fixtures/ca.pem'));
    assert.equal(config.checkpoint.path, path.join(fixtures, 'state/tributary.db'));
    assert.equal(config.lake?.path, path.join(fixtures, 'lake'));
  });
});

describe('environment substitution', () => {
  it('substitutes ${VAR} and ${VAR:-default}, turning numeric strings into numbers where numbers belong', () => {
    const text = MINIMAL.replace(
      'connection: { database: test, user: postgres }',
      'connection: { database: "${DB}", user: postgres, password: "${PGPASSWORD:-}", port: "${PGPORT:-6432}", host: "h-${SUFFIX:-x}" }',
    );
    const config = parseConfig(text, 'c.yaml', { DB: 'orders', PGPORT: '7777' });
    const connection = config.sources[0]?.connection;
    assert.equal(connection?.database, 'orders');
    assert.equal(connection?.password, '');
    assert.equal(connection?.port, 7777);
    assert.equal(connection?.host, 'h-x');
  });

  it('keeps $${ as a literal ${ (a password may contain one)', () => {
    const text = MINIMAL.replace('user: postgres }', () => 'user: postgres, password: "a$${b}" }');
    assert.equal(parseConfig(text, 'c.yaml', {}).sources[0]?.connection.password, 'a${b}');
  });

  it('rejects a reference to an unset variable, naming the key path and the variable', () => {
    const text = MINIMAL.replace('user: postgres }', 'user: postgres, password: "${PG_SECRET}" }');
    const issue = onlyIssue(() => parseConfig(text, 'c.yaml', {}));
    assert.equal(issue.path, 'sources[0].connection.password');
    assert.match(issue.found, /PG_SECRET/);
    assert.match(issue.fix, /export PG_SECRET=|\$\{PG_SECRET:-default\}/);
  });
});

describe('loadConfig: errors', () => {
  it('names a missing file and how to create one', () => {
    assert.throws(
      () => loadConfig('/nonexistent/tributary.yaml'),
      (error: unknown) => error instanceof ConfigError && /\/nonexistent\/tributary\.yaml/.test(error.message) && /tributary\.example\.yaml/.test(error.fix ?? ''),
    );
  });

  it('reports a YAML syntax error with its line', () => {
    const issue = onlyIssue(() => parseConfig('sources: [\nkafka: : x', 'c.yaml', {}));
    assert.match(issue.path, /^line \d+, column \d+$/);
    assert.equal(issue.expected, 'valid YAML');
    assert.match(issue.fix, /YAML syntax at line/);
  });

  it('rejects an empty file', () => {
    const issue = onlyIssue(() => parseConfig('', 'c.yaml', {}));
    assert.equal(issue.expected, 'a mapping');
    assert.match(issue.fix, /sources and kafka/);
  });

  // Each case: a change to the minimal config, the key path the error must name, and text its fix must contain.
  const cases: { name: string; yaml: string; path: string; fix: RegExp; expected?: RegExp }[] = [
    {
      name: 'include and exclude together',
      yaml: MINIMAL.replace('{ name: public.orders }', '{ name: public.orders, columns: { include: [id], exclude: [secret] } }'),
      path: 'sources[0].tables[0].columns.include',
      fix: /one of columns\.include and columns\.exclude/,
    },
    {
      name: 'unqualified table name',
      yaml: MINIMAL.replace('public.orders', 'orders'),
      path: 'sources[0].tables[0].name',
      fix: /schema\.table or database\.table/,
    },
    {
      name: 'duplicate table in one source',
      yaml: MINIMAL.replace('[{ name: public.orders }]', '[{ name: public.orders }, { name: public.orders }]'),
      path: 'sources[0].tables[1].name',
      fix: /merge the two entries for public\.orders/,
    },
    {
      name: 'duplicate source name',
      yaml: MINIMAL.replace(
        'kafka:',
        `  - name: inventory
    kind: mysql
    serverId: 7
    connection: { user: root }
    tables: [{ name: shop.t }]
kafka:`,
      ),
      path: 'sources[1].name',
      fix: /rename one of the sources called inventory/,
    },
    {
      name: 'mysql-only key on a postgres source',
      yaml: MINIMAL.replace('kind: postgres', 'kind: postgres\n    serverId: 5'),
      path: 'sources[0].serverId',
      fix: /remove serverId: it applies only to kind: mysql/,
    },
    {
      name: 'postgres-only key on a mysql source',
      yaml: MINIMAL.replace('kind: postgres', 'kind: mysql\n    serverId: 5\n    slot: s').replace('database: test, ', ''),
      path: 'sources[0].slot',
      fix: /only to kind: postgres/,
    },
    {
      name: 'misspelt key',
      yaml: MINIMAL.replace('kind: postgres', 'kind: postgres\n    topicprefix: x'),
      path: 'sources[0].topicprefix',
      fix: /rename topicprefix to topicPrefix/,
    },
    {
      name: 'unknown source kind',
      yaml: MINIMAL.replace('kind: postgres', 'kind: oracle'),
      path: 'sources[0].kind',
      fix: /one of postgres \| mysql/,
    },
    {
      name: 'mysql source without serverId',
      yaml: MINIMAL.replace('kind: postgres', 'kind: mysql').replace('database: test, ', ''),
      path: 'sources[0].serverId',
      fix: /add sources\[0\]\.serverId/,
    },
    {
      name: 'serverId out of range',
      yaml: MINIMAL.replace('kind: postgres', 'kind: mysql\n    serverId: 0').replace('database: test, ', ''),
      path: 'sources[0].serverId',
      fix: /at least 1/,
    },
    {
      name: 'port out of range',
      yaml: MINIMAL.replace('user: postgres }', 'user: postgres, port: 70000 }'),
      path: 'sources[0].connection.port',
      fix: /at most 65535/,
    },
    {
      name: 'postgres source without database',
      yaml: MINIMAL.replace('database: test, ', ''),
      path: 'sources[0].connection.database',
      fix: /add sources\[0\]\.connection\.database/,
    },
    {
      name: 'external registry without url',
      yaml: `${MINIMAL}registry: { mode: external }\n`,
      path: 'registry.url',
      fix: /add registry\.url/,
    },
    {
      name: 'auth on the embedded registry',
      yaml: `${MINIMAL}registry: { auth: { username: a, password: b } }\n`,
      path: 'registry.auth',
      fix: /only to mode: external/,
    },
    {
      name: 'broker without port',
      yaml: MINIMAL.replace('"127.0.0.1:9092"', '"127.0.0.1"'),
      path: 'kafka.brokers[0]',
      fix: /host:port/,
    },
    {
      name: 'no brokers',
      yaml: MINIMAL.replace('["127.0.0.1:9092"]', '[]'),
      path: 'kafka.brokers',
      fix: /at least 1 entry/,
    },
    {
      name: 'unknown compression',
      yaml: MINIMAL.replace('brokers: ["127.0.0.1:9092"]', 'brokers: ["127.0.0.1:9092"]\n  producer: { compression: brotli }'),
      path: 'kafka.producer.compression',
      fix: /none \| gzip \| snappy \| lz4 \| zstd/,
    },
    {
      name: 'unknown snapshot mode',
      yaml: MINIMAL.replace('kind: postgres', 'kind: postgres\n    snapshot: always'),
      path: 'sources[0].snapshot',
      fix: /initial \| never \| initial_only/,
    },
    {
      name: 'key column left out by columns.include',
      yaml: MINIMAL.replace('{ name: public.orders }', '{ name: public.orders, columns: { include: [total] }, key: [id] }'),
      path: 'sources[0].tables[0].key',
      fix: /add "id" to columns\.include/,
    },
    {
      name: 'TLS cert without key',
      yaml: MINIMAL.replace('user: postgres }', 'user: postgres, tls: { enabled: true, cert: c.pem } }'),
      path: 'sources[0].connection.tls.key',
      fix: /set both cert and key/,
    },
    {
      name: 'invalid slot name',
      yaml: MINIMAL.replace('kind: postgres', 'kind: postgres\n    slot: My-Slot'),
      path: 'sources[0].slot',
      fix: /lower-case letters, digits and "_"/,
    },
    {
      name: 'unknown log level',
      yaml: `${MINIMAL}logging: { level: verbose }\n`,
      path: 'logging.level',
      fix: /fatal \| error \| warn \| info \| debug \| trace \| silent/,
    },
    {
      name: 'fractional number where a whole number belongs',
      yaml: `${MINIMAL}pipeline: { queue: { maxEvents: 1.5 } }\n`,
      path: 'pipeline.queue.maxEvents',
      fix: /whole number/,
    },
    {
      name: 'a source without tables',
      yaml: MINIMAL.replace('[{ name: public.orders }]', '[]'),
      path: 'sources[0].tables',
      fix: /at least 1 entry/,
    },
    {
      name: 'unknown top-level section',
      yaml: `${MINIMAL}metrics: { port: 1 }\n`,
      path: 'metrics',
      fix: /remove metrics/,
    },
  ];

  for (const testCase of cases) {
    it(`names the key and the fix: ${testCase.name}`, () => {
      const issue = onlyIssue(() => parseConfig(testCase.yaml, 'bad.yaml', {}));
      assert.equal(issue.path, testCase.path);
      assert.match(issue.fix, testCase.fix);
      assert.ok(issue.found.length > 0 && issue.expected.length > 0);
    });
  }

  it('collects every problem in one error, each in the message with its key path and fix', () => {
    const text = `
sources:
  - name: "bad name"
    kind: postgres
    connection: { database: test, user: postgres, port: 0 }
    tables: [{ name: orders }]
kafka:
  brokers: ["nope"]
logging: { level: loud }
`;
    let caught: unknown;
    try {
      parseConfig(text, 'many.yaml', {});
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ConfigIssuesError);
    assert.ok(caught instanceof ConfigError);
    assert.deepEqual(
      caught.issues.map((issue) => issue.path).sort(),
      ['kafka.brokers[0]', 'logging.level', 'sources[0].connection.port', 'sources[0].name', 'sources[0].tables[0].name'],
    );
    assert.match(caught.message, /^many\.yaml: 5 problems/);
    for (const issue of caught.issues) {
      assert.ok(caught.message.includes(`${issue.path}: expected ${issue.expected}, found ${issue.found}`));
      assert.ok(caught.message.includes(`fix: ${issue.fix}`));
    }
  });

  it('reports duplicate names even when the entries have other problems', () => {
    const text = `
sources:
  - name: a
    kind: postgres
    connection: { database: test, user: postgres, port: 0 }
    tables: [{ name: public.t, key: [1] }, { name: public.t }]
  - name: a
    kind: mysql
    serverId: 1
    connection: { user: root }
    tables: [{ name: shop.t }]
kafka: { brokers: ["k:9092"] }
`;
    assert.throws(
      () => parseConfig(text, 'c.yaml', {}),
      (error: unknown) =>
        error instanceof ConfigIssuesError &&
        JSON.stringify(error.issues.map((issue) => issue.path).sort()) ===
          JSON.stringify(['sources[0].connection.port', 'sources[0].tables[0].key[0]', 'sources[0].tables[1].name', 'sources[1].name']),
    );
  });

  it('never prints a password it rejects', () => {
    const text = MINIMAL.replace('user: postgres }', 'user: postgres, password: [hunter2] }');
    const issue = onlyIssue(() => parseConfig(text, 'c.yaml', {}));
    assert.equal(issue.path, 'sources[0].connection.password');
    let message = '';
    try {
      parseConfig(text.replace('[hunter2]', '12345'), 'c.yaml', {});
    } catch (error) {
      message = (error as Error).message;
    }
    assert.doesNotMatch(message, /hunter2|12345/);
  });
});

function onlyIssue(parse: () => unknown): ConfigIssue {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof ConfigIssuesError, `expected ConfigIssuesError, got ${String(error)}`);
    assert.equal(error.issues.length, 1, `expected one issue, got:\n${error.message}`);
    const [issue] = error.issues;
    assert.ok(issue !== undefined);
    assert.ok(error.message.includes(issue.path), 'the message names the key path');
    assert.ok(error.describe().includes(issue.fix), 'describe() includes the fix');
    return issue;
  }
  assert.fail('expected a ConfigIssuesError');
}
