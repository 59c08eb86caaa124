import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventPublisher, KAFKA } from '@yiyang/messaging';

/**
 * Ingestion's own Kafka producer for the telemetry topic. The service's EventPublisher is idempotent
 * with one request in flight per broker connection (per-key order on retries), so a 1,000-reading
 * telemetry batch on it sat in front of every alert the outbox relay published — measured as the
 * "alert stored → AlertRaised seen" part of bench/telemetry's latency. A second producer is a
 * second connection: alerts no longer queue behind telemetry, and telemetry keeps the same
 * guarantees (idempotent, acks=all, one request in flight, murmur2 partitioner — per-device order).
 */
@Injectable()
export class TelemetryPublisher implements OnModuleInit, OnApplicationShutdown {
  readonly publisher: EventPublisher;

  constructor(@Inject(KAFKA) kafka: ConstructorParameters<typeof EventPublisher>[0]) {
    this.publisher = new EventPublisher(kafka);
  }

  async onModuleInit(): Promise<void> {
    await this.publisher.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.disconnect();
  }
}
