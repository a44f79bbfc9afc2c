import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/ops/logger.js';
import { MemorySchemaStore } from '../../src/registry/memory-store.js';
import { startEmbeddedRegistry, type EmbeddedRegistry } from '../../src/registry/server.js';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

const userV1 = {
  type: 'record',
  name: 'User',
  namespace: 'test',
  fields: [{ name: 'id', type: 'int' }],
  'connect.name': 'test.User',
};
const userWithOptionalEmail = {
  ...userV1,
  fields: [...userV1.fields, { name: 'email', type: ['null', 'string'], default: null }],
};
const userWithRequiredName = { ...userV1, fields: [...userV1.fields, { name: 'name', type: 'string' }] };

interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  readonly body: unknown;
}

let registry: EmbeddedRegistry;

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(registry.url + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': CONTENT_TYPE },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type'), text, body: parsed };
}

async function register(subject: string, schema: unknown): Promise<Answer> {
  return call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(schema) });
}

function assertError(answer: Answer, status: number, errorCode: number): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.contentType, CONTENT_TYPE);
  const body = answer.body as { error_code: unknown; message: unknown };
  assert.equal(body.error_code, errorCode, answer.text);
  assert.equal(typeof body.message, 'string');
}

before(async () => {
  registry = await startEmbeddedRegistry({ port: 0, store: new MemorySchemaStore(), logger: silentLogger() });
});
after(() => registry.close());

describe('embedded registry: registration and reads', () => {
  it('answers the root and the supported schema types', async () => {
    const root = await call('GET', '/');
    assert.equal(root.status, 200);
    assert.deepEqual(root.body, {});
    assert.deepEqual((await call('GET', '/schemas/types')).body, ['AVRO']);
  });

  it('registers a schema and returns its global id, deduplicating equal texts', async () => {
    const first = await register('reads-value', userV1);
    assert.equal(first.status, 200);
    assert.equal(first.contentType, CONTENT_TYPE);
    const { id } = first.body as { id: number };
    assert.ok(Number.isInteger(id) && id > 0);
    assert.deepEqual(first.body, { id });

    // Same JSON with other whitespace: same schema, no new version.
    const again = await call('POST', '/subjects/reads-value/versions', { schema: JSON.stringify(userV1, null, 2) });
    assert.deepEqual(again.body, { id });
    assert.deepEqual((await call('GET', '/subjects/reads-value/versions')).body, [1]);

    // Same schema under another subject: same id, that subject's version 1.
    assert.deepEqual((await register('reads-other', userV1)).body, { id });
    assert.deepEqual((await call('GET', `/schemas/ids/${id}/versions`)).body, [
      { subject: 'reads-other', version: 1 },
      { subject: 'reads-value', version: 1 },
    ]);
  });

  it('serves schemas by id, keeping connect.* properties, without schemaType for Avro', async () => {
    const { id } = (await register('byid-value', userV1)).body as { id: number };
    const answer = await call('GET', `/schemas/ids/${id}`);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { schema: JSON.stringify(userV1) });
    assert.equal(JSON.parse((answer.body as { schema: string }).schema)['connect.name'], 'test.User');

    const raw = await call('GET', `/schemas/ids/${id}/schema`);
    assert.equal(raw.text, JSON.stringify(userV1));

    assertError(await call('GET', '/schemas/ids/9999'), 404, 40403);
    assertError(await call('GET', '/schemas/ids/abc'), 404, 40403);
    assertError(await call('GET', '/schemas/ids/9999/versions'), 404, 40403);
  });

  it('lists subjects and versions', async () => {
    await register('list-value', userV1);
    await register('list-value', userWithOptionalEmail);
    const subjects = (await call('GET', '/subjects')).body as string[];
    assert.ok(subjects.includes('list-value'));
    assert.deepEqual((await call('GET', '/subjects/list-value/versions')).body, [1, 2]);
    assertError(await call('GET', '/subjects/no-such-subject/versions'), 404, 40401);
  });

  it('serves a subject version by number, latest and -1, and its bare schema', async () => {
    const v1 = (await register('version-value', userV1)).body as { id: number };
    const v2 = (await register('version-value', userWithOptionalEmail)).body as { id: number };
    assert.deepEqual((await call('GET', '/subjects/version-value/versions/1')).body, {
      subject: 'version-value',
      version: 1,
      id: v1.id,
      schema: JSON.stringify(userV1),
    });
    const latest = { subject: 'version-value', version: 2, id: v2.id, schema: JSON.stringify(userWithOptionalEmail) };
    assert.deepEqual((await call('GET', '/subjects/version-value/versions/latest')).body, latest);
    assert.deepEqual((await call('GET', '/subjects/version-value/versions/-1')).body, latest);

    const raw = await call('GET', '/subjects/version-value/versions/1/schema');
    assert.equal(raw.status, 200);
    assert.equal(raw.text, JSON.stringify(userV1));

    assertError(await call('GET', '/subjects/version-value/versions/7'), 404, 40402);
    assertError(await call('GET', '/subjects/version-value/versions/abc'), 422, 42202);
    assertError(await call('GET', '/subjects/version-value/versions/0'), 422, 42202);
    assertError(await call('GET', '/subjects/no-such-subject/versions/1'), 404, 40401);
    assertError(await call('GET', '/subjects/no-such-subject/versions/latest'), 404, 40401);
  });

  it('looks a schema up in a subject', async () => {
    const { id } = (await register('lookup-value', userV1)).body as { id: number };
    const found = await call('POST', '/subjects/lookup-value', { schema: JSON.stringify(userV1, null, 1) });
    assert.equal(found.status, 200);
    assert.deepEqual(found.body, { subject: 'lookup-value', id, version: 1, schema: JSON.stringify(userV1) });

    const missing = await call('POST', '/subjects/lookup-value', { schema: JSON.stringify(userWithOptionalEmail) });
    assertError(missing, 404, 40403);
    assert.equal((missing.body as { message: string }).message, 'Schema not found');
    assertError(await call('POST', '/subjects/no-such-subject', { schema: '"string"' }), 404, 40401);
  });

  it('keeps subjects containing a slash as one path segment', async () => {
    const { id } = (await register('db/table-value', userV1)).body as { id: number };
    const answer = await call('GET', `/subjects/${encodeURIComponent('db/table-value')}/versions/latest`);
    assert.equal((answer.body as { id: number; subject: string }).id, id);
    assert.equal((answer.body as { subject: string }).subject, 'db/table-value');
  });

  it('deletes a subject, keeping its schemas readable by id', async () => {
    const { id } = (await register('delete-value', userV1)).body as { id: number };
    await register('delete-value', userWithOptionalEmail);
    const deleted = await call('DELETE', '/subjects/delete-value');
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body, [1, 2]);
    assertError(await call('GET', '/subjects/delete-value/versions'), 404, 40401);
    assert.ok(!((await call('GET', '/subjects')).body as string[]).includes('delete-value'));
    assert.equal((await call('GET', `/schemas/ids/${id}`)).status, 200);
    assertError(await call('DELETE', '/subjects/delete-value'), 404, 40401);
  });
});

