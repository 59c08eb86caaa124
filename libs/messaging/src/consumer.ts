import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { EnvelopeSchema, type Envelope } from '@yiyang/contracts';
import type { Logger } from 'pino';
import { deadLetterRecord } from './dead-letter';
import { newEnvelope } from './envelopes';
import type { EventContext, HandlerRegistration } from './handlers';
import { messagingMetrics } from './metrics';
import { DEFAULT_RETRY, type RetryPolicy } from './options';
import type { EventPublisher } from './publisher';

export interface EventConsumerOptions {
  groupId: string;
  service: string;
  registrations: readonly HandlerRegistration[];
  retry?: Partial<RetryPolicy>;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
}

type Parsed =
  | { ok: true; envelope: Envelope; registrations: HandlerRegistration[]; payload: unknown }
  | { ok: false; error: string }
  | { ok: 'skip' };

class StoppedError extends Error {}

/**
 * One consumer group. Delivery is at-least-once: an offset is resolved only after every handler
 * for the message succeeded or the message was safely in the dead-letter topic, so a crash at any
 * point means redelivery, never loss. Handlers must therefore be idempotent (see idempotency.ts).
 * Within a partition messages are handled strictly one after another — that is the per-key order.
 */
export class EventConsumer {
  private readonly consumer: Consumer;
  private readonly retry: RetryPolicy;
  private readonly byTopic = new Map<string, Map<string, HandlerRegistration[]>>();
  private running = false;

  constructor(
    kafka: Kafka,
    private readonly publisher: EventPublisher,
    private readonly log: Logger,
    private readonly options: EventConsumerOptions,
  ) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
    for (const r of options.registrations) {
      const types = this.byTopic.get(r.event.topic.name) ?? new Map<string, HandlerRegistration[]>();
      types.set(r.event.type, [...(types.get(r.event.type) ?? []), r]);
      this.byTopic.set(r.event.topic.name, types);
    }
  }

  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: this.options.fromBeginning ?? true });
    this.running = true;
    await this.consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.log.info({ group: this.options.groupId, topics: this.topics }, 'consumer started');
  }

  /** Stops fetching, lets the message in hand finish, commits what was resolved. */
  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload) {
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || !this.running) return;
      try {
        await this.handleMessage(batch.topic, batch.partition, message, heartbeat);
      } catch (error) {
        if (error instanceof StoppedError) return; // not resolved: the next owner gets it again
        throw error; // dead-lettering itself failed: kafkajs restarts from the last resolved offset
      }
      resolveOffset(message.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  private parse(topic: string, message: KafkaMessage): Parsed {
    let json: unknown;
    try {
      json = JSON.parse(message.value?.toString() ?? '');
    } catch {
      return { ok: false, error: 'value is not JSON' };
    }
    const envelope = EnvelopeSchema.safeParse(json);
    if (!envelope.success) {
      const issue = envelope.error.issues[0];
      return { ok: false, error: `envelope.${issue.path.join('.')}: ${issue.message}` };
    }
    const registrations = this.byTopic.get(topic)?.get(envelope.data.type);
    // Other event types on a topic we read are someone else's business; skipping them is correct.
    if (!registrations) return { ok: 'skip' };
    const payload = registrations[0].event.payload.safeParse(envelope.data.payload);
    if (!payload.success) {
      const issue = payload.error.issues[0];
      return { ok: false, error: `payload.${issue.path.join('.')}: ${issue.message}` };
    }
    return { ok: true, envelope: envelope.data as Envelope, registrations, payload: payload.data };
  }

  private async handleMessage(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>) {
    const parsed = this.parse(topic, message);
    if (parsed.ok === 'skip') {
      messagingMetrics.consumed.inc({ topic, outcome: 'skipped' });
      return;
    }
    if (parsed.ok === false) {
      // Retrying cannot fix a record that breaks its contract: park it at once, keep the partition moving.
      this.log.error({ topic, partition, offset: message.offset, error: parsed.error }, 'schema violation, dead-lettered');
      await this.publisher.send([deadLetterRecord({ topic, partition, message }, 'SCHEMA', parsed.error, 0, this.options.groupId)]);
      messagingMetrics.consumed.inc({ topic, outcome: 'dead_lettered' });
      return;
    }

    const { envelope, registrations, payload } = parsed;
    // Most messages log nothing: the event-bound child logger is made on first use, not per message
    // (it showed up in bench/messaging as a measurable share of the per-message cost).
    let bound: Logger | undefined;
    const eventLog = () =>
      (bound ??= this.log.child({ correlationId: envelope.correlationId, eventId: envelope.eventId, type: envelope.type }));
    for (let attempt = 1; ; attempt++) {
      const context: EventContext = {
        envelope,
        topic,
        partition,
        offset: message.offset,
        attempt,
        get log() {
          return eventLog();
        },
        follow: (definition, event) =>
          newEnvelope(this.options.service, definition, {
            ...event,
            correlationId: envelope.correlationId,
            causationId: envelope.eventId,
          }),
      };
      const timer = messagingMetrics.handlerSeconds.startTimer({ topic });
      try {
        for (const r of registrations) await r.handler(payload, context);
        timer();
        messagingMetrics.consumed.inc({ topic, outcome: 'ok' });
        return;
      } catch (error) {
        timer();
        if (attempt >= this.retry.maxAttempts) {
          eventLog().error({ err: error, attempt, topic, partition, offset: message.offset }, 'handler failed, dead-lettered');
          await this.publisher.send([
            deadLetterRecord({ topic, partition, message }, 'HANDLER', error, attempt, this.options.groupId),
          ]);
          messagingMetrics.consumed.inc({ topic, outcome: 'dead_lettered' });
          return;
        }
        messagingMetrics.retries.inc({ topic });
        eventLog().warn({ err: error, attempt }, 'handler failed, will retry');
        await this.backoff(attempt, heartbeat);
      }
    }
  }

  private async backoff(attempt: number, heartbeat: () => Promise<void>) {
    const delay = Math.min(this.retry.initialBackoffMs * 2 ** (attempt - 1), this.retry.maxBackoffMs);
    const until = Date.now() + delay;
    while (Date.now() < until) {
      if (!this.running) throw new StoppedError();
      await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
      await heartbeat(); // a long back-off must not look like a dead consumer to the group
    }
  }
}
