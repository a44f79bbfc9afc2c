/**
 * The Confluent Schema Registry REST API (the subset Kafka serialisers and connectors use) over a `SchemaStore`.
 * Response shapes and error codes follow Confluent's API reference so that stock clients work unchanged.
 */
import type { Logger } from '../ops/logger.js';
import { InvalidSchemaError, parseAvroSchema, type ParsedAvroSchema } from './avro-schema.js';
import {
  compatibilityProblems,
  DEFAULT_COMPATIBILITY,
  isTransitive,
  parseCompatibilityLevel,
  type CompatibilityLevel,
  type PreviousSchema,
} from './compatibility.js';
import { errors, type Reply } from './http.js';
import type { SchemaStore, StoredSchema, StoredSubjectVersion } from './store.js';

export interface RouteRequest {
  /** The decoded path segments matched by the `:` placeholders, in order. */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  body(): Promise<Record<string, unknown>>;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path segments; `:` matches any one segment. */
  readonly path: readonly string[];
  readonly handle: (request: RouteRequest) => Promise<Reply>;
}

const MAX_VERSION = 2 ** 31 - 1;

export function registryRoutes(store: SchemaStore, logger: Logger): Route[] {
  const api = new RegistryApi(store, logger);
  const p = (request: RouteRequest, index: number): string => request.params[index] ?? '';
  return [
    { method: 'GET', path: [], handle: async () => ({ json: {} }) },
    { method: 'GET', path: ['schemas', 'types'], handle: async () => ({ json: ['AVRO'] }) },
    { method: 'GET', path: ['schemas', 'ids', ':'], handle: (r) => api.schemaById(p(r, 0)) },
    { method: 'GET', path: ['schemas', 'ids', ':', 'schema'], handle: (r) => api.schemaTextById(p(r, 0)) },
    { method: 'GET', path: ['schemas', 'ids', ':', 'versions'], handle: (r) => api.subjectVersionsOfId(p(r, 0)) },
    { method: 'GET', path: ['subjects'], handle: () => api.subjects() },
    { method: 'POST', path: ['subjects', ':'], handle: async (r) => api.lookup(p(r, 0), await r.body()) },
    { method: 'DELETE', path: ['subjects', ':'], handle: (r) => api.deleteSubject(p(r, 0)) },
    { method: 'GET', path: ['subjects', ':', 'versions'], handle: (r) => api.versions(p(r, 0)) },
    { method: 'POST', path: ['subjects', ':', 'versions'], handle: async (r) => api.register(p(r, 0), await r.body()) },
    { method: 'GET', path: ['subjects', ':', 'versions', ':'], handle: (r) => api.version(p(r, 0), p(r, 1)) },
    {
      method: 'GET',
      path: ['subjects', ':', 'versions', ':', 'schema'],
      handle: (r) => api.versionSchemaText(p(r, 0), p(r, 1)),
    },
    { method: 'GET', path: ['config'], handle: () => api.globalConfig() },
    { method: 'PUT', path: ['config'], handle: async (r) => api.setConfig(await r.body()) },
    {
      method: 'GET',
      path: ['config', ':'],
      handle: (r) => api.subjectConfig(p(r, 0), r.query.get('defaultToGlobal') === 'true'),
    },
    { method: 'PUT', path: ['config', ':'], handle: async (r) => api.setConfig(await r.body(), p(r, 0)) },
    {
      method: 'POST',
      path: ['compatibility', 'subjects', ':', 'versions', ':'],
      handle: async (r) => api.testCompatibility(p(r, 0), p(r, 1), await r.body(), r.query.get('verbose') === 'true'),
    },
    {
      method: 'POST',
      path: ['compatibility', 'subjects', ':', 'versions'],
      handle: async (r) => api.testCompatibility(p(r, 0), 'latest', await r.body(), r.query.get('verbose') === 'true'),
    },
  ];
}

