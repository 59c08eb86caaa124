/**
 * A Kafka topic as the producer declares it. The name, the partition count and what the key is
 * live together in one declaration so nobody derives them from class names or guesses the key.
 */
export interface TopicDefinition {
  /** `yiyang.<service>.<aggregate>.v<N>` — see docs/adr/0003-topic-naming-and-versioning.md. */
  readonly name: string;
  readonly partitions: number;
  /** What the message key is. Every event of one key lands on one partition, so it stays in order. */
  readonly key: string;
  /** Retention in hours; undefined keeps the broker default (7 days). */
  readonly retentionHours?: number;
}

const TOPIC_NAME = /^yiyang\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.v[1-9][0-9]*$/;

export function defineTopic(definition: TopicDefinition): TopicDefinition {
  if (!TOPIC_NAME.test(definition.name)) {
    throw new Error(`Topic name "${definition.name}" does not follow yiyang.<service>.<aggregate>.v<N>`);
  }
  if (!Number.isInteger(definition.partitions) || definition.partitions < 1) {
    throw new Error(`Topic ${definition.name}: partitions must be a positive integer`);
  }
  return Object.freeze({ ...definition });
}

/** Where a consumer parks what it could not process (see libs/messaging). */
export function deadLetterTopicName(topic: string): string {
  return `${topic}.dlq`;
}
