/**
 * The registry client the Avro encoder uses. Speaks Confluent's REST API, so it works against the embedded
 * registry and against Confluent, Apicurio (ccompat API), Karapace or Redpanda. Registrations and schemas by id
 * are cached for the life of the client: the encoder may call `register` for every event and pay one map lookup.
 */
import { ConfigError, ConnectionError, TributaryError, type TributaryErrorOptions } from '../model/errors.js';
import type { Logger } from '../ops/logger.js';
import { retry, type RetryOptions } from '../ops/retry.js';

/** Parsed Avro schema JSON: a record, union or other object, or a primitive's name. */
export type AvroSchemaJson = object | string;

export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
}

export interface RegistryClientOptions {
  /** Base URL, e.g. `http://localhost:8081` or `https://host/apis/ccompat/v7`; `user:pass@` in it means basic auth. */
  readonly url: string;
  readonly auth?: RegistryAuth;
  readonly logger: Logger;
  /** Backoff for transient failures (network errors, 5xx, 429); defaults to ops/retry's. */
  readonly retry?: RetryOptions;
  /** Per attempt; defaults to 10 s. */
  readonly timeoutMs?: number;
}

export interface LatestSchema {
  readonly id: number;
  readonly version: number;
  readonly schema: AvroSchemaJson;
}

export interface RegistryClient {
  /** The registry's id for `schema` under `subject`, registering it when new. Do not mutate a schema object after. */
  register(subject: string, schema: AvroSchemaJson): Promise<number>;
  getById(id: number): Promise<AvroSchemaJson>;
  /** Not cached: the latest version moves. */
  latest(subject: string): Promise<LatestSchema>;
}

/** The registry answered with an error that retrying will not fix; `errorCode` is Confluent's (40401, 409, 42201…). */
export class RegistryRequestError extends TributaryError {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: number | undefined,
    options: TributaryErrorOptions = {},
  ) {
    super(message, options);
  }
}

const ACCEPT = 'application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json';

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const { baseUrl, authorization } = parseEndpoint(options.url, options.auth);
  const logger = options.logger.child({ component: 'schema-registry-client', url: baseUrl });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const registered = new Map<string, Promise<number>>();
  const byId = new Map<number, Promise<AvroSchemaJson>>();
  const texts = new WeakMap<object, string>();

  async function request(method: string, path: string, doing: string, body?: unknown): Promise<unknown> {
    return retry(() => attempt(method, path, doing, body), {
      ...options.retry,
      onRetry: (error, attemptNumber, delayMs) =>
        logger.warn({ err: error, attempt: attemptNumber, delayMs }, `schema registry failed while ${doing}; retrying`),
    });
  }

  async function attempt(method: string, path: string, doing: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { Accept: ACCEPT };
    if (authorization) headers['Authorization'] = authorization;
    if (body !== undefined) headers['Content-Type'] = 'application/vnd.schemaregistry.v1+json';
    let response: Response;
    try {
      response = await fetch(baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new ConnectionError(`schema registry ${baseUrl} unreachable while ${doing}: ${reason}`, {
        cause: error,
        fix: `check that the schema registry at ${baseUrl} is running and reachable from this host`,
      });
    }
    const text = await response.text();
    if (!response.ok) throw responseError(response.status, text, baseUrl, doing);
    return text === '' ? undefined : parseJson(text, `the reply while ${doing}`, baseUrl);
  }

  function schemaText(schema: AvroSchemaJson): string {
    if (typeof schema === 'string') return schema;
    let text = texts.get(schema);
    if (text === undefined) {
      text = JSON.stringify(schema);
      texts.set(schema, text);
    }
    return text;
  }

  /** Caches the promise so concurrent callers share one request; a failure is forgotten so the next call retries. */
  function memo<K, V>(cache: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
    let pending = cache.get(key);
    if (!pending) {
      pending = load();
      cache.set(key, pending);
      pending.catch(() => cache.delete(key));
    }
    return pending;
  }

  return {
    register(subject, schema) {
      const text = schemaText(schema);
      return memo(registered, `${subject}\u0000${text}`, async () => {
        const path = `/subjects/${encodeURIComponent(subject)}/versions`;
        const doing = `registering a schema for subject "${subject}"`;
        const reply = (await request('POST', path, doing, { schema: text })) as { id?: unknown } | undefined;
        const id = reply?.id;
        if (typeof id !== 'number') {
          throw new RegistryRequestError(
            `schema registry ${baseUrl} answered the registration for subject "${subject}" without an id`,
            200,
            undefined,
            { fix: `check that ${baseUrl} is a Confluent-compatible schema registry endpoint` },
          );
        }
        logger.info({ subject, id }, 'schema registered');
        return id;
      });
    },

    getById(id) {
      return memo(byId, id, async () => {
        const reply = (await request('GET', `/schemas/ids/${id}`, `fetching schema id ${id}`)) as { schema?: unknown };
        return parseSchemaField(reply?.schema, `schema id ${id}`, baseUrl);
      });
    },

    async latest(subject) {
      const reply = (await request(
        'GET',
        `/subjects/${encodeURIComponent(subject)}/versions/latest`,
        `fetching the latest schema of subject "${subject}"`,
      )) as { id?: unknown; version?: unknown; schema?: unknown };
      const schema = parseSchemaField(reply?.schema, `subject "${subject}"`, baseUrl);
      if (typeof reply.id !== 'number' || typeof reply.version !== 'number') {
        const message = `schema registry ${baseUrl} answered for subject "${subject}" without id or version`;
        throw new RegistryRequestError(message, 200, undefined);
      }
      byId.set(reply.id, Promise.resolve(schema));
      return { id: reply.id, version: reply.version, schema };
    },
  };
}