class RegistryApi {
  /** Serialises registrations and config changes so a compatibility check and its write see the same state. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: SchemaStore,
    private readonly logger: Logger,
  ) {}

  async schemaById(idText: string): Promise<Reply> {
    return { json: describeSchema(await this.schemaOrFail(idText)) };
  }

  async schemaTextById(idText: string): Promise<Reply> {
    return { raw: (await this.schemaOrFail(idText)).schemaText };
  }

  async subjectVersionsOfId(idText: string): Promise<Reply> {
    const { id } = await this.schemaOrFail(idText);
    // Rare call, so a scan beats another store method.
    const pairs: { subject: string; version: number }[] = [];
    for (const subject of await this.store.listSubjects()) {
      for (const version of await this.store.listVersions(subject)) {
        const entry = await this.store.getSubjectVersion(subject, version);
        if (entry?.id === id) pairs.push({ subject, version });
      }
    }
    return { json: pairs };
  }

  async subjects(): Promise<Reply> {
    return { json: await this.store.listSubjects() };
  }

  async versions(subject: string): Promise<Reply> {
    return { json: await this.versionsOrFail(subject) };
  }

  async version(subject: string, versionText: string): Promise<Reply> {
    return { json: describeSubjectVersion(await this.subjectVersionOrFail(subject, versionText)) };
  }

  async versionSchemaText(subject: string, versionText: string): Promise<Reply> {
    return { raw: (await this.subjectVersionOrFail(subject, versionText)).schemaText };
  }

  async lookup(subject: string, body: Record<string, unknown>): Promise<Reply> {
    await this.versionsOrFail(subject);
    const posted = postedSchema(body);
    const found = await this.store.findSchemaInSubject(subject, posted.text);
    if (!found) throw errors.schemaNotFound();
    return { json: describeSubjectVersion(found) };
  }

  register(subject: string, body: Record<string, unknown>): Promise<Reply> {
    const posted = postedSchema(body);
    return this.exclusive(async () => {
      const existing = await this.store.findSchemaInSubject(subject, posted.text);
      if (existing) return { json: { id: existing.id } };
      const level = await this.effectiveLevel(subject);
      const problems = compatibilityProblems(level, posted.text, await this.previousSchemas(subject, level));
      if (problems.length > 0) {
        throw errors.incompatible(
          `Schema being registered is incompatible with an earlier schema for subject "${subject}" ` +
            `(compatibility ${level}); details: ${problems.join('; ')}`,
        );
      }
      const registered = await this.store.registerSchema(subject, posted.text, 'AVRO');
      if (registered.created) {
        this.logger.info({ subject, id: registered.id, version: registered.version }, 'registered schema');
      }
      return { json: { id: registered.id } };
    });
  }

  async deleteSubject(subject: string): Promise<Reply> {
    return this.exclusive(async () => {
      await this.versionsOrFail(subject);
      const deleted = await this.store.deleteSubject(subject);
      this.logger.info({ subject, versions: deleted }, 'deleted schema subject');
      return { json: deleted };
    });
  }

  async globalConfig(): Promise<Reply> {
    const level = parseCompatibilityLevel(await this.store.getCompatibility()) ?? DEFAULT_COMPATIBILITY;
    return { json: { compatibilityLevel: level } };
  }

  async subjectConfig(subject: string, defaultToGlobal: boolean): Promise<Reply> {
    const own = parseCompatibilityLevel(await this.store.getCompatibility(subject));
    if (own) return { json: { compatibilityLevel: own } };
    if (defaultToGlobal) return this.globalConfig();
    throw errors.subjectLevelCompatibilityNotConfigured(subject);
  }

  setConfig(body: Record<string, unknown>, subject?: string): Promise<Reply> {
    const level = parseCompatibilityLevel(body['compatibility']);
    if (!level) throw errors.invalidCompatibilityLevel();
    return this.exclusive(async () => {
      await this.store.setCompatibility(level, subject);
      this.logger.info({ subject: subject ?? '(global)', compatibility: level }, 'set schema compatibility');
      return { json: { compatibility: level } };
    });
  }

  async testCompatibility(
    subject: string,
    versionText: string,
    body: Record<string, unknown>,
    verbose: boolean,
  ): Promise<Reply> {
    const version = parseVersion(versionText);
    const posted = postedSchema(body);
    const level = await this.effectiveLevel(subject);
    let previous: PreviousSchema[];
    if (version === 'latest') {
      // An empty subject accepts anything, as in Confluent.
      previous = await this.previousSchemas(subject, level);
    } else {
      const entry = await this.subjectVersionOrFail(subject, versionText);
      previous = [{ version: entry.version, schemaText: entry.schemaText }];
    }
    const problems = compatibilityProblems(level, posted.text, previous);
    const isCompatible = problems.length === 0;
    return { json: verbose ? { is_compatible: isCompatible, messages: problems } : { is_compatible: isCompatible } };
  }

  private async effectiveLevel(subject: string): Promise<CompatibilityLevel> {
    return (
      parseCompatibilityLevel(await this.store.getCompatibility(subject)) ??
      parseCompatibilityLevel(await this.store.getCompatibility()) ??
      DEFAULT_COMPATIBILITY
    );
  }

  /** The versions a new schema must be compatible with under `level`: the latest, or all when transitive. */
  private async previousSchemas(subject: string, level: CompatibilityLevel): Promise<PreviousSchema[]> {
    if (level === 'NONE') return [];
    const versions = await this.store.listVersions(subject);
    const relevant = isTransitive(level) ? versions : versions.slice(-1);
    const previous: PreviousSchema[] = [];
    for (const version of relevant) {
      const entry = await this.store.getSubjectVersion(subject, version);
      if (entry) previous.push({ version, schemaText: entry.schemaText });
    }
    return previous;
  }

