import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Envelope } from '@yiyang/contracts';
import { envelopeHeaders } from './envelopes';
import { messagingMetrics } from './metrics';

export interface OutgoingRecord {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

/**
 * The one Kafka producer of a service. Idempotent with acks=all and one request in flight per
 * broker connection: a retried send can neither duplicate a record nor overtake the one before it,
 * which is what keeps per-key order intact.
 */
export class EventPublisher {
  private readonly producer: Producer;
  private connected?: Promise<void>;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Java-compatible murmur2: a key lands on the same partition whichever client produced it.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    this.connected ??= this.producer.connect();
    await this.connected;
  }

  /** Publishes envelopes; resolves only when the broker has acknowledged all of them. */
  async publish(envelopes: readonly Envelope[], topicOf: (e: Envelope) => string): Promise<void> {
    await this.send(
      envelopes.map((e) => ({ topic: topicOf(e), key: e.key, value: JSON.stringify(e), headers: envelopeHeaders(e.type) })),
    );
  }

  /** Sends already-serialised records (the outbox relay and the dead-letter path use this). */
  async send(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.connect();
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic) ?? [];
      list.push({ key: r.key, value: r.value, headers: r.headers });
      byTopic.set(r.topic, list);
    }
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    for (const [topic, messages] of byTopic) messagingMetrics.published.inc({ topic }, messages.length);
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    await this.producer.disconnect();
    this.connected = undefined;
  }
}
