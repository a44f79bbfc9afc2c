/**
 * The embedded, Confluent-compatible Schema Registry: a node:http server over a `SchemaStore`, so a deployment
 * without a registry of its own still produces Confluent wire-format Avro that stock consumers can decode.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TributaryError } from '../model/errors.js';
import type { Logger } from '../ops/logger.js';
import { errors, readJsonBody, RegistryHttpError, send, sendError } from './http.js';
import { registryRoutes, type Route } from './routes.js';
import type { SchemaStore } from './store.js';

export interface EmbeddedRegistryOptions {
  /** Defaults to 127.0.0.1: the registry has no authentication, so it listens locally unless told otherwise. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly store: SchemaStore;
  readonly logger: Logger;
}

export interface EmbeddedRegistry {
  /** Base URL for clients, e.g. `http://127.0.0.1:8081`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startEmbeddedRegistry(options: EmbeddedRegistryOptions): Promise<EmbeddedRegistry> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger.child({ component: 'schema-registry' });
  const routes = registryRoutes(options.store, logger);
  const server = createServer((req, res) => void dispatch(routes, req, res, logger));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        new TributaryError(`embedded schema registry cannot listen on ${host}:${options.port}: ${error.message}`, {
          cause: error,
          fix:
            error.code === 'EADDRINUSE'
              ? `port ${options.port} is taken: stop what uses it or configure another registry port (0 picks one)`
              : 'check the embedded schema registry host and port settings',
        }),
      );
    };
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(host)}:${port}`;
  logger.info({ url }, 'embedded schema registry listening');
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections from clients would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

async function dispatch(
  routes: readonly Route[],
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
): Promise<void> {
  const started = Date.now();
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://registry');
  let status = 200;
  try {
    const segments = pathSegments(url.pathname);
    const route = findRoute(routes, method, segments);
    const reply = await route.handle({ params: route.params, query: url.searchParams, body: () => readJsonBody(req) });
    send(res, 200, reply);
  } catch (error) {
    const httpError = error instanceof RegistryHttpError ? error : undefined;
    if (!httpError) logger.error({ err: error, method, path: url.pathname }, 'schema registry request failed');
    const reply = httpError ?? new RegistryHttpError(500, 50001, 'Error in the backend data store');
    status = reply.status;
    if (!res.headersSent) sendError(res, reply);
    else res.destroy();
  }
  logger.debug({ method, path: url.pathname, status, ms: Date.now() - started }, 'schema registry request');
}

/** Splits before decoding so that a subject containing `%2F` stays one segment. */
function pathSegments(pathname: string): string[] {
  try {
    return pathname
      .split('/')
      .filter((segment) => segment !== '')
      .map((segment) => decodeURIComponent(segment));
  } catch {
    throw errors.badRequest(`Malformed percent-encoding in path ${pathname}`);
  }
}

type MatchedRoute = Route & { readonly params: string[] };

function findRoute(routes: readonly Route[], method: string, segments: readonly string[]): MatchedRoute {
  let pathMatched = false;
  for (const route of routes) {
    const params = matchPath(route.path, segments);
    if (!params) continue;
    if (route.method === method) return { ...route, params };
    pathMatched = true;
  }
  throw pathMatched ? errors.methodNotAllowed() : errors.notFound();
}

function matchPath(pattern: readonly string[], segments: readonly string[]): string[] | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: string[] = [];
  for (const [index, part] of pattern.entries()) {
    const segment = segments[index] as string;
    if (part === ':') params.push(segment);
    else if (part !== segment) return undefined;
  }
  return params;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
