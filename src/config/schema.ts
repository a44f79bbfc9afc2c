/**
 * The configuration file's shape as zod schemas. Every object is strict so a misspelt key is an error instead of
 * a silently ignored setting. Cross-field rules live on the smallest object that holds both fields, because zod
 * skips a refinement when anything beneath it already failed and we want every problem reported in one run
 * (the uniqueness rules opt out of that skipping with `when`).
 * Derived defaults (slot, publication, topic prefix, registry URL) are filled in by the final transform, so
 * `Config` is what the rest of the daemon sees.
 */
import { z } from 'zod';

/** Fix and found text that `describeIssue` reads from a custom issue's params. */
export interface IssueHint {
  readonly fix: string;
  readonly found?: string;
}

type RefineContext = Parameters<Parameters<z.ZodType['superRefine']>[0]>[1];

function report(ctx: RefineContext, path: PropertyKey[], expected: string, hint: IssueHint): void {
  ctx.addIssue({ code: 'custom', path, message: expected, params: hint });
}

// Uniqueness is checked even when entries have other problems, so one run reports everything. Such entries
// may still be raw input, hence the defensive reading of `name`.
const always = (): boolean => true;

function reportDuplicateNames(
  items: readonly unknown[],
  ctx: RefineContext,
  describe: (name: string, first: number) => IssueHint & { expected: string },
): void {
  if (!Array.isArray(items)) return;
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, index);
      return;
    }
    const { expected, ...hint } = describe(name, first);
    report(ctx, [index, 'name'], expected, hint);
  });
}

// Values substituted from the environment arrive as strings; accept "5432" and "true" where a number or boolean
// is expected so that `port: ${PGPORT:-5432}` works.
const fromNumericString = (value: unknown): unknown =>
  typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
const fromBooleanString = (value: unknown): unknown => (value === 'true' ? true : value === 'false' ? false : value);

const int = (min: number, max: number) => z.preprocess(fromNumericString, z.number().int().min(min).max(max));
const bool = () => z.preprocess(fromBooleanString, z.boolean());
const port = () => int(1, 65_535);
const nonEmpty = () => z.string().min(1);

const tlsSchema = z
  .strictObject({
    enabled: bool().default(false),
    ca: nonEmpty().optional(),
    cert: nonEmpty().optional(),
    key: nonEmpty().optional(),
    rejectUnauthorized: bool().default(true),
  })
  .superRefine((tls, ctx) => {
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      const [missing, present] = tls.cert === undefined ? ['cert', 'key'] : ['key', 'cert'];
      report(ctx, [missing], `${missing} together with ${present} (client certificates need both)`, {
        found: `${present} without ${missing}`,
        fix: `set both cert and key, or remove ${present}`,
      });
    }
  })
  .prefault({});

const columnsSchema = z
  .strictObject({
    include: z.array(nonEmpty()).min(1).optional(),
    exclude: z.array(nonEmpty()).min(1).optional(),
  })
  .superRefine((columns, ctx) => {
    if (columns.include !== undefined && columns.exclude !== undefined) {
      report(ctx, ['include'], 'either include or exclude, not both', {
        found: 'both include and exclude',
        fix: 'keep one of columns.include and columns.exclude',
      });
    } else if (columns.include === undefined && columns.exclude === undefined) {
      report(ctx, [], 'include or exclude', {
        found: 'an empty columns section',
        fix: 'add columns.include (a list of columns) or columns.exclude, or remove columns',
      });
    }
  });

const tableSchema = z
  .strictObject({
    name: z.string().regex(/^[^.\s]+\.[^.\s]+$/, { error: 'a qualified table name: schema.table or database.table' }),
    columns: columnsSchema.optional(),
    key: z.array(nonEmpty()).min(1).optional(),
  })
  .superRefine((table, ctx) => {
    for (const column of table.key ?? []) {
      const dropped =
        (table.columns?.include !== undefined && !table.columns.include.includes(column)) ||
        table.columns?.exclude?.includes(column) === true;
      if (dropped) {
        report(ctx, ['key'], `key columns that are captured`, {
          found: `key column "${column}" left out by columns`,
          fix: `add "${column}" to columns.include (or remove it from columns.exclude), or change key`,
        });
      }
    }
  });