function parseEndpoint(url: string, auth: RegistryAuth | undefined): { baseUrl: string; authorization?: string } {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  // `localhost:8081` parses, with `localhost:` as its scheme.
  if (parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:') {
    throw new ConfigError(`schema registry URL "${url}" is not an http(s) URL`, {
      fix: 'write it as http://host:port (or https://…), e.g. http://localhost:8081',
    });
  }
  // fetch refuses URLs with credentials, so they move into the header.
  const username = auth?.username ?? decodeURIComponent(parsed.username);
  const password = auth?.password ?? decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const baseUrl = parsed.toString().replace(/\/+$/, '');
  if (username === '' && password === '') return { baseUrl };
  return { baseUrl, authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

function responseError(status: number, text: string, baseUrl: string, doing: string): TributaryError {
  let errorCode: number | undefined;
  let detail = text.slice(0, 500);
  try {
    const body = JSON.parse(text) as { error_code?: unknown; message?: unknown };
    if (typeof body.error_code === 'number') errorCode = body.error_code;
    if (typeof body.message === 'string') detail = body.message;
  } catch {
    // Not JSON (a proxy's error page): the raw text is the best detail there is.
  }
  const code = errorCode === undefined ? '' : ` (error_code ${errorCode})`;
  const message = `schema registry ${baseUrl} answered ${status}${code} while ${doing}: ${detail}`;
  if (status >= 500 || status === 429 || status === 408) {
    // Overload, restarts and leader changes pass; these are the failures worth retrying.
    return new ConnectionError(message, { fix: `the registry at ${baseUrl} is failing or overloaded; check its logs` });
  }
  return new RegistryRequestError(message, status, errorCode, { fix: fixFor(status, errorCode, baseUrl) });
}

function fixFor(status: number, errorCode: number | undefined, baseUrl: string): string | undefined {
  if (status === 401 || status === 403) {
    return `check the schema registry username and password configured for ${baseUrl}`;
  }
  if (status === 409) {
    return (
      "the new schema breaks the subject's compatibility level: make the change compatible " +
      "(e.g. give new columns a default) or relax the subject's level with PUT /config/{subject}"
    );
  }
  if (errorCode === 42201) {
    return 'the registry rejected the Avro schema itself; this is a bug to report with the schema attached';
  }
  if (status === 404 && errorCode === undefined) return `check the registry URL ${baseUrl}, including any path prefix`;
  return undefined;
}

function parseSchemaField(value: unknown, what: string, baseUrl: string): AvroSchemaJson {
  if (typeof value !== 'string') {
    throw new RegistryRequestError(`schema registry ${baseUrl} answered for ${what} without a schema`, 200, undefined);
  }
  return parseJson(value, what, baseUrl) as AvroSchemaJson;
}

function parseJson(text: string, what: string, baseUrl: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RegistryRequestError(`schema registry ${baseUrl} sent invalid JSON for ${what}`, 200, undefined, {
      cause: error,
      fix: `check that ${baseUrl} is a Confluent-compatible schema registry endpoint serving Avro schemas`,
    });
  }
}
