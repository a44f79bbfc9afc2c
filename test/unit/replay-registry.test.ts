import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/model/errors.js';
import { ReplayRegistrar } from '../../src/replay/registry-guard.js';
import { startTestRegistry, type TestRegistry } from '../support/daemon.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

const schema = JSON.stringify({ type: 'record', name: 'Value', namespace: 'shop.public.orders', fields: [{ name: 'id', type: 'int' }] });

function recorder(): { calls: string[]; register(subject: string): Promise<number> } {
  const calls: string[] = [];
  return { calls, register: async (subject: string) => (calls.push(subject), 1) };
}

test('the live subjects become the target topic subjects; others pass through', async () => {
  const inner = recorder();
  const registrar = new ReplayRegistrar(inner, { url: registry.url }, { from: 'shop.public.orders', to: 'orders-copy' });
  await registrar.register('shop.public.orders-value', schema);
  await registrar.register('shop.public.orders-key', schema);
  await registrar.register('shop.transaction-value', schema);
  assert.deepEqual(inner.calls, ['orders-copy-value', 'orders-copy-key', 'shop.transaction-value']);
});

test('an incompatible registered schema is refused before registering, naming the subject', async () => {
  const subject = `taken-${Date.now()}-value`;
  const other = JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'something', type: 'string' }] });
  const response = await fetch(`${registry.url}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: other }),
  });
  assert.equal(response.status, 200);
  const inner = recorder();
  const registrar = new ReplayRegistrar(inner, { url: registry.url }, undefined);
  await assert.rejects(registrar.register(subject, schema), (error: unknown) => {
    assert.ok(error instanceof TributaryError);
    assert.match(error.message, new RegExp(`subject "${subject}"`));
    return true;
  });
  assert.deepEqual(inner.calls, []);
});
