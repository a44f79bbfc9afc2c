import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidSchemaError, parseAvroSchema } from '../../src/registry/avro-schema.js';
import { compatibilityProblems, parseCompatibilityLevel } from '../../src/registry/compatibility.js';

const record = (fields: object[]): string => JSON.stringify({ type: 'record', name: 'Row', namespace: 'db', fields });
const v1 = record([{ name: 'id', type: 'int' }]);
const addedOptional = record([
  { name: 'id', type: 'int' },
  { name: 'note', type: ['null', 'string'], default: null },
]);
const addedRequired = record([
  { name: 'id', type: 'int' },
  { name: 'note', type: 'string' },
]);
const widened = record([{ name: 'id', type: 'long' }]);

describe('parseAvroSchema', () => {
  it('normalises whitespace but keeps connect.* and doc properties', () => {
    const text = '{ "type": "record", "name": "R", "doc": "d", "connect.version": 2,\n "fields": [] }';
    assert.equal(parseAvroSchema(text).text, '{"type":"record","name":"R","doc":"d","connect.version":2,"fields":[]}');
  });

  it('throws InvalidSchemaError for non-JSON and non-Avro', () => {
    assert.throws(() => parseAvroSchema('{'), InvalidSchemaError);
    assert.throws(() => parseAvroSchema('{"type":"record","name":"R"}'), InvalidSchemaError);
    assert.throws(() => parseAvroSchema('"nosuchtype"'), InvalidSchemaError);
  });
});

describe('compatibilityProblems', () => {
  const previous = (...texts: string[]) => texts.map((schemaText, i) => ({ version: i + 1, schemaText }));

  it('BACKWARD: the new schema must read old data', () => {
    assert.deepEqual(compatibilityProblems('BACKWARD', addedOptional, previous(v1)), []);
    assert.deepEqual(compatibilityProblems('BACKWARD', widened, previous(v1)), []);
    const problems = compatibilityProblems('BACKWARD', addedRequired, previous(v1));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /version 1.*note/);
  });

  it('FORWARD: old readers must read new data', () => {
    assert.deepEqual(compatibilityProblems('FORWARD', addedRequired, previous(v1)), []);
    assert.equal(compatibilityProblems('FORWARD', widened, previous(v1)).length, 1);
  });

  it('FULL: both directions', () => {
    assert.deepEqual(compatibilityProblems('FULL', addedOptional, previous(v1)), []);
    assert.equal(compatibilityProblems('FULL', addedRequired, previous(v1)).length, 1);
    assert.equal(compatibilityProblems('FULL', widened, previous(v1)).length, 1);
  });

  it('checks every schema it is given (transitive callers pass all versions)', () => {
    const defaulted = record([
      { name: 'id', type: 'int' },
      { name: 'note', type: 'string', default: '' },
    ]);
    assert.deepEqual(compatibilityProblems('BACKWARD', addedRequired, previous(defaulted)), []);
    assert.equal(compatibilityProblems('BACKWARD_TRANSITIVE', addedRequired, previous(v1, defaulted)).length, 1);
  });

  it('NONE accepts anything, and renamed records are incompatible without aliases', () => {
    const renamed = JSON.stringify({ type: 'record', name: 'Other', fields: [] });
    assert.deepEqual(compatibilityProblems('NONE', renamed, previous(v1)), []);
    assert.equal(compatibilityProblems('BACKWARD', renamed, previous(v1)).length, 1);
  });
});

describe('parseCompatibilityLevel', () => {
  it('accepts any case and rejects unknown levels', () => {
    assert.equal(parseCompatibilityLevel('full_transitive'), 'FULL_TRANSITIVE');
    assert.equal(parseCompatibilityLevel('BACKWARD'), 'BACKWARD');
    assert.equal(parseCompatibilityLevel('SIDEWAYS'), undefined);
    assert.equal(parseCompatibilityLevel(3), undefined);
  });
});