describe('embedded registry: bad requests', () => {
  it('rejects invalid Avro with 422 / 42201', async () => {
    const invalid = [{ schema: '{"type":"record","name":"x"}' }, { schema: '{"type":"nope"}' }, { schema: 'no' }, {}];
    for (const body of invalid) {
      assertError(await call('POST', '/subjects/bad-value/versions', body), 422, 42201);
    }
    const defaultMismatch = { ...userV1, fields: [{ name: 'id', type: 'int', default: 'x' }] };
    assertError(await register('bad-value', defaultMismatch), 422, 42201);
    assertError(await call('GET', '/subjects/bad-value/versions'), 404, 40401);
  });

  it('rejects other schema types and references with 42201', async () => {
    const json = { schema: '{"type":"object"}', schemaType: 'JSON' };
    assertError(await call('POST', '/subjects/bad-value/versions', json), 422, 42201);
    const withReferences = { schema: '"string"', references: [{ name: 'x', subject: 'y', version: 1 }] };
    assertError(await call('POST', '/subjects/bad-value/versions', withReferences), 422, 42201);
    const explicitAvro = { schema: '"string"', schemaType: 'AVRO' };
    assert.equal((await call('POST', '/subjects/avro-value/versions', explicitAvro)).status, 200);
  });

  it('answers malformed JSON with 400, unknown paths with 404 and wrong methods with 405', async () => {
    assertError(await call('POST', '/subjects/bad-value/versions', '{oops'), 400, 400);
    assertError(await call('GET', '/no/such/path'), 404, 404);
    assertError(await call('PUT', '/subjects'), 405, 405);
  });
});

