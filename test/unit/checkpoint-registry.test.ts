import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/model/errors.js';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { tempDir } from '../support/checkpoint-fixtures.js';

const tmp = tempDir();
after(() => tmp.remove());
let counter = 0;
const freshPath = () => tmp.file(`registry-${++counter}.db`);

const recordV1 = JSON.stringify({ type: 'record', name: 'Value', fields: [{ name: 'id', type: 'int' }] });
const recordV2 = JSON.stringify({
  type: 'record',
  name: 'Value',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'name', type: ['null', 'string'], default: null },
  ],
});

describe('checkpoint store: schema registry storage', () => {
  it('registers idempotently, with global ids from 1 and versions per subject', () => {
    const store = CheckpointStore.open(':memory:');
    assert.deepEqual(store.registerSchema('orders-value', recordV1), { id: 1, version: 1, created: true });
    assert.deepEqual(store.registerSchema('orders-value', recordV1), { id: 1, version: 1, created: false });
    // whitespace does not make a different schema
    assert.deepEqual(store.registerSchema('orders-value', JSON.stringify(JSON.parse(recordV1), null, 2)), {
      id: 1,
      version: 1,
      created: false,
    });
    assert.deepEqual(store.registerSchema('orders-value', recordV2), { id: 2, version: 2, created: true });
    // an old schema already in the subject is found, not re-added
    assert.deepEqual(store.registerSchema('orders-value', recordV1), { id: 1, version: 1, created: false });
    // the same schema under another subject shares the id but gets its own version
    assert.deepEqual(store.registerSchema('customers-value', recordV2), { id: 2, version: 1, created: true });
    assert.deepEqual(store.registerSchema('orders-key', '"int"'), { id: 3, version: 1, created: true });
    // the same text as another type is a different schema
    assert.deepEqual(store.registerSchema('orders-json', recordV1, 'JSON'), { id: 4, version: 1, created: true });

    assert.deepEqual(store.getSchemaById(2), { id: 2, schema: recordV2, schemaType: 'AVRO' });
    assert.equal(store.getSchemaById(99), undefined);
    assert.deepEqual(store.listSubjects(), ['customers-value', 'orders-json', 'orders-key', 'orders-value']);
    assert.deepEqual(store.listVersions('orders-value'), [1, 2]);
    assert.deepEqual(store.listVersions('nope'), []);
    assert.deepEqual(store.getSubjectVersion('orders-value', 'latest'), {
      subject: 'orders-value',
      version: 2,
      id: 2,
      schema: recordV2,
      schemaType: 'AVRO',
      deleted: false,
    });
    assert.equal(store.getSubjectVersion('orders-value', 1)?.id, 1);
    assert.equal(store.getSubjectVersion('orders-value', 3), undefined);
    assert.equal(store.getSubjectVersion('nope', 'latest'), undefined);
    assert.equal(store.findSchemaInSubject('orders-value', ` ${recordV2}\n`)?.version, 2);
    assert.equal(store.findSchemaInSubject('orders-key', recordV2), undefined);
    assert.deepEqual(
      store.listSubjectVersionsForSchema(2).map((v) => [v.subject, v.version]),
      [
        ['customers-value', 1],
        ['orders-value', 2],
      ],
    );
    store.close();
  });

  it('keeps ids and versions stable across reopen', () => {
    const path = freshPath();
    const first = CheckpointStore.open(path);
    first.registerSchema('a-value', recordV1);
    first.registerSchema('b-value', recordV2);
    first.close();

    const second = CheckpointStore.open(path);
    assert.deepEqual(second.registerSchema('b-value', recordV2), { id: 2, version: 1, created: false });
    assert.deepEqual(second.registerSchema('a-value', recordV2), { id: 2, version: 2, created: true });
    assert.deepEqual(second.registerSchema('c-value', '"string"'), { id: 3, version: 1, created: true });
    assert.deepEqual(second.getSchemaById(1), { id: 1, schema: recordV1, schemaType: 'AVRO' });
    second.close();
  });

  it('soft-deletes subjects and versions without reusing numbers, and deletes permanently on request', () => {
    const store = CheckpointStore.open(':memory:');
    store.registerSchema('s', recordV1);
    store.registerSchema('s', recordV2);
    assert.deepEqual(store.deleteSubject('s'), [1, 2]);
    assert.deepEqual(store.listSubjects(), []);
    assert.deepEqual(store.listSubjects({ includeDeleted: true }), ['s']);
    assert.deepEqual(store.listVersions('s'), []);
    assert.deepEqual(store.listVersions('s', { includeDeleted: true }), [1, 2]);
    assert.equal(store.getSubjectVersion('s', 'latest'), undefined);
    assert.equal(store.getSubjectVersion('s', 2, { includeDeleted: true })?.deleted, true);
    assert.equal(store.findSchemaInSubject('s', recordV1), undefined);
    assert.deepEqual(store.getSchemaById(1)?.id, 1, 'schemas outlive their subjects');

    assert.deepEqual(store.registerSchema('s', recordV1), { id: 1, version: 3, created: true });
    assert.equal(store.deleteSubjectVersion('s', 3), true);
    assert.equal(store.deleteSubjectVersion('s', 7), false);
    assert.deepEqual(store.registerSchema('s', recordV1), { id: 1, version: 4, created: true });

    assert.deepEqual(store.deleteSubject('s', { permanent: true }), [1, 2, 3, 4]);
    assert.deepEqual(store.listSubjects({ includeDeleted: true }), []);
    assert.deepEqual(store.registerSchema('s', recordV2), { id: 2, version: 1, created: true });
    assert.equal(store.deleteSubjectVersion('s', 1, { permanent: true }), true);
    assert.deepEqual(store.listVersions('s', { includeDeleted: true }), []);
    store.close();
  });

  it('keeps compatibility globally and per subject, BACKWARD by default', () => {
    const path = freshPath();
    const store = CheckpointStore.open(path);
    assert.equal(store.getCompatibility(), 'BACKWARD');
    assert.equal(store.getCompatibility('orders-value'), 'BACKWARD');
    assert.equal(store.getSubjectCompatibility('orders-value'), undefined);
    assert.equal(store.setCompatibility('FULL'), 'FULL');
    assert.equal(store.getCompatibility('orders-value'), 'FULL', 'subjects follow the global level');
    store.setCompatibility('NONE', 'orders-value');
    store.close();

    const reopened = CheckpointStore.open(path);
    assert.equal(reopened.getCompatibility(), 'FULL');
    assert.equal(reopened.getCompatibility('orders-value'), 'NONE');
    assert.equal(reopened.getSubjectCompatibility('orders-value'), 'NONE');
    assert.equal(reopened.deleteCompatibility('orders-value'), true);
    assert.equal(reopened.deleteCompatibility('orders-value'), false);
    assert.equal(reopened.getCompatibility('orders-value'), 'FULL');

    reopened.close();
  });

  it('rejects bad input with errors that name it and the fix', () => {
    const store = CheckpointStore.open(':memory:');
    const expectError = (fn: () => unknown, message: RegExp, fix: RegExp) =>
      assert.throws(fn, (error: unknown) => {
        assert.ok(error instanceof TributaryError);
        assert.match(error.message, message);
        assert.match(error.fix ?? '', fix);
        return true;
      });
    expectError(() => store.setCompatibility('SIDEWAYS', 'orders-value'), /"SIDEWAYS" for subject orders-value/, /BACKWARD_TRANSITIVE/);
    expectError(() => store.registerSchema('orders-value', '{"type":'), /subject orders-value is not valid JSON/, /AVRO schema/);
    expectError(() => store.registerSchema('', '"int"'), /subject name is empty/, /-value/);
    expectError(() => store.setCompatibility('FULL', ''), /subject name is empty/, /-value/);
    expectError(
      () => store.registerSchema('x', '"int"', 'THRIFT' as 'AVRO'),
      /schema type "THRIFT"/,
      /AVRO, JSON, PROTOBUF/,
    );
    assert.deepEqual(store.listSubjects(), []);
    assert.equal(store.getCompatibility(), 'BACKWARD');
    store.close();
  });

  it('stores PROTOBUF text as given, trimmed', () => {
    const store = CheckpointStore.open(':memory:');
    const proto = 'syntax = "proto3";\nmessage V { int32 id = 1; }';
    assert.deepEqual(store.registerSchema('p', `\n${proto}\n`, 'PROTOBUF'), { id: 1, version: 1, created: true });
    assert.deepEqual(store.registerSchema('p', proto, 'PROTOBUF'), { id: 1, version: 1, created: false });
    assert.equal(store.getSchemaById(1)?.schema, proto);
    store.close();
  });
});
