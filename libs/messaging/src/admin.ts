import type { Admin, Kafka } from 'kafkajs';
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
      await admin
        .createTopics({
          waitForLeaders: true,
          topics: missing.map(([topic, spec]) => ({
            topic,
            numPartitions: spec.partitions,
            replicationFactor: -1, // the broker's default: 1 on the local node, 3 on a real cluster
            configEntries: spec.retentionHours
              ? [{ name: 'retention.ms', value: String(spec.retentionHours * 3_600_000) }]
              : [],
          })),
        })
        .catch((error: unknown) => {
          // KRaft: right after creating, the broker can answer kafkajs' leader check before its own
          // metadata lists the topic ("does not host this topic-partition"). The topics exist; wait
          // for them below rather than fail the boot.
          if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
        });
      await waitForLeaders(
        admin,
        missing.map(([name]) => name),
      );
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

/** Until every partition of the topics has a leader (a producer or consumer started earlier would fail). */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (
        found.length === topics.length &&
        found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      )
        return;
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || Date.now() > until) throw error;
    }
    if (Date.now() > until)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for leaders of ${topics.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
