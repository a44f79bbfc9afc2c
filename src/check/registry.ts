/** External schema registry check: GET /subjects answers with a JSON list. */
import type { RegistryConfig } from '../config/index.js';
import { errorText } from './connect-errors.js';
import type { CheckProblem } from './report.js';

export const REGISTRY_SERVICE = 'schema registry';

type ExternalRegistry = Extract<RegistryConfig, { mode: 'external' }>;

export async function checkRegistry(registry: ExternalRegistry, timeoutMs: number, fetchImpl: typeof fetch = fetch): Promise<CheckProblem[]> {
  const url = `${registry.url.replace(/\/+$/, '')}/subjects`;
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (registry.auth !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${registry.auth.username}:${registry.auth.password}`).toString('base64')}`;
  }
  const problem = (text: string, fix: string): CheckProblem[] => [{ service: REGISTRY_SERVICE, severity: 'error', problem: text, fix }];
  let response: Response;
  try {
    response = await fetchImpl(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return problem(`cannot reach the registry at registry.url (GET ${url}: ${errorText(error)})`, 'check registry.url and that the registry is running');
  }
  if (response.status === 401 || response.status === 403) {
    return problem(`the registry refused GET ${url} with HTTP ${response.status}`, 'check registry.auth.username and registry.auth.password');
  }
  if (!response.ok) {
    return problem(`GET ${url} answered HTTP ${response.status}`, 'check that registry.url points at a Confluent-compatible schema registry');
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!Array.isArray(body)) {
    return problem(`GET ${url} did not answer with a list of subjects`, 'check that registry.url points at a Confluent-compatible schema registry');
  }
  return [];
}