const tablesSchema = z
  .array(tableSchema)
  .min(1)
  .superRefine(
    (tables, ctx) =>
      reportDuplicateNames(tables, ctx, (name, first) => ({
        expected: 'table names unique within a source',
        found: `"${name}" again (first at tables[${first}])`,
        fix: `merge the two entries for ${name}`,
      })),
    { when: always },
  );

const connectionShape = (defaultPort: number) => ({
  host: nonEmpty().default('127.0.0.1'),
  port: port().default(defaultPort),
  user: nonEmpty(),
  password: z.string().default(''),
  tls: tlsSchema,
});

const commonSourceShape = {
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'a name of letters, digits, "_", "." or "-"' }),
  topicPrefix: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'a Kafka topic prefix of letters, digits, "_", "." or "-"' }).optional(),
  snapshot: z.enum(['initial', 'never', 'initial_only']).default('initial'),
  snapshotChunkRows: int(1, 10_000_000).default(10_000),
  transactions: bool().default(false),
  truncate: bool().default(true),
  tables: tablesSchema,
};

// PostgreSQL identifiers for slots: lower-case letters, digits and underscores, at most 63 characters.
const slotName = z.string().regex(/^[a-z0-9_]{1,63}$/, { error: 'lower-case letters, digits and "_", at most 63 characters' });

const postgresSourceSchema = z.strictObject({
  kind: z.literal('postgres'),
  ...commonSourceShape,
  connection: z.strictObject({ ...connectionShape(5432), database: nonEmpty() }),
  slot: slotName.optional(),
  publication: z.string().regex(/^[A-Za-z0-9_]{1,63}$/, { error: 'letters, digits and "_", at most 63 characters' }).optional(),
  heartbeat: z
    .strictObject({ intervalMs: int(100, 86_400_000).default(10_000), query: nonEmpty().optional() })
    .prefault({}),
});

const mysqlSourceSchema = z.strictObject({
  kind: z.literal('mysql'),
  ...commonSourceShape,
  connection: z.strictObject({ ...connectionShape(3306), database: nonEmpty().optional() }),
  serverId: int(1, 4_294_967_295),
  gtid: bool().default(true),
});

const sourcesSchema = z
  .array(z.discriminatedUnion('kind', [postgresSourceSchema, mysqlSourceSchema]))
  .min(1)
  .superRefine(
    (sources, ctx) =>
      reportDuplicateNames(sources, ctx, (name, first) => ({
        expected: 'source names unique (they name topics and checkpoints)',
        found: `"${name}" again (first at sources[${first}])`,
        fix: `rename one of the sources called ${name}`,
      })),
    { when: always },
  );

const brokerAddress = z.string().regex(/^[^\s:]+:\d{1,5}$/, { error: 'a broker address host:port' });

const kafkaSchema = z.strictObject({
  brokers: z.array(brokerAddress).min(1),
  clientId: nonEmpty().default('tributary'),
  tls: tlsSchema,
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: nonEmpty(),
      password: z.string(),
    })
    .optional(),
  producer: z
    .strictObject({
      // lz4: fast, well supported, and available on Node 20 (zstd needs Node 22.15+).
      compression: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']).default('lz4'),
      lingerMs: int(0, 60_000).default(5),
      batchBytes: int(1024, 1_073_741_824).default(1_048_576),
    })
    .prefault({}),
  topics: z
    .strictObject({
      partitions: int(1, 100_000).default(1),
      replicationFactor: int(1, 32_767).default(1),
      autoCreate: bool().default(true),
    })
    .prefault({}),
});

