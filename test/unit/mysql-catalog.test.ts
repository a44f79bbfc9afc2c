import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/model/errors.js';
import { buildTableSchema, parseTableName, reconcileWithBinlog, type CatalogTable } from '../../src/sources/mysql/catalog.js';

const TABLE: CatalogTable = {
  id: { database: 'shop', table: 'orders' },
  primaryKey: ['id'],
  columns: [
    { name: 'id', columnType: 'int(11)', nullable: false },
    { name: 'note', columnType: 'longtext', nullable: true, json: true },
    { name: 'secret', columnType: 'varchar(10)', nullable: true },
  ],
};

test('table names must be database.table', () => {
  assert.deepEqual(parseTableName('shop.orders'), { database: 'shop', table: 'orders' });
  assert.throws(() => parseTableName('orders'), ConfigError);
});

test('the column filter and key apply to the catalog description', () => {
  const schema = buildTableSchema(TABLE, { name: 'shop.orders', columns: { exclude: ['secret'] } });
  assert.deepEqual(schema.columns.map((c) => [c.name, c.type.kind, c.nullable, c.sourceType]), [
    ['id', 'int32', false, 'int(11)'],
    ['note', 'json', true, 'longtext'],
  ]);
  assert.deepEqual(schema.key, ['id']);
  assert.deepEqual(buildTableSchema(TABLE, { name: 'shop.orders', key: ['secret'] }).key, ['secret']);
  assert.throws(() => buildTableSchema(TABLE, { name: 'shop.orders', columns: { include: ['nope'] } }), /column nope/);
  assert.throws(() => buildTableSchema(TABLE, { name: 'shop.orders', columns: { include: ['note'] } }), /key column id/);
});

test('the catalog describes binlog rows only when it agrees column for column', () => {
  const same = [
    { name: 'id', columnType: 'int' },
    { name: 'note', columnType: 'longtext' },
    { name: 'secret', columnType: 'varchar(10)' },
  ];
  assert.equal(reconcileWithBinlog(TABLE, same, [0].map(() => 'id')), TABLE);
  const older = [
    { name: 'id', columnType: 'int' },
    { name: 'note', columnType: 'longtext' },
  ];
  const fitted = reconcileWithBinlog(TABLE, older, ['id']);
  assert.notEqual(fitted, TABLE);
  // Nullability and JSON-ness from the same-named catalog column; a primary key column is NOT NULL.
  assert.deepEqual(fitted.columns, [
    { name: 'id', columnType: 'int', nullable: false, json: false },
    { name: 'note', columnType: 'longtext', nullable: true, json: true },
  ]);
  const retyped = reconcileWithBinlog(TABLE, [{ name: 'id', columnType: 'bigint' }, ...older.slice(1), same[2]!], undefined);
  assert.equal(retyped.columns[0]!.columnType, 'bigint');
  assert.deepEqual(retyped.primaryKey, ['id']);
  // A binlog-era version may lack configured columns: not an error there.
  const schema = buildTableSchema(fitted, { name: 'shop.orders', columns: { exclude: ['secret'] } }, false);
  assert.deepEqual(schema.columns.map((c) => c.name), ['id', 'note']);
});

test('a binlog-era version keeps nullability from the previous version, then the catalog, else nullable', () => {
  const catalog: CatalogTable = {
    id: { database: 'shop', table: 'orders' },
    primaryKey: ['id'],
    columns: [
      { name: 'id', columnType: 'int(11)', nullable: false },
      { name: 'qty', columnType: 'bigint(20)', nullable: true }, // since retyped and made nullable
      { name: 'added', columnType: 'int(11)', nullable: false },
    ],
  };
  const previous = buildTableSchema(
    { ...catalog, columns: [catalog.columns[0]!, { name: 'qty', columnType: 'int(11)', nullable: false }] },
    { name: 'shop.orders' },
  ).columns;
  const binlog = [
    { name: 'id', columnType: 'int' },
    { name: 'qty', columnType: 'int' },
    { name: 'added', columnType: 'int' },
    { name: 'gone', columnType: 'int' },
  ];
  const fitted = reconcileWithBinlog(catalog, binlog, ['id'], previous);
  assert.deepEqual(fitted.columns.map((c) => [c.name, c.nullable]), [
    ['id', false],
    ['qty', false], // the previous version, not the retyped catalog column
    ['added', false], // the catalog
    ['gone', true], // known to neither
  ]);
});

test('column defaults reach the schema, and a binlog-era version takes them where it takes nullability', () => {
  const catalog: CatalogTable = {
    id: { database: 'shop', table: 'orders' },
    primaryKey: ['id'],
    columns: [
      { name: 'id', columnType: 'int(11)', nullable: false },
      { name: 'qty', columnType: 'bigint(20)', nullable: false, defaultValue: 7n }, // since retyped
      { name: 'added', columnType: 'int(11)', nullable: false, defaultValue: 5 },
    ],
  };
  const schema = buildTableSchema(catalog, { name: 'shop.orders' });
  assert.deepEqual(schema.columns.map((c) => c.defaultValue), [undefined, 7n, 5]);
  assert.equal('defaultValue' in schema.columns[0]!, false);
  const previous = buildTableSchema(
    { ...catalog, columns: [catalog.columns[0]!, { name: 'qty', columnType: 'int(11)', nullable: false, defaultValue: 1 }] },
    { name: 'shop.orders' },
  ).columns;
  const binlog = [
    { name: 'id', columnType: 'int' },
    { name: 'qty', columnType: 'int' },
    { name: 'added', columnType: 'int' },
    { name: 'gone', columnType: 'int' },
  ];
  const fitted = reconcileWithBinlog(catalog, binlog, ['id'], previous);
  assert.deepEqual(fitted.columns.map((c) => [c.name, c.defaultValue]), [
    ['id', undefined],
    ['qty', 1], // the previous version, not the retyped catalog column
    ['added', 5], // the catalog
    ['gone', undefined],
  ]);
});
