import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventPublisher, KAFKA, type OutgoingRecord } from '@yiyang/messaging';

/**
 * Most records one produce request carries when deliveries are sent together. kafkajs groups a
 * request's records by partition with an array copy per record (quadratic in records per
 * partition), so requests stay moderate: ~2,500 records is ~100 per partition of the topic's 24.
 */
const MAX_RECORDS_PER_REQUEST = 2_500;

interface Waiting {
  records: readonly OutgoingRecord[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Ingestion's own Kafka producer for the telemetry topic. The service's EventPublisher is idempotent
 * with one request in flight per broker connection (per-key order on retries), so a 1,000-reading
 * telemetry batch on it sat in front of every alert the outbox relay published — measured as the
 * "alert stored → AlertRaised seen" part of bench/telemetry's latency. A second producer is a
 * second connection: alerts no longer queue behind telemetry, and telemetry keeps the same
 * guarantees (idempotent, acks=all, one request in flight, murmur2 partitioner — per-device order).
 *
 * Group commit: with one request in flight, deliveries arriving while a produce request is out
 * would each wait for their own request anyway. They are gathered instead and go out together in
 * the next request (up to MAX_RECORDS_PER_REQUEST records), so the broker appends a few large
 * record batches per partition rather than many small ones, and each delivery is still answered only
 * after the broker acknowledged ITS records (a failed request fails every delivery in it, and each
 * vendor re-sends). Nothing waits on a timer: an idle producer sends at once, so no latency is added.
 * Order: a delivery's records stay in their order and deliveries go out in arrival order.
 */
@Injectable()
export class TelemetryPublisher implements OnModuleInit, OnApplicationShutdown {
  readonly publisher: EventPublisher;
  private queue: Waiting[] = [];
  private sending = false;

  constructor(@Inject(KAFKA) kafka: ConstructorParameters<typeof EventPublisher>[0]) {
    this.publisher = new EventPublisher(kafka);
  }

  async onModuleInit(): Promise<void> {
    await this.publisher.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    while (this.sending || this.queue.length) await new Promise((r) => setTimeout(r, 10));
    await this.publisher.disconnect();
  }

  /** Resolves once the broker acknowledged every one of `records` (acks=all). */
  send(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      if (!this.sending) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length) {
        const group: Waiting[] = [];
        let n = 0;
        while (this.queue.length && (group.length === 0 || n + this.queue[0].records.length <= MAX_RECORDS_PER_REQUEST)) {
          const w = this.queue.shift() as Waiting;
          group.push(w);
          n += w.records.length;
        }
        const records = group.length === 1 ? group[0].records : group.flatMap((w) => w.records);
        try {
          await this.publisher.send(records);
          for (const w of group) w.resolve();
        } catch (error) {
          for (const w of group) w.reject(error);
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
