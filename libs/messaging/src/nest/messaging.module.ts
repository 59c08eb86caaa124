import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { getConnectionToken } from '@nestjs/mongoose';
import { ALL_TOPICS, type EventDefinition, type TopicDefinition } from '@yiyang/contracts';
import type { Kafka } from 'kafkajs';
import type { Connection } from 'mongoose';
import pino, { type Logger } from 'pino';
import { ensureTopics } from '../admin';
import { EventConsumer } from '../consumer';
import { newEnvelope, type NewEvent } from '../envelopes';
import type { BatchHandlerRegistration, ConsumerTuning, HandlerRegistration } from '../handlers';
import { createKafka } from '../kafka';
import type { MessagingOptions } from '../options';
import { OutboxRelay, type OutboxRelayOptions, type PendingEvent } from '../outbox';
import { EventPublisher } from '../publisher';
import { HANDLE_EVENT, HANDLE_EVENT_BATCH, type HandleEventBatchMetadata, type HandleEventMetadata } from './handle-event.decorator';
import { KAFKA, MESSAGING_LOGGER, MESSAGING_OPTIONS } from './tokens';
import { KafkaHealthIndicator } from '../health';
import { HealthIndicatorService } from '@nestjs/terminus';

export { KAFKA, MESSAGING_LOGGER, MESSAGING_OPTIONS };

export interface MessagingModuleOptions extends MessagingOptions {
  /** Topics to create at start-up besides the platform catalogue (e.g. a test's own topics). */
  extraTopics?: readonly TopicDefinition[];
  outbox?: OutboxRelayOptions;
  /** Per consumer-group suffix: fetch/group settings, applied over what the group's decorators ask for. */
  consumers?: Record<string, ConsumerTuning>;
}

export interface MessagingModuleAsyncOptions {
  imports?: DynamicModule['imports'];
  inject?: (string | symbol | (abstract new (...args: never[]) => unknown))[];
  useFactory: (...args: never[]) => MessagingModuleOptions | Promise<MessagingModuleOptions>;
}

/** Creates envelopes stamped with this service as the producer. */
@Injectable()
export class Events {
  constructor(@Inject(MESSAGING_OPTIONS) private readonly options: MessagingModuleOptions) {}

  create<P>(definition: EventDefinition<P>, event: NewEvent<P>): PendingEvent {
    return { definition: definition as EventDefinition<unknown>, envelope: newEnvelope(this.options.service, definition, event) };
  }
}

/** Wires the Kafka client, topic creation, handler discovery, consumers and the outbox relay into Nest's lifecycle. */
@Injectable()
export class MessagingLifecycle implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private consumers: EventConsumer[] = [];

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingModuleOptions,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(MESSAGING_LOGGER) private readonly log: Logger,
    private readonly publisher: EventPublisher,
    private readonly relay: OutboxRelay,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  async onModuleInit(): Promise<void> {
    await ensureTopics(this.kafka, [...ALL_TOPICS, ...(this.options.extraTopics ?? [])]);
    await this.publisher.connect();
  }

  async onApplicationBootstrap(): Promise<void> {
    const groups = new Map<string, HandlerRegistration[]>();
    const batchGroups = new Map<string, BatchHandlerRegistration[]>();
    const tuning = new Map<string, ConsumerTuning>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const fn = instance[method] as (...args: unknown[]) => Promise<void>;
        const metas = this.reflector.get<HandleEventMetadata[] | undefined>(HANDLE_EVENT, fn);
        for (const meta of metas ?? []) {
          const list = groups.get(meta.group) ?? [];
          list.push({
            event: meta.event,
            group: meta.group,
            name: `${instance.constructor.name}.${method}`,
            handler: (payload, ctx) => fn.call(instance, payload, ctx),
          });
          groups.set(meta.group, list);
        }
        const batchMeta = this.reflector.get<HandleEventBatchMetadata | undefined>(HANDLE_EVENT_BATCH, fn);
        if (batchMeta) {
          const list = batchGroups.get(batchMeta.group) ?? [];
          list.push({
            events: batchMeta.events,
            group: batchMeta.group,
            name: `${instance.constructor.name}.${method}`,
            maxBatchSize: batchMeta.maxBatchSize,
            payloadGuard: batchMeta.payloadGuard,
            handler: (batch) => fn.call(instance, batch),
          });
          batchGroups.set(batchMeta.group, list);
          tuning.set(batchMeta.group, { ...tuning.get(batchMeta.group), ...batchMeta.consumer });
        }
      }
    }
    const prefix = this.options.groupPrefix ?? `yiyang.${this.options.service}`;
    for (const group of new Set([...groups.keys(), ...batchGroups.keys()])) {
      const consumer = new EventConsumer(this.kafka, this.publisher, this.log, {
        groupId: `${prefix}.${group}`,
        service: this.options.service,
        registrations: groups.get(group) ?? [],
        batchRegistrations: batchGroups.get(group) ?? [],
        retry: this.options.retry,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
        fromBeginning: this.options.fromBeginning,
        tuning: { ...tuning.get(group), ...this.options.consumers?.[group] },
      });
      await consumer.start();
      this.consumers.push(consumer);
    }
    this.relay.start();
  }

  /** Graceful shutdown, first step: stop taking work, finish what is in hand. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
    await this.relay.stop();
  }

  /** Last step, after in-flight work: flush and close the producer. */
  async onApplicationShutdown(): Promise<void> {
    await this.publisher.disconnect();
  }
}

@Module({})
export class MessagingModule {
  static forRootAsync(options: MessagingModuleAsyncOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      providers: [
        { provide: MESSAGING_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        {
          provide: MESSAGING_LOGGER,
          useFactory: (o: MessagingModuleOptions) =>
            pino({ level: process.env['LOG_LEVEL'] ?? 'info', base: { service: o.service, component: 'messaging' } }),
          inject: [MESSAGING_OPTIONS],
        },
        {
          provide: KAFKA,
          useFactory: (o: MessagingModuleOptions, log: Logger) => createKafka(`yiyang-${o.service}`, o.brokers, log),
          inject: [MESSAGING_OPTIONS, MESSAGING_LOGGER],
        },
        { provide: EventPublisher, useFactory: (kafka: Kafka) => new EventPublisher(kafka), inject: [KAFKA] },
        {
          provide: OutboxRelay,
          useFactory: (o: MessagingModuleOptions, publisher: EventPublisher, log: Logger, connection?: Connection) => {
            const leases = connection?.collection('outbox_leases');
            return new OutboxRelay(publisher, leases as never, log, o.outbox);
          },
          inject: [MESSAGING_OPTIONS, EventPublisher, MESSAGING_LOGGER, { token: getConnectionToken(), optional: true }],
        },
        Events,
        MessagingLifecycle,
        HealthIndicatorService,
        KafkaHealthIndicator,
      ],
      exports: [MESSAGING_OPTIONS, KAFKA, EventPublisher, OutboxRelay, Events, KafkaHealthIndicator],
    };
  }
}
