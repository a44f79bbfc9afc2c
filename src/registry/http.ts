/** The HTTP plumbing of the embedded registry: Confluent's content type, error bodies and JSON request bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A failure Confluent clients understand: HTTP status plus Confluent's finer `error_code`. */
export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const errors = {
  subjectNotFound: (subject: string) => new RegistryHttpError(404, 40401, `Subject '${subject}' not found.`),
  versionNotFound: (version: number) => new RegistryHttpError(404, 40402, `Version ${version} not found.`),
  schemaNotFound: (what = 'Schema not found') => new RegistryHttpError(404, 40403, what),
  subjectLevelCompatibilityNotConfigured: (subject: string) =>
    new RegistryHttpError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`),
  incompatible: (message: string) => new RegistryHttpError(409, 409, message),
  invalidSchema: (message: string) => new RegistryHttpError(422, 42201, message),
  invalidVersion: (version: string) =>
    new RegistryHttpError(
      422,
      42202,
      `The specified version '${version}' is not a valid version id. ` +
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    ),
  invalidCompatibilityLevel: () =>
    new RegistryHttpError(
      422,
      42203,
      'Invalid compatibility level. Valid values are none, backward, forward, full, ' +
        'backward_transitive, forward_transitive, and full_transitive',
    ),
  badRequest: (message: string) => new RegistryHttpError(400, 400, message),
  notFound: () => new RegistryHttpError(404, 404, 'HTTP 404 Not Found'),
  methodNotAllowed: () => new RegistryHttpError(405, 405, 'HTTP 405 Method Not Allowed'),
  tooLarge: () => new RegistryHttpError(413, 413, `Request body larger than ${MAX_BODY_BYTES} bytes`),
};

/** A reply body: JSON to serialise, or (for the `/schema` endpoints) a schema text sent as it is. */
export type Reply = { readonly json: unknown } | { readonly raw: string };

export function send(res: ServerResponse, status: number, reply: Reply): void {
  const body = 'raw' in reply ? reply.raw : JSON.stringify(reply.json);
  res.writeHead(status, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: ServerResponse, error: RegistryHttpError): void {
  send(res, error.status, { json: { error_code: error.errorCode, message: error.message } });
}

/** Reads and parses the JSON body; an empty body reads as `{}` so field checks report what is missing. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw errors.tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw errors.badRequest(`Malformed JSON request body: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.badRequest('The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