describe('embedded registry: compatibility', () => {
  it('defaults to BACKWARD globally and reports subjects without their own level as 40408', async () => {
    assert.deepEqual((await call('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' });
    assertError(await call('GET', '/config/unconfigured-value'), 404, 40408);
    assert.deepEqual((await call('GET', '/config/unconfigured-value?defaultToGlobal=true')).body, {
      compatibilityLevel: 'BACKWARD',
    });
  });

  it('rejects a backward-incompatible registration with 409 and accepts a compatible evolution', async () => {
    await register('evolve-value', userV1);
    const rejected = await register('evolve-value', userWithRequiredName);
    assertError(rejected, 409, 409);
    assert.match((rejected.body as { message: string }).message, /evolve-value/);
    assert.deepEqual((await call('GET', '/subjects/evolve-value/versions')).body, [1]);

    assert.equal((await register('evolve-value', userWithOptionalEmail)).status, 200);
    assert.deepEqual((await call('GET', '/subjects/evolve-value/versions')).body, [1, 2]);
  });

  it('tests compatibility against latest or a given version without registering', async () => {
    await register('check-value', userV1);
    const path = '/compatibility/subjects/check-value/versions';
    const bad = { schema: JSON.stringify(userWithRequiredName) };
    const good = { schema: JSON.stringify(userWithOptionalEmail) };
    assert.deepEqual((await call('POST', `${path}/latest`, bad)).body, { is_compatible: false });
    assert.deepEqual((await call('POST', `${path}/latest`, good)).body, { is_compatible: true });
    assert.deepEqual((await call('POST', `${path}/1`, good)).body, { is_compatible: true });
    assert.deepEqual((await call('POST', path, good)).body, { is_compatible: true });
    const verbose = (await call('POST', `${path}/latest?verbose=true`, bad)).body as { messages: string[] };
    assert.equal(verbose.messages.length, 1);
    assert.match(verbose.messages[0] ?? '', /name/);

    assertError(await call('POST', `${path}/5`, good), 404, 40402);
    assertError(await call('POST', `${path}/x`, good), 422, 42202);
    assertError(await call('POST', `${path}/latest`, { schema: '{' }), 422, 42201);
    assertError(await call('POST', '/compatibility/subjects/no-such-subject/versions/1', good), 404, 40401);
    assert.deepEqual((await call('POST', '/compatibility/subjects/no-such-subject/versions/latest', good)).body, {
      is_compatible: true,
    });
    assert.deepEqual((await call('GET', '/subjects/check-value/versions')).body, [1]);
  });

  it('sets subject levels: NONE allows anything, FORWARD checks that old readers can read new data', async () => {
    await register('level-value', userWithOptionalEmail);
    const put = await call('PUT', '/config/level-value', { compatibility: 'FORWARD' });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, { compatibility: 'FORWARD' });
    assert.deepEqual((await call('GET', '/config/level-value')).body, { compatibilityLevel: 'FORWARD' });

    // Dropping the defaulted field is fine for old readers; dropping required `id` is not.
    assert.equal((await register('level-value', userV1)).status, 200);
    const noId = { ...userV1, fields: [{ name: 'other', type: ['null', 'int'], default: null }] };
    assertError(await register('level-value', noId), 409, 409);

    await call('PUT', '/config/level-value', { compatibility: 'none' });
    assert.deepEqual((await call('GET', '/config/level-value')).body, { compatibilityLevel: 'NONE' });
    assert.equal((await register('level-value', noId)).status, 200);
  });

  it('checks every earlier version under BACKWARD_TRANSITIVE but only the latest under BACKWARD', async () => {
    const withDefaultedName = { ...userV1, fields: [...userV1.fields, { name: 'name', type: 'string', default: '' }] };
    await register('transitive-value', userV1);
    await register('transitive-value', withDefaultedName);
    const path = '/compatibility/subjects/transitive-value/versions/latest';
    const candidate = { schema: JSON.stringify(userWithRequiredName) };
    assert.deepEqual((await call('POST', path, candidate)).body, { is_compatible: true });
    await call('PUT', '/config/transitive-value', { compatibility: 'BACKWARD_TRANSITIVE' });
    assert.deepEqual((await call('POST', path, candidate)).body, { is_compatible: false });
    assertError(await call('POST', '/subjects/transitive-value/versions', candidate), 409, 409);
  });

  it('sets the global level and rejects unknown levels with 42203', async () => {
    assertError(await call('PUT', '/config', { compatibility: 'SIDEWAYS' }), 422, 42203);
    assertError(await call('PUT', '/config/x-value', {}), 422, 42203);
    assert.deepEqual((await call('PUT', '/config', { compatibility: 'FULL' })).body, { compatibility: 'FULL' });
    assert.deepEqual((await call('GET', '/config')).body, { compatibilityLevel: 'FULL' });
    await register('full-value', userV1);
    // FULL: the new field needs a default for old data, and removing fields needs defaults for old readers.
    assertError(await register('full-value', userWithRequiredName), 409, 409);
    assert.equal((await register('full-value', userWithOptionalEmail)).status, 200);
    await call('PUT', '/config', { compatibility: 'BACKWARD' });
  });
});
