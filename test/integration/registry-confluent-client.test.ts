/**
 * The embedded registry against a real, independent Confluent client: @kafkajs/confluent-schema-registry registers,
 * encodes and decodes through it exactly as it would against Confluent's own server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { silentLogger } from '../../src/ops/logger.js';
import { createRegistryClient } from '../../src/registry/client.js';
import { MemorySchemaStore } from '../../src/registry/memory-store.js';
import { startEmbeddedRegistry, type EmbeddedRegistry } from '../../src/registry/server.js';

const runId = `${process.pid}_${Date.now()}`;
const namespace = `tributary.test_${runId}`;

const v1 = {
  type: 'record',
  name: 'Customer',
  namespace,
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
  ],
  'connect.name': `${namespace}.Customer`,
};
const v2Compatible = {
  ...v1,
  fields: [...v1.fields, { name: 'email', type: ['null', 'string'], default: null }],
};
const v2Incompatible = { ...v1, fields: [...v1.fields, { name: 'age', type: 'int' }] };

describe('embedded registry with @kafkajs/confluent-schema-registry', () => {
  let registry: EmbeddedRegistry;
  let confluent: SchemaRegistry;

  before(async () => {
    registry = await startEmbeddedRegistry({ port: 0, store: new MemorySchemaStore(), logger: silentLogger() });
    confluent = new SchemaRegistry({ host: registry.url, retry: { retries: 0 } });
  });
  after(() => registry.close());

  it('registers, encodes in the Confluent wire format and decodes', async () => {
    const subject = `customers_${runId}-value`;
    const { id } = await confluent.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    assert.ok(id > 0);
    assert.equal(await confluent.getLatestSchemaId(subject), id);

    const payload = { id: 42, name: 'Ada' };
    const encoded = await confluent.encode(id, payload);
    assert.equal(encoded[0], 0, 'magic byte');
    assert.equal(encoded.readInt32BE(1), id, 'schema id in the header');

    // A fresh client has no cache, so decoding fetches the writer schema from the registry by id.
    const fresh = new SchemaRegistry({ host: registry.url });
    assert.deepEqual({ ...(await fresh.decode(encoded)) }, payload);

    // Registering the same schema again is idempotent, and the lookup endpoint finds it.
    const again = await confluent.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1, null, 2) }, { subject });
    assert.equal(again.id, id);
    const lookup = { type: SchemaType.AVRO, schema: JSON.stringify(v1) } as const;
    assert.equal(await confluent.getRegistryIdBySchema(subject, lookup), id);

    // The client set BACKWARD on the subject on first registration, as it does against Confluent.
    const config = await fetch(`${registry.url}/config/${subject}`).then((r) => r.json());
    assert.deepEqual(config, { compatibilityLevel: 'BACKWARD' });
  });

  it('rejects an incompatible change under BACKWARD and accepts a compatible evolution', async () => {
    const subject = `evolving_${runId}-value`;
    const { id: id1 } = await confluent.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });

    await assert.rejects(
      confluent.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2Incompatible) }, { subject }),
      (error: unknown) => {
        assert.equal((error as { status?: number }).status, 409);
        assert.match((error as Error).message, /incompatible/);
        return true;
      },
    );
    assert.equal(await confluent.getLatestSchemaId(subject), id1);

    const compatible = { type: SchemaType.AVRO, schema: JSON.stringify(v2Compatible) } as const;
    const { id: id2 } = await confluent.register(compatible, { subject });
    assert.notEqual(id2, id1);
    assert.equal(await confluent.getLatestSchemaId(subject), id2);

    // Old data read with the new schema as reader: the added field takes its default.
    const oldRecord = await confluent.encode(id1, { id: 1, name: 'old' });
    const upgraded = await confluent.decode(oldRecord, {
      [SchemaType.AVRO]: { readerSchema: { ...v2Compatible, type: 'record' as const } },
    });
    assert.deepEqual({ ...upgraded }, { id: 1, name: 'old', email: null });
  });

  it('agrees with Tributary’s own client on ids and schemas', async () => {
    const subject = `shared_${runId}-value`;
    const ours = createRegistryClient({ url: registry.url, logger: silentLogger() });
    const id = await ours.register(subject, v1);
    const { id: theirs } = await confluent.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    assert.equal(theirs, id);

    const encoded = await confluent.encode(id, { id: 7, name: 'shared' });
    const decoded = await new SchemaRegistry({ host: registry.url }).decode(encoded);
    assert.deepEqual({ ...decoded }, { id: 7, name: 'shared' });
    assert.deepEqual(await ours.getById(id), v1);
  });
});
