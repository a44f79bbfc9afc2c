/**
 * The body of a Produce request (v9; v10 and v11 are the same) carrying already encoded record batches, one per
 * partition. The batches are appended as they are, not copied: the connection copies the request once into the
 * socket's buffer.
 *
 *   Produce Request (v9) => transactional_id acks timeout_ms [topic_data] TAG_BUFFER
 *     transactional_id => COMPACT_NULLABLE_STRING
 *     topic_data => name [partition_data] TAG_BUFFER
 *       partition_data => index records TAG_BUFFER
 *         records => COMPACT_RECORDS
 */
import { Writer } from '@platformatic/kafka';

export interface PartitionBatch {
  readonly partition: number;
  /** One encoded RecordBatch (record-batch.ts). */
  readonly batch: Buffer;
}

export interface TopicBatches {
  readonly topic: string;
  readonly partitions: PartitionBatch[];
}

/**
 * The Produce version this writes and the client's produceV9.parseResponse reads (Kafka 2.4 and newer speak it).
 * Not v10 or v11: their answers carry tagged fields when a partition's leader moved (KIP-951 CurrentLeader and
 * NodeEndpoints), which @platformatic/kafka 1.35 cannot skip (Reader.readTaggedFields takes the field count for a
 * byte length), so the answer fails to parse ("Out of bounds") exactly when a retry would help.
 */
export const PRODUCE_VERSION = 9;

export function createProduceRequest(acks: number, timeoutMs: number, topics: TopicBatches[]): Writer {
  return Writer.create()
    .appendString(null)
    .appendInt16(acks)
    .appendInt32(timeoutMs)
    .appendArray(topics, (topicWriter, { topic, partitions }) => {
      topicWriter.appendString(topic).appendArray(partitions, (partitionWriter, { partition, batch }) => {
        partitionWriter.appendInt32(partition).appendUnsignedVarInt(batch.length + 1).append(batch);
      });
    })
    .appendTaggedFields();
}
