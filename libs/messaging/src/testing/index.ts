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
  topic: string;
  partition: number;
  key: string;
  value: string;
  headers: Record<string, string>;
  offset: string;
}

/** A plain kafkajs consumer that records everything on the topics, for assertions. */
export async function collect(kafka: Kafka, topics: string[]): Promise<{ records: CollectedRecord[]; stop(): Promise<void> }> {
  const records: CollectedRecord[] = [];
  const consumer = kafka.consumer({ groupId: `collector-${uniqueSuffix()}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      records.push({ topic, partition, offset: message.offset, ...decode(message) });
    },
  });
  return { records, stop: () => consumer.disconnect() };
}

function decode(message: KafkaMessage) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  return { key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', headers };
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
