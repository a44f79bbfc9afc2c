/**
 * The operations endpoint: `/healthz` (the process is alive), `/readyz` (every source connected and streaming)
 * and `/metrics` (Prometheus text). Bound to loopback by default; nothing here changes state.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../model/errors.js';
import type { ReadinessReport } from './health.js';
import type { Logger } from './logger.js';
import type { TributaryMetrics } from './metrics.js';

export interface OpsServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly metrics: TributaryMetrics;
  readonly readiness: () => ReadinessReport;
  readonly logger: Logger;
}

export interface OpsServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { logger } = options;
  const server = createServer((request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      logger.warn({ err: error, path: request.url }, 'ops endpoint failed');
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.destroy();
    });
  });
  // Prometheus keeps its scrape connection open; a short idle timeout lets close() finish promptly anyway.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, options)));
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url }, 'ops endpoint listening (/healthz, /readyz, /metrics)');
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: OpsServerOptions): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  switch (path) {
    case '/healthz':
      return send(response, 200, 'text/plain; charset=utf-8', 'ok\n');
    case '/readyz': {
      const report = options.readiness();
      const body = {
        ready: report.ready,
        sources: report.sources,
        notReady: report.sources.filter((s) => !s.ready).map((s) => s.source),
      };
      return send(response, report.ready ? 200 : 503, 'application/json', JSON.stringify(body) + '\n');
    }
    case '/metrics':
      return send(response, 200, options.metrics.contentType, await options.metrics.text());
    default:
      return send(response, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /readyz or /metrics\n');
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function listenError(error: NodeJS.ErrnoException, options: OpsServerOptions): Error {
  const where = `${options.host}:${options.port}`;
  if (error.code === 'EADDRINUSE') {
    return new ConfigError(`http: ${where} is already in use`, {
      cause: error,
      fix: 'set http.port to a free port, or stop the other process listening there',
    });
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EACCES') {
    return new ConfigError(`http: cannot listen on ${where} (${error.code})`, {
      cause: error,
      fix: 'set http.host to an address of this machine (127.0.0.1 by default) and http.port to a port above 1023',
    });
  }
  return error;
}
