import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { Envelope, EventDefinition } from '@yiyang/contracts';
import type { Logger } from 'pino';
import { envelopeHeaders } from './envelopes';
import { messagingMetrics } from './metrics';
import type { EventPublisher } from './publisher';

/**
 * The transactional outbox without transactions (docs/adr/0002-outbox.md).
 *
 * FerretDB and MongoDB-without-replica-set give us no multi-document transaction, but every
 * single-document write is atomic. So the events a state change must publish are stored IN the
 * aggregate's own document, in the same write as the change: `outbox` holds them in order and
 * `outboxPending` marks the document for the relay. Either both the change and its events are
 * stored, or neither is.
 */
export interface OutboxEntry {
  eventId: string;
  topic: string;
  key: string;
  type: string;
  /** The serialised envelope, published byte for byte as stored. */
  value: string;
}

export interface OutboxFields {
  outbox: OutboxEntry[];
  outboxPending: boolean;
}

export function toOutboxEntry(definition: EventDefinition<never> | EventDefinition<unknown>, envelope: Envelope): OutboxEntry {
  return { eventId: envelope.eventId, topic: definition.topic.name, key: envelope.key, type: envelope.type, value: JSON.stringify(envelope) };
}

export type PendingEvent = { definition: EventDefinition<never> | EventDefinition<unknown>; envelope: Envelope };

/** Fields to spread into a document being inserted together with its first events. */
export function outboxFields(events: readonly PendingEvent[]): OutboxFields {
  return { outbox: events.map((e) => toOutboxEntry(e.definition, e.envelope)), outboxPending: events.length > 0 };
}

/**
 * Adds the events to an update of an existing document (a mongoose or driver update document):
 * appended in order, in the same atomic single-document write as the state change.
 */
export function withOutbox<U extends { $set?: object; $push?: object }>(update: U, events: readonly PendingEvent[]): U {
  if (events.length === 0) return update;
  return {
    ...update,
    $set: { ...(update.$set ?? {}), outboxPending: true },
    $push: { ...(update.$push ?? {}), outbox: { $each: events.map((e) => toOutboxEntry(e.definition, e.envelope)) } },
  };
}

export interface OutboxRelayOptions {
  batchSize?: number;
  idlePollMs?: number;
  /**
   * Longest wait between polls of a collection with nothing pending (default 10 × idlePollMs). A
   * poll of `{outboxPending: true}` scans the collection where the store cannot answer a boolean
   * from its index (FerretDB v1); a large, rarely written collection can poll rarely, since every
   * write in this process nudges its collection's relay awake at once.
   */
  maxIdlePollMs?: number;
  // (a collection can set its own ceiling when it registers)
  /** How long a relay holds a collection before another replica may take over (after a crash). */
  leaseMs?: number;
  /** Called after the broker acknowledged a batch and before it is cleared — for tests and tracing. */
  afterPublish?: (eventIds: string[]) => Promise<void> | void;
}

/**
 * Publishes what the outbox holds, then clears it. Publish-then-clear means a crash in between
 * publishes again (consumers dedupe by eventId) and never loses. One replica at a time works a
 * collection (a lease document), so replicas do not race each other into reordering a key's events.
 */
export class OutboxRelay {
  private readonly collections: Collection[] = [];
  private readonly owner = randomUUID();
  private readonly batchSize: number;
  private readonly idlePollMs: number;
  private readonly maxIdlePollMs: number;
  private readonly leaseMs: number;
  private running = false;
  private loops: Promise<void>[] = [];
  /** Per collection: wakes its loop from its idle wait (set while waiting). */
  private readonly wakers = new Map<string, () => void>();
  /** Per collection: a nudge arrived while its loop was busy — poll again at once. */
  private readonly nudged = new Set<string>();
  /** Per collection: its own idle ceiling (see register). */
  private readonly maxIdle = new Map<string, number>();
  /** Per collection: until when (this process's clock) the lease we last took is surely still ours. */
  private readonly leaseHeldUntil = new Map<string, number>();

  constructor(
    private readonly publisher: EventPublisher,
    /** Absent in a service without a database; such a service cannot register outbox collections. */
    private readonly leases: Collection<{ _id: string; owner: string; expiresAt: Date }> | undefined,
    private readonly log: Logger,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.idlePollMs = options.idlePollMs ?? 200;
    this.maxIdlePollMs = options.maxIdlePollMs ?? this.idlePollMs * 10;
    this.leaseMs = options.leaseMs ?? 15_000;
  }

  /** Call once per collection that holds outbox fields; an index keeps the relay's poll cheap. */
  async register(collection: Collection, options: { maxIdlePollMs?: number } = {}): Promise<void> {
    if (!this.leases) throw new Error('The outbox relay needs a database connection (MongooseModule) to register collections');
    await collection.createIndex({ outboxPending: 1 });
    this.collections.push(collection);
    if (options.maxIdlePollMs !== undefined) this.maxIdle.set(collection.collectionName, options.maxIdlePollMs);
    if (this.running) this.loops.push(this.run(collection));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // One loop per collection: a slow poll of one (a big collection scanned) never delays another's events.
    this.loops = this.collections.map((c) => this.run(c));
  }

