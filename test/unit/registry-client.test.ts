import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectionError } from '../../src/model/errors.js';
import { silentLogger } from '../../src/ops/logger.js';
import { createRegistryClient, RegistryRequestError } from '../../src/registry/client.js';
import { MemorySchemaStore } from '../../src/registry/memory-store.js';
import { startEmbeddedRegistry, type EmbeddedRegistry } from '../../src/registry/server.js';

const schema = {
  type: 'record',
  name: 'Row',
  namespace: 'client',
  fields: [{ name: 'id', type: 'long' }],
};
const fastRetry = { initialDelayMs: 1, maxDelayMs: 2 };

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface FakeReply {
  readonly status: number;
  readonly body: unknown;
}

/** A registry stand-in that answers from a script and records what it was asked. */
async function fakeRegistry(reply: (seen: Seen, index: number) => FakeReply): Promise<{
  url: string;
  seen: Seen[];
  close: () => Promise<void>;
}> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text };
      seen.push(request);
      const { status, body } = reply(request, seen.length - 1);
      res.writeHead(status, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('registry client against the embedded registry', () => {
  let registry: EmbeddedRegistry;
  before(async () => {
    registry = await startEmbeddedRegistry({ port: 0, store: new MemorySchemaStore(), logger: silentLogger() });
  });
  after(() => registry.close());

  it('registers, fetches by id and reads the latest version', async () => {
    const client = createRegistryClient({ url: `${registry.url}/`, logger: silentLogger() });
    const id = await client.register('embedded-value', schema);
    assert.equal(await client.register('embedded-value', JSON.stringify(schema)), id);
    assert.deepEqual(await client.getById(id), schema);
    assert.deepEqual(await client.latest('embedded-value'), { id, version: 1, schema });
  });

  it('names the subject and the URL when the registry refuses an incompatible schema', async () => {
    const client = createRegistryClient({ url: registry.url, logger: silentLogger() });
    await client.register('refused-value', schema);
    const breaking = { ...schema, fields: [...schema.fields, { name: 'x', type: 'string' }] };
    await assert.rejects(client.register('refused-value', breaking), (error: unknown) => {
      assert.ok(error instanceof RegistryRequestError);
      assert.equal(error.status, 409);
      assert.equal(error.errorCode, 409);
      assert.equal(error.retriable, false);
      assert.match(error.message, /refused-value/);
      assert.ok(error.message.includes(registry.url));
      assert.ok(error.fix);
      return true;
    });
  });

  it('reports an unknown subject as 40401', async () => {
    const client = createRegistryClient({ url: registry.url, logger: silentLogger() });
    await assert.rejects(client.latest('never-registered'), (error: unknown) => {
      assert.ok(error instanceof RegistryRequestError);
      assert.equal(error.errorCode, 40401);
      assert.match(error.message, /never-registered/);
      return true;
    });
  });
});

describe('registry client behaviour', () => {
  it('caches registrations and schemas so repeated calls make no requests', async () => {
    const fake = await fakeRegistry((seen) =>
      seen.method === 'POST'
        ? { status: 200, body: { id: 7 } }
        : { status: 200, body: { schema: JSON.stringify(schema) } },
    );
    try {
      const client = createRegistryClient({ url: fake.url, logger: silentLogger() });
      const concurrent = [client.register('cache-value', schema), client.register('cache-value', schema)];
      assert.deepEqual(await Promise.all(concurrent), [7, 7]);
      for (let i = 0; i < 100; i++) assert.equal(await client.register('cache-value', schema), 7);
      assert.equal(fake.seen.length, 1);
      assert.equal(fake.seen[0]?.url, '/subjects/cache-value/versions');
      assert.deepEqual(JSON.parse(fake.seen[0]?.body ?? ''), { schema: JSON.stringify(schema) });
      assert.equal(fake.seen[0]?.headers['content-type'], 'application/vnd.schemaregistry.v1+json');

      await client.register('other-value', schema);
      assert.equal(fake.seen.length, 2, 'another subject is another registration');

      assert.deepEqual(await client.getById(7), schema);
      assert.deepEqual(await client.getById(7), schema);
      assert.equal(fake.seen.length, 3);
    } finally {
      await fake.close();
    }
  });

  it('retries transient failures (5xx, 429) and then succeeds', async () => {
    const fake = await fakeRegistry((_seen, index) =>
      index === 0
        ? { status: 503, body: { error_code: 50003, message: 'forwarding failed' } }
        : index === 1
          ? { status: 429, body: 'slow down' }
          : { status: 200, body: { id: 3 } },
    );
    try {
      const client = createRegistryClient({ url: fake.url, logger: silentLogger(), retry: fastRetry });
      assert.equal(await client.register('retry-value', schema), 3);
      assert.equal(fake.seen.length, 3);
    } finally {
      await fake.close();
    }
  });

  it('does not retry client errors and forgets the failure so a later call asks again', async () => {
    let accept = false;
    const fake = await fakeRegistry(() =>
      accept
        ? { status: 200, body: { id: 4 } }
        : { status: 422, body: { error_code: 42201, message: 'Invalid schema' } },
    );
    try {
      const client = createRegistryClient({ url: fake.url, logger: silentLogger(), retry: fastRetry });
      await assert.rejects(client.register('invalid-value', schema), (error: unknown) => {
        assert.ok(error instanceof RegistryRequestError);
        assert.equal(error.errorCode, 42201);
        assert.match(error.message, /invalid-value/);
        return true;
      });
      assert.equal(fake.seen.length, 1);
      accept = true;
      assert.equal(await client.register('invalid-value', schema), 4);
    } finally {
      await fake.close();
    }
  });

  it('sends basic auth from the options or from the URL', async () => {
    const fake = await fakeRegistry(() => ({ status: 200, body: { id: 1 } }));
    try {
      const expected = `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
      const fromOptions = createRegistryClient({
        url: fake.url,
        auth: { username: 'user', password: 'p@ss' },
        logger: silentLogger(),
      });
      await fromOptions.register('auth-value', schema);
      const fromUrl = createRegistryClient({ url: fake.url.replace('//', '//user:p%40ss@'), logger: silentLogger() });
      await fromUrl.register('auth-value', schema);
      assert.deepEqual(
        fake.seen.map((s) => s.headers.authorization),
        [expected, expected],
      );
      const anonymous = createRegistryClient({ url: fake.url, logger: silentLogger() });
      await anonymous.register('auth-value', schema);
      assert.equal(fake.seen[2]?.headers.authorization, undefined);
    } finally {
      await fake.close();
    }
  });

  it('explains rejected credentials', async () => {
    const fake = await fakeRegistry(() => ({ status: 401, body: { error_code: 401, message: 'Unauthorized' } }));
    try {
      const client = createRegistryClient({ url: fake.url, logger: silentLogger(), retry: fastRetry });
      await assert.rejects(client.latest('secret-value'), (error: unknown) => {
        assert.ok(error instanceof RegistryRequestError);
        assert.equal(error.status, 401);
        assert.match(error.fix ?? '', /username and password/);
        return true;
      });
      assert.equal(fake.seen.length, 1);
    } finally {
      await fake.close();
    }
  });

  it('gives up on an unreachable registry with a retriable ConnectionError naming the URL', async () => {
    const fake = await fakeRegistry(() => ({ status: 200, body: {} }));
    const { url } = fake;
    await fake.close();
    const client = createRegistryClient({ url, logger: silentLogger(), retry: { ...fastRetry, retries: 2 } });
    await assert.rejects(client.register('down-value', schema), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.equal(error.retriable, true);
      assert.ok(error.message.includes(url));
      assert.match(error.message, /down-value/);
      return true;
    });
  });

  it('keeps a base path and rejects a URL that is not one', async () => {
    const fake = await fakeRegistry(() => ({ status: 200, body: { id: 9 } }));
    try {
      const client = createRegistryClient({ url: `${fake.url}/apis/ccompat/v7/`, logger: silentLogger() });
      await client.register('a/b', schema);
      assert.equal(fake.seen[0]?.url, '/apis/ccompat/v7/subjects/a%2Fb/versions');
    } finally {
      await fake.close();
    }
    for (const url of ['localhost:8081', 'http//x']) {
      assert.throws(() => createRegistryClient({ url, logger: silentLogger() }), /not an http\(s\) URL/);
    }
  });
});
