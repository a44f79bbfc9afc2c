/**
 * Turns @platformatic/kafka errors (nested MultipleErrors of network, protocol and authentication errors) into
 * Tributary errors that say whether retrying may help and what the user should change.
 */
import { TimeoutError } from '@platformatic/kafka';
import { ConnectionError, TributaryError } from '../model/errors.js';

interface KafkaErrorContext {
  /** What we were doing, e.g. "producing to orders.public.items". */
  readonly action: string;
  readonly brokers: readonly string[];
}

/** Every error in the tree: the error itself, its `errors` (AggregateError) and its `cause` chain. */
export function flattenErrors(error: unknown): unknown[] {
  const seen: unknown[] = [];
  const visit = (node: unknown): void => {
    if (node === null || node === undefined || seen.includes(node)) return;
    seen.push(node);
    if (typeof node !== 'object') return;
    const { errors, cause } = node as { errors?: unknown; cause?: unknown };
    if (Array.isArray(errors)) errors.forEach(visit);
    visit(cause);
  };
  visit(error);
  return seen;
}

/** The broker's error names in the tree (`TOPIC_ALREADY_EXISTS`, `NOT_LEADER_OR_FOLLOWER`, ...). */
export function protocolErrorIds(error: unknown): Set<string> {
  const ids = new Set<string>();
  for (const node of flattenErrors(error)) {
    const apiId = (node as { apiId?: unknown } | null)?.apiId;
    if (typeof apiId === 'string') ids.add(apiId);
  }
  return ids;
}

const AUTHORIZATION = ['TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'];
const TOO_LARGE = ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'];
/** The broker lost or rejected our idempotent session; a new producer session continues safely. */
const PRODUCER_STATE = ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED'];
const NETWORK_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

export function toTributaryError(error: unknown, context: KafkaErrorContext): TributaryError {
  if (error instanceof TributaryError) return error;
  const nodes = flattenErrors(error);
  const ids = protocolErrorIds(error);
  const detail = describeKafkaError(error);
  const where = `${context.action} (brokers ${context.brokers.join(', ')})`;
  const has = (names: readonly string[]): boolean => names.some((name) => ids.has(name));

  if (ids.has('SASL_AUTHENTICATION_FAILED') || ids.has('UNSUPPORTED_SASL_MECHANISM') || hasCode(nodes, 'PLT_KFK_AUTHENTICATION')) {
    return new TributaryError(`Kafka authentication failed while ${where}: ${detail}`, {
      cause: error,
      fix: 'check kafka.sasl.mechanism, kafka.sasl.username and kafka.sasl.password against the broker listener',
    });
  }
  if (has(AUTHORIZATION)) {
    return new TributaryError(`Kafka denied access while ${where}: ${detail}`, {
      cause: error,
      fix: 'grant the Kafka principal WRITE and DESCRIBE on the topics (and CREATE on the cluster for topic creation), or IDEMPOTENT_WRITE on the cluster for brokers older than 2.8',
    });
  }
  if (has(TOO_LARGE)) {
    return new TributaryError(`Kafka rejected a request as too large while ${where}: ${detail}`, {
      cause: error,
      fix: "lower kafka.producer.batchBytes below the broker's message.max.bytes (and the topic's max.message.bytes), or raise those",
    });
  }
  if (isUnknownTopic(error)) {
    return new TributaryError(`Kafka topic missing while ${where}: ${detail}`, {
      cause: error,
      fix: 'create the topic (Tributary does so at start when topic creation is enabled) or check the topic name',
    });
  }
  if (has(PRODUCER_STATE)) {
    return new ConnectionError(`Kafka producer session lost while ${where}: ${detail}`, { cause: error });
  }
  if (nodes.some((node) => NETWORK_CODES.has(String((node as { code?: unknown } | null)?.code)))) {
    return new ConnectionError(`Kafka unreachable while ${where}: ${detail}`, {
      cause: error,
      fix: 'check that kafka.brokers lists reachable host:port pairs and that the broker is running (scripts/stack up starts the local one)',
    });
  }
  // Retriable only when the client says so for every error it classified; unknown errors are not retried.
  const flags = nodes.map((node) => (node as { canRetry?: unknown } | null)?.canRetry).filter((flag) => flag !== undefined);
  const retriable = flags.length > 0 && flags.every((flag) => flag === true);
  return retriable
    ? new ConnectionError(`Kafka request failed while ${where}: ${detail}`, { cause: error })
    : new TributaryError(`Kafka request failed while ${where}: ${detail}`, { cause: error });
}

/**
 * Whether resending the same record batches (same sequence numbers, so the broker drops what it already has) may
 * succeed: when every error the client classified is retriable (leader moved, not enough replicas, connection
 * lost), as the client's own retry loop decides. Two more: request timeouts, which the client marks final but
 * which an idempotent resend makes safe, and a topic the metadata does not show yet, which a broker may not have
 * caught up with right after its creation.
 */
export function isRetriableProduceFailure(error: unknown): boolean {
  if (isUnknownTopic(error)) return true;
  const flags = flattenErrors(error)
    .map((node) => (node instanceof TimeoutError ? true : (node as { canRetry?: unknown } | null)?.canRetry))
    .filter((flag) => flag !== undefined);
  return flags.length > 0 && flags.every((flag) => flag === true);
}

/** Whether the error says a topic does not exist. */
export function isUnknownTopic(error: unknown): boolean {
  // The client turns the metadata answer for a missing topic into a UserError without the broker's code.
  const unknownTopic = flattenErrors(error).some((node) => node instanceof Error && node.message.startsWith('Unknown topic '));
  return unknownTopic || protocolErrorIds(error).has('UNKNOWN_TOPIC_OR_PARTITION');
}

function hasCode(nodes: readonly unknown[], code: string): boolean {
  return nodes.some((node) => (node as { code?: unknown } | null)?.code === code);
}

/** The innermost messages, which name the broker and the error; the outer ones only say "failed N times". */
export function describeKafkaError(error: unknown): string {
  const nodes = flattenErrors(error);
  const messages = new Set<string>();
  for (const node of nodes) {
    if (!(node instanceof Error)) continue;
    const { errors, apiId, serverErrorMessage } = node as Error & { errors?: unknown; apiId?: string; serverErrorMessage?: string };
    if (Array.isArray(errors) && errors.length > 0) continue;
    const text = apiId === undefined ? node.message : `${apiId}${serverErrorMessage ? `: ${serverErrorMessage}` : ''}`;
    messages.add(text);
  }
  if (messages.size === 0) {
    const first = nodes[0];
    return first instanceof Error ? first.message : String(first);
  }
  return [...messages].join('; ');
}