const listenSchema = z.strictObject({ host: nonEmpty().default('127.0.0.1'), port: port().default(8081) }).prefault({});

const registrySchema = z.preprocess(
  (value) => (value === undefined ? { mode: 'embedded' } : isRecord(value) && value.mode === undefined ? { ...value, mode: 'embedded' } : value),
  z.discriminatedUnion('mode', [
    z.strictObject({
      mode: z.literal('embedded'),
      /** The URL clients use to reach the embedded registry; derived from `listen` when absent. */
      url: z.url().optional(),
      listen: listenSchema,
    }),
    z.strictObject({
      mode: z.literal('external'),
      url: z.url({ error: 'the registry URL, e.g. http://registry:8081' }),
      auth: z.strictObject({ username: nonEmpty(), password: z.string() }).optional(),
    }),
  ]),
);

const configObjectSchema = z.strictObject({
  sources: sourcesSchema,
  kafka: kafkaSchema,
  registry: registrySchema,
  checkpoint: z.strictObject({ path: nonEmpty().default('./tributary.db') }).prefault({}),
  lake: z
    .strictObject({
      path: nonEmpty().default('./lake'),
      compact: z.strictObject({ enabled: bool().default(false), intervalMs: int(1000, 86_400_000).default(60_000) }).prefault({}),
    })
    .optional(),
  pipeline: z
    .strictObject({
      queue: z
        .strictObject({ maxEvents: int(1, 10_000_000).default(2_000), maxBytes: int(1024, 17_179_869_184).default(67_108_864) })
        .prefault({}),
      shutdownTimeoutMs: int(0, 3_600_000).default(30_000),
    })
    .prefault({}),
  logging: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
  // Port 0 takes an ephemeral port (the log says which): for several daemons on one host, as in tests.
  http: z.strictObject({ host: nonEmpty().default('127.0.0.1'), port: int(0, 65_535).default(9464) }).prefault({}),
});

type ParsedConfig = z.output<typeof configObjectSchema>;
type ParsedSource = ParsedConfig['sources'][number];
type ParsedRegistry = ParsedConfig['registry'];

/** `tributary_<name>` folded to what PostgreSQL accepts as a slot or publication name. */
export function defaultSlotName(sourceName: string): string {
  return `tributary_${sourceName.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}

function deriveSource(source: ParsedSource) {
  const topicPrefix = source.topicPrefix ?? source.name;
  if (source.kind === 'mysql') return { ...source, topicPrefix };
  const slot = source.slot ?? defaultSlotName(source.name);
  return { ...source, topicPrefix, slot, publication: source.publication ?? slot };
}

function deriveRegistry(registry: ParsedRegistry) {
  if (registry.mode === 'external') return registry;
  // A wildcard listen address is not something a client can connect to; the loopback address is.
  const host = ['0.0.0.0', '::', '[::]'].includes(registry.listen.host) ? '127.0.0.1' : registry.listen.host;
  return { ...registry, url: registry.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${registry.listen.port}` };
}

export const configSchema = configObjectSchema.transform((config) => ({
  ...config,
  sources: config.sources.map(deriveSource),
  registry: deriveRegistry(config.registry),
}));

export type Config = z.output<typeof configSchema>;
export type SourceConfig = Config['sources'][number];
export type PostgresSourceConfig = Extract<SourceConfig, { kind: 'postgres' }>;
export type MysqlSourceConfig = Extract<SourceConfig, { kind: 'mysql' }>;
export type TableConfig = SourceConfig['tables'][number];
export type TlsConfig = PostgresSourceConfig['connection']['tls'];
export type KafkaConfig = Config['kafka'];
export type RegistryConfig = Config['registry'];
export type LakeConfig = NonNullable<Config['lake']>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The schema objects `describeIssue` walks to list the keys allowed at a path. */
export const schemaForIssues: z.ZodType = configObjectSchema;