  /**
   * Wake the relay now (after a write) instead of waiting for the next poll — only the named
   * collection's loop, or every loop when no name is given.
   */
  nudge(collectionName?: string): void {
    for (const c of this.collections) {
      if (collectionName !== undefined && c.collectionName !== collectionName) continue;
      const wake = this.wakers.get(c.collectionName);
      if (wake) wake();
      else this.nudged.add(c.collectionName);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.wakers.values()) wake();
    await Promise.all(this.loops);
    const leases = this.leases;
    if (!leases) return;
    await Promise.all(
      this.collections.map((c) => leases.deleteOne({ _id: c.collectionName, owner: this.owner }).catch(() => undefined)),
    );
  }

  /** One pass over every collection; returns how many events were published. */
  async drainOnce(): Promise<number> {
    let total = 0;
    for (const collection of this.collections) total += await this.drainCollection(collection);
    return total;
  }

  private async drainCollection(collection: Collection): Promise<number> {
    if (!(await this.holdLease(collection.collectionName))) return 0;
    return this.relay(collection);
  }

  private async run(collection: Collection): Promise<void> {
    const name = collection.collectionName;
    let idle = this.idlePollMs;
    while (this.running) {
      this.nudged.delete(name);
      let published = 0;
      try {
        published = await this.drainCollection(collection);
      } catch (error) {
        this.log.error({ err: error, collection: name }, 'outbox relay pass failed; will retry');
      }
      // An empty poll is a query over the collection. When nothing is pending the interval doubles
      // up to maxIdlePollMs (writes in this process nudge the relay awake at once; another
      // replica's writes wait at most the longest interval).
      idle = published > 0 ? this.idlePollMs : Math.min(idle * 2, this.maxIdle.get(name) ?? this.maxIdlePollMs);
      if (published === 0 && this.running && !this.nudged.has(name)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, idle);
          this.wakers.set(name, () => {
            clearTimeout(timer);
            resolve();
          });
        });
        this.wakers.delete(name);
      }
    }
  }

  private async holdLease(name: string): Promise<boolean> {
    const now = new Date();
    if (!this.leases) return false;
    // A lease taken less than half its length ago is still ours: no other replica may take it
    // before it expires. Renewing it on every pass was a database write in front of every publish
    // (an alert's AlertRaised waited for it); renewing at half-life keeps the same margin for a
    // clock that runs ahead on another replica as before (half a lease, 7.5 s by default).
    if ((this.leaseHeldUntil.get(name) ?? 0) > now.getTime()) return true;
    this.leaseHeldUntil.delete(name);
    try {
      const result = await this.leases.findOneAndUpdate(
        { _id: name, $or: [{ owner: this.owner }, { expiresAt: { $lt: now } }] },
        { $set: { owner: this.owner, expiresAt: new Date(now.getTime() + this.leaseMs) } },
        { upsert: true, returnDocument: 'after' },
      );
      const held = result?.owner === this.owner;
      if (held) this.leaseHeldUntil.set(name, now.getTime() + this.leaseMs / 2);
      return held;
    } catch (error) {
      // Another replica holds a live lease: our upsert collided with its document's _id.
      if ((error as { code?: number }).code === 11000) return false;
      throw error;
    }
  }

  private async relay(collection: Collection): Promise<number> {
    const docs = await collection
      .find({ outboxPending: true }, { projection: { outbox: 1 } })
      .limit(this.batchSize)
      .toArray();
    if (docs.length === 0) return 0;

    // Within a document the array order is the order of its events. Across documents, UUIDv7 ids
    // sort by creation time, so a batch goes out in the order the changes were made.
    const entries = docs
      .flatMap((d) => (d.outbox as OutboxEntry[] | undefined) ?? [])
      .sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    if (entries.length > 0) {
      await this.publisher.send(
        entries.map((e) => ({ topic: e.topic, key: e.key, value: e.value, headers: envelopeHeaders(e.type) })),
      );
      await this.options.afterPublish?.(entries.map((e) => e.eventId));
    }

    // One ordered bulk write for the whole batch (one round trip instead of two per document).
    // Per document: $pullAll removes exactly the entries published (matched whole, as read), so
    // events appended meanwhile stay for the next pass ($pull with a condition is not in FerretDB
    // v1's subset); then the flag is lowered only if the outbox is empty at that instant — a
    // concurrent write re-raises it.
    await collection.bulkWrite(
      docs.flatMap((doc) => {
        const published = (doc.outbox as OutboxEntry[] | undefined) ?? [];
        return [
          ...(published.length > 0 ? [{ updateOne: { filter: { _id: doc._id }, update: { $pullAll: { outbox: published } } as never } }] : []),
          { updateOne: { filter: { _id: doc._id, outbox: { $size: 0 } }, update: { $set: { outboxPending: false } } } },
        ];
      }),
      { ordered: true },
    );
    messagingMetrics.relayed.inc({ collection: collection.collectionName }, entries.length);
    return entries.length;
  }
}
