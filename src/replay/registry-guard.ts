/**
 * The replay's view of the schema registry. Before a schema is registered for the target topic it is tested
 * against the subject's registered versions (Confluent's compatibility endpoint), so a replay onto a topic whose
 * consumers expect an incompatible schema stops before its first record, naming the subject and the fix. When
 * the replay goes to another topic, the live topic's schemas are registered under that topic's subjects
 * (TopicNameStrategy), with the same schema text, so ids and record names match the live topic.
 */
import type { RegistryEndpoint } from '../daemon/registry.js';
import { ConnectionError, TributaryError } from '../model/errors.js';
import type { SchemaRegistrar } from '../pipeline/record-encoder.js';

export class ReplayRegistrar implements SchemaRegistrar {
  private readonly checked = new Map<string, Promise<void>>();

  constructor(
    private readonly registry: SchemaRegistrar,
    private readonly endpoint: RegistryEndpoint,
    /** Live topic → target topic, when they differ. */
    private readonly rename: { readonly from: string; readonly to: string } | undefined,
  ) {}

  async register(subject: string, schema: string): Promise<number> {
    const target = this.targetSubject(subject);
    let check = this.checked.get(target);
    if (check === undefined) {
      check = this.checkCompatible(target, schema);
      this.checked.set(target, check);
    }
    await check;
    return this.registry.register(target, schema);
  }

  private targetSubject(subject: string): string {
    if (this.rename === undefined) return subject;
    for (const suffix of ['-key', '-value']) {
      if (subject === `${this.rename.from}${suffix}`) return `${this.rename.to}${suffix}`;
    }
    return subject;
  }

  private async checkCompatible(subject: string, schema: string): Promise<void> {
    const { baseUrl, headers } = this.request();
    const url = `${baseUrl}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`;
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ schema }), signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw new ConnectionError(`schema registry ${baseUrl} unreachable while checking subject "${subject}"`, {
        cause: error,
        fix: `check that the schema registry at ${baseUrl} is running and reachable from this host`,
      });
    }
    const text = await response.text();
    // Confluent answers 404 (40401) for a subject with no versions: anything is compatible with nothing.
    if (response.status === 404) return;
    if (!response.ok) {
      throw new TributaryError(`schema registry ${baseUrl} answered ${response.status} while checking subject "${subject}": ${text.slice(0, 300)}`, {
        retriable: response.status >= 500,
        fix: `check the registry URL and credentials (registry.url, registry.auth)`,
      });
    }
    const reply = JSON.parse(text) as { is_compatible?: boolean; messages?: string[] };
    if (reply.is_compatible === false) {
      const details = reply.messages?.length ? `: ${reply.messages.join('; ')}` : '';
      throw new TributaryError(
        `the replay's schema is incompatible with the schema registered for subject "${subject}"${details}`,
        {
          fix:
            `replay to a new topic (--to-topic NAME), or delete the subject "${subject}" (DELETE /subjects/${subject}) ` +
            `if its topic is being rebuilt from scratch, or relax its compatibility (PUT /config/${subject})`,
        },
      );
    }
  }

  private request(): { baseUrl: string; headers: Record<string, string> } {
    const parsed = new URL(this.endpoint.url);
    const username = this.endpoint.auth?.username ?? decodeURIComponent(parsed.username);
    const password = this.endpoint.auth?.password ?? decodeURIComponent(parsed.password);
    parsed.username = '';
    parsed.password = '';
    const headers: Record<string, string> = {
      'Content-Type': 'application/vnd.schemaregistry.v1+json',
      Accept: 'application/vnd.schemaregistry.v1+json, application/json',
    };
    if (username !== '' || password !== '') headers['Authorization'] = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    return { baseUrl: parsed.toString().replace(/\/+$/, ''), headers };
  }
}