  private async schemaOrFail(idText: string): Promise<StoredSchema> {
    const id = Number(idText);
    const schema = Number.isSafeInteger(id) && id > 0 ? await this.store.getSchemaById(id) : undefined;
    if (!schema) throw errors.schemaNotFound(`Schema ${idText} not found`);
    return schema;
  }

  private async versionsOrFail(subject: string): Promise<number[]> {
    const versions = await this.store.listVersions(subject);
    if (versions.length === 0) throw errors.subjectNotFound(subject);
    return versions;
  }

  private async subjectVersionOrFail(subject: string, versionText: string): Promise<StoredSubjectVersion> {
    const version = parseVersion(versionText);
    const entry = await this.store.getSubjectVersion(subject, version);
    if (entry) return entry;
    const versions = await this.versionsOrFail(subject);
    throw errors.versionNotFound(version === 'latest' ? (versions.at(-1) ?? 0) : version);
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.writes.then(operation);
    this.writes = result.catch(() => undefined);
    return result;
  }
}

function parseVersion(text: string): number | 'latest' {
  if (text === 'latest' || text === '-1') return 'latest';
  const version = Number(text);
  if (!/^\d+$/.test(text) || version < 1 || version > MAX_VERSION) throw errors.invalidVersion(text);
  return version;
}

/** The schema of a register, lookup or compatibility request, validated and normalised. */
function postedSchema(body: Record<string, unknown>): ParsedAvroSchema {
  const { schema, schemaType, references } = body;
  if (typeof schema !== 'string' || schema.trim() === '') {
    throw errors.invalidSchema('Invalid schema: the request needs a "schema" string field');
  }
  if (schemaType !== undefined && schemaType !== null && String(schemaType).toUpperCase() !== 'AVRO') {
    throw errors.invalidSchema(`Invalid schema type ${String(schemaType)}: this registry stores AVRO schemas only`);
  }
  if (Array.isArray(references) && references.length > 0) {
    throw errors.invalidSchema('Invalid schema: schema references are not supported by this registry');
  }
  try {
    return parseAvroSchema(schema);
  } catch (error) {
    if (error instanceof InvalidSchemaError) throw errors.invalidSchema(error.message);
    throw error;
  }
}

/** Confluent leaves `schemaType` out for Avro, the default. */
function withSchemaType<T extends object>(body: T, schemaType: string): T {
  return schemaType === 'AVRO' ? body : { ...body, schemaType };
}

function describeSchema(schema: StoredSchema): object {
  return withSchemaType({ schema: schema.schemaText }, schema.schemaType);
}

function describeSubjectVersion(entry: StoredSubjectVersion): object {
  return withSchemaType(
    { subject: entry.subject, version: entry.version, id: entry.id, schema: entry.schemaText },
    entry.schemaType,
  );
}
