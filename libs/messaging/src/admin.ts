import type { Kafka } from 'kafkajs';
import { deadLetterTopicName, type TopicDefinition } from '@yiyang/contracts';

/**
 * Creates every declared topic and its dead-letter twin, and grows partition counts that were
 * raised in the declaration. Safe to run from every replica at every start (create is idempotent).
 * Partitions are never reduced — Kafka cannot, and the key→partition map would change under our feet.
 */
export async function ensureTopics(kafka: Kafka, topics: readonly TopicDefinition[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const wanted = new Map<string, { partitions: number; retentionHours?: number }>();
    for (const t of topics) {
      wanted.set(t.name, { partitions: t.partitions, retentionHours: t.retentionHours });
      wanted.set(deadLetterTopicName(t.name), { partitions: 1 });
    }
    const existing = new Set(await admin.listTopics());
    const missing = [...wanted].filter(([name]) => !existing.has(name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(([topic, spec]) => ({
          topic,
          numPartitions: spec.partitions,
          replicationFactor: -1, // the broker's default: 1 on the local node, 3 on a real cluster
          configEntries: spec.retentionHours
            ? [{ name: 'retention.ms', value: String(spec.retentionHours * 3_600_000) }]
            : [],
        })),
      });
    }
    const present = [...wanted.keys()].filter((name) => existing.has(name));
    if (present.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: present });
      const grow = metadata.topics.flatMap((t) => {
        const count = wanted.get(t.name)?.partitions ?? 0;
        return t.partitions.length < count ? [{ topic: t.name, count }] : [];
      });
      if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });
    }
  } finally {
    await admin.disconnect();
  }
}
