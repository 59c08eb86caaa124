import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { MongoClient, type Db } from 'mongodb';
import { defineTopic, type TopicDefinition } from '@yiyang/contracts';
import { parseBrokers } from '../options';

// Helpers for integration tests against the REAL local broker and database (`npm run infra:up`).
// Every test gets its own topics, groups and database, so tests never see each other's data.

export const testBrokers = (): string[] => parseBrokers(process.env['KAFKA_BROKERS']);
export const testMongoUrl = (): string => process.env['MONGO_URL'] ?? 'mongodb://127.0.0.1:27017/';

export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

export function testTopic(aggregate: string, partitions = 3): TopicDefinition {
  return defineTopic({ name: `yiyang.test.${aggregate}-${uniqueSuffix()}.v1`, partitions, key: 'id' });
}

export function testKafka(clientId = `test-${uniqueSuffix()}`): Kafka {
  return new Kafka({ clientId, brokers: testBrokers(), logLevel: logLevel.NOTHING });
}

export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CollectedRecord {
  /** From the JSON envelope in the value, when it is one (a DLQ record keeps the original value). */
  eventId?: string;
  correlationId?: string;
  type?: string;
  topic: string;
  partition: number;
  key: string;
  value: string;
  headers: Record<string, string>;
  offset: string;
}

/**
 * A plain kafkajs consumer that records what is published to the topics from now on, for
 * assertions. It starts at the current end of each partition (not the beginning), so a test does
 * not wade through every earlier run's events on a long-lived local broker; anything produced
 * after `collect()` resolves — or even while it is joining — is seen.
 */
export async function collect(kafka: Kafka, topics: string[]): Promise<{ records: CollectedRecord[]; stop(): Promise<void> }> {
  const admin = kafka.admin();
  await admin.connect();
  const starts = await Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) })));
  await admin.disconnect();

  const records: CollectedRecord[] = [];
  const consumer = kafka.consumer({ groupId: `collector-${uniqueSuffix()}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const assigned = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  const startOf = new Map(starts.flatMap(({ topic, offsets }) => offsets.map((o) => [`${topic}/${o.partition}`, BigInt(o.offset)])));
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      // Until the seek lands, the group may hand out older records: they are not this test's.
      if (BigInt(message.offset) < (startOf.get(`${topic}/${partition}`) ?? 0n)) return;
      records.push({ topic, partition, offset: message.offset, ...decode(message) });
    },
  });
  await assigned;
  for (const { topic, offsets } of starts) {
    for (const { partition, offset } of offsets) consumer.seek({ topic, partition, offset });
  }
  return { records, stop: () => consumer.disconnect() };
}

function decode(message: KafkaMessage) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  const value = message.value?.toString() ?? '';
  let envelope: { eventId?: string; correlationId?: string; type?: string } = {};
  try {
    envelope = JSON.parse(value);
  } catch {
    /* not an envelope: a malformed record in a DLQ test */
  }
  return { key: message.key?.toString() ?? '', value, headers, eventId: envelope.eventId, correlationId: envelope.correlationId, type: envelope.type };
}

export async function testDatabase(): Promise<{ db: Db; name: string; url: string; drop(): Promise<void> }> {
  const name = `test_${uniqueSuffix()}`;
  const client = await MongoClient.connect(testMongoUrl(), { serverSelectionTimeoutMS: 10_000 });
  const db = client.db(name);
  return {
    db,
    name,
    url: testMongoUrl(),
    drop: async () => {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}
