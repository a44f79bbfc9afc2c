/**
 * Where a reader of the change topics (the lake compactor) gets writer schemas by id: the external registry, or,
 * with the embedded registry, the checkpoint file that backs it, so that `tributary compact` works whether or not
 * the daemon is running.
 */
import type { SchemaSource } from '../avro/decoder.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import { TributaryError } from '../model/errors.js';

export function checkpointSchemaSource(store: CheckpointStore): SchemaSource {
  return {
    async getById(id: number): Promise<object | string> {
      const row = store.getSchemaById(id);
      if (row === undefined) {
        throw new TributaryError(`schema id ${id} is not in the embedded registry of ${store.path}`, {
          fix: 'point checkpoint.path at the file of the daemon that produced these topics, or use registry.mode: external',
        });
      }
      return JSON.parse(row.schema) as object | string;
    },
  };
}
