/**
 * The schema registry a command registers with: the external one, or the embedded one served by this process
 * over the checkpoint store, which holds the schemas whichever process serves them (so ids agree between `run`
 * and `replay`). The daemon serves it where the config says; a replay serves its own on a private port, as the
 * daemon may be running and holding the configured one.
 */
import type { Config } from '../config/index.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import type { Closer } from '../ops/close-all.js';
import type { Logger } from '../ops/logger.js';
import { startEmbeddedRegistry } from '../registry/server.js';
import { registrySchemaStore } from './store-adapters.js';

export interface RegistryEndpoint {
  readonly url: string;
  readonly auth?: { readonly username: string; readonly password: string } | undefined;
}

/** `cleanup` gets the embedded server's close. */
export async function openRegistry(
  config: Config,
  store: CheckpointStore,
  listen: 'configured' | 'private',
  cleanup: Closer[],
  logger: Logger,
): Promise<RegistryEndpoint> {
  const registry = config.registry;
  if (registry.mode === 'external') return { url: registry.url, auth: registry.auth };
  const address = listen === 'configured' ? registry.listen : { host: '127.0.0.1', port: 0 };
  const server = await startEmbeddedRegistry({ ...address, store: registrySchemaStore(store), logger });
  cleanup.push(() => server.close());
  return { url: listen === 'configured' ? (registry.url ?? server.url) : server.url };
}
