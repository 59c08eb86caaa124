import { randomUUID } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import {
  envelopeHeaders,
  EventPublisher,
  isDuplicateKeyError,
  outboxFields,
  toOutboxEntry,
  withOutbox,
  type OutboxEntry,
  type OutboxFields,
  type PendingEvent,
} from '@yiyang/messaging';
import { Binary, type Collection } from 'mongodb';
import type { Connection } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';

/**
 * The roster import's outbox: ONE document per batch of up to 1,000 new elders instead of one outbox
 * entry inside each elder (docs/adr/0006-registry-records.md, "Import events"). Per batch:
 *
 *   1. prepare  — insert the batch's events (deflated JSON lines) into `elder_event_batches`, with the
 *                 elder ids and a lease; nothing publishes a prepared batch.
 *   2. write    — insertMany the elders, under ids (UUIDv7) made for this batch and listed in step 1.
 *   3. commit   — insert a small `elder_event_commits` document naming the events NOT to publish
 *                 (rows that turned out to exist already, and are updated instead, with their own events).
 *
 *
 * Step 3 needs no database write when all goes well: the writer still holds the batch's events in
 * memory, so it publishes the events of the elders it stored straight away (in batch order, one
 * publish at a time, off the writer's path) and then deletes the batch document. Only when that
 * publish fails does it hand the batch to the relay through a commit document (a fresh batch of the
 * stored rows' events + its commit), which the relay publishes in batch order, then deletes the batch
 * and its commit. A crash before the delete leaves a prepared batch: once its lease is over, the
 * sweeper commits it itself, keeping exactly the events whose elder exists: nothing but this batch's
 * insert can have stored a document under an id made for it (a row refused as a duplicate stores
 * nothing) — so no event for an elder never stored, none lost for an elder stored. A crash after
 * publishing and before the delete republishes; consumers dedupe by eventId (ADR 0002). A writer that
 * merely stalled past its lease publishes its stored rows' events from memory anyway (duplicates of
 * what the sweeper sent are deduped the same way), so the sweeper's choice can never lose one.
 */
/**
 * The same relay also works the elders' own per-document outboxes (ADR 0002: updates, single
 * registrations, status, assessments, absences). The shared OutboxRelay finds pending documents by
 * `{outboxPending: true}`, which FerretDB cannot answer from an index (only string equalities are
 * pushed down, ADR 0001): every poll decoded the whole elders collection — 3 s at 20,000 elders, about
 * a minute at 400,000, all the time. Elder writes therefore also set the string marker
 * `outboxMark: 'pending'` (elderOutbox / elderOutboxFields), an index lookup, and this relay —
 * batches first, then documents, in one pass — publishes and clears them with the same
 * publish-then-$pullAll-then-guarded-clear steps as OutboxRelay.
 */
export const OUTBOX_MARK = 'pending';

export function elderOutbox<U extends { $set?: object; $push?: object }>(update: U, events: readonly PendingEvent[]): U {
  const withEvents = withOutbox(update, events);
  return events.length === 0 ? withEvents : { ...withEvents, $set: { ...(withEvents.$set ?? {}), outboxMark: OUTBOX_MARK } };
}

export function elderOutboxFields(events: readonly PendingEvent[]): OutboxFields & { outboxMark?: string } {
  return events.length === 0 ? outboxFields(events) : { ...outboxFields(events), outboxMark: OUTBOX_MARK };
}

export const BATCHES = 'elder_event_batches';
export const COMMITS = 'elder_event_commits';
const LEASE_NAME = 'elder_event_batches';
/** A batch is written within seconds; a prepared batch older than this belongs to a crashed writer. */
const PREPARED_LEASE_MS = 10 * 60 * 1000;
const RELAY_LEASE_MS = 15_000;
const IDLE_POLL_MS = 200;
const SWEEP_EVERY_MS = 30_000;
/** Kafka records per send (one request, acks=all); bounded so one request stays well under the broker's limits. */
const SEND_CHUNK = 1_000;
/** Committed batches waiting for their in-memory publish: the writer waits beyond this (memory stays flat). */
const MAX_QUEUED_PUBLISHES = 2;
const DOCUMENTS_PER_PASS = 500;

/**
 * A prepared batch. Format 2 (current) keeps FerretDB's work per batch small — it decodes the whole
 * document to insert, read or delete it, and every array element is a typed value there: the ids are
 * one comma-joined string each and `events` holds just the serialised envelopes (one per line,
 * deflated), topic/type/key being the batch's own. Format 1 (older batches, still read): id arrays
 * and `events` as deflated JSON lines of whole outbox entries.
 */
interface BatchDoc {
  _id: string;
  importId: string | null;
  createdAt: Date;
  leaseUntil: Date;
  format?: 2;
  /** Format 2: the rows' topic and event type (one per batch), and their keys when not the elder ids. */
  topic?: string;
  type?: string;
  keys?: string;
  elderIds: string[] | string;
  eventIds: string[] | string;
  count: number;
  events: Binary;
}
interface CommitDoc {
  _id: string;
  excluded: string[];
  at: Date;
  by: 'writer' | 'sweeper';
}

/** One new elder's event. */
export interface BatchRowEvent {
  elderId: string;
  event: PendingEvent;
  /** The event as an outbox entry (made ahead by the importer's planning step, else here). */
  entry?: OutboxEntry;
}

const entryOf = (r: BatchRowEvent): OutboxEntry => r.entry ?? toOutboxEntry(r.event.definition, r.event.envelope);

export interface PreparedBatch {
  batchId: string;
  /** eventId of each prepared row's event, by elder id. */
  eventIdOf: Map<string, string>;
}

@Injectable()
export class ImportEventBatches implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(ImportEventBatches.name);
  private readonly owner = randomUUID();
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private lastSweep = 0;
  private adopted = false;
  private leaseRenewAt = 0;
  /** The writer's in-memory publishes of committed batches, chained in batch order. */
  private publishing: Promise<void> = Promise.resolve();
  private queuedPublishes = 0;
  /** Milliseconds the relay spent per step since start (read by the roster-import bench). */
  readonly timings: Record<string, number> = {};

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly publisher: EventPublisher,
  ) {}

  private get batches(): Collection<BatchDoc> {
    return this.connection.collection<BatchDoc>(BATCHES) as unknown as Collection<BatchDoc>;
  }
  private get commits(): Collection<CommitDoc> {
    return this.connection.collection<CommitDoc>(COMMITS) as unknown as Collection<CommitDoc>;
  }
  private get leases(): Collection<{ _id: string; owner: string; expiresAt: Date }> {
    return this.connection.collection('outbox_leases') as never;
  }

  private get elders(): Collection<{ _id: string; outbox?: OutboxEntry[] }> {
    return this.connection.collection('elders') as never;
  }

  async onModuleInit(): Promise<void> {
    await this.batches.createIndex({ leaseUntil: 1 });
    await this.elders.createIndex({ outboxMark: 1 });
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    await this.flushPublishes();
    this.running = false;
    this.wake?.();
    await this.loop;
    this.leaseRenewAt = 0;
    await this.leases.deleteOne({ _id: LEASE_NAME, owner: this.owner }).catch(() => undefined);
  }

  nudge(): void {
    this.wake?.();
  }

  // ── writer side ───────────────────────────────────────────────────────────────────────

  /** Step 1: stores the batch's events, unpublishable until committed. */
  async prepare(importId: string | null, rows: BatchRowEvent[]): Promise<PreparedBatch> {
    const batchId = uuidv7();
    const entries = rows.map(entryOf);
    const now = new Date();
    const head = { _id: batchId, importId, createdAt: now, leaseUntil: new Date(now.getTime() + PREPARED_LEASE_MS), count: rows.length };
    const uniform = entries.every((e) => e.topic === entries[0].topic && e.type === entries[0].type);
    if (uniform) {
      // A serialised envelope is JSON: it never holds a raw newline.
      const keysAreIds = entries.every((e, i) => e.key === rows[i].elderId);
      await this.batches.insertOne({
        ...head,
        format: 2,
        topic: entries[0]?.topic ?? '',
        type: entries[0]?.type ?? '',
        ...(keysAreIds ? {} : { keys: entries.map((e) => e.key).join(ID_SEPARATOR) }),
        elderIds: rows.map((r) => r.elderId).join(ID_SEPARATOR),
        eventIds: entries.map((e) => e.eventId).join(ID_SEPARATOR),
        events: new Binary(deflateRawSync(entries.map((e) => e.value).join('\n'), { level: 1 })),
      });
    } else {
      await this.batches.insertOne({
        ...head,
        elderIds: rows.map((r) => r.elderId),
        eventIds: entries.map((e) => e.eventId),
        events: new Binary(deflateRawSync(entries.map((e) => JSON.stringify(e)).join('\n'), { level: 1 })),
      });
    }
    return { batchId, eventIdOf: new Map(rows.map((r, i) => [r.elderId, entries[i].eventId])) };
  }

  /**
   * Step 3: the batch's events of the elders that were written are published from memory (queued,
   * in batch order; the writer goes on with its next batch) and the batch document is deleted — no
   * commit document, no read-back of the batch. Waits only when MAX_QUEUED_PUBLISHES batches are
   * already queued. A failed publish hands the events to the relay (see handOver).
   */
  async commit(batch: PreparedBatch, notWritten: readonly string[], rows: BatchRowEvent[]): Promise<void> {
    const skip = new Set(notWritten);
    const written = rows.filter((r) => !skip.has(r.elderId));
    while (this.queuedPublishes >= MAX_QUEUED_PUBLISHES) await this.publishing;
    this.queuedPublishes += 1;
    this.publishing = this.publishing
      .then(() => this.publishCommitted(batch.batchId, written))
      .finally(() => {
        this.queuedPublishes -= 1;
      });
  }

  /** Resolves once every batch committed so far is published (or handed to the relay). */
  async flushPublishes(): Promise<void> {
    while (this.queuedPublishes > 0) await this.publishing;
  }

  private async publishCommitted(batchId: string, written: BatchRowEvent[]): Promise<void> {
    let t = performance.now();
    try {
      const entries = written.map(entryOf);
      for (let i = 0; i < entries.length; i += SEND_CHUNK) {
        await this.publisher.send(
          entries.slice(i, i + SEND_CHUNK).map((e) => ({ topic: e.topic, key: e.key, value: e.value, headers: envelopeHeaders(e.type) })),
        );
      }
      t = this.tick('writerPublish', t);
    } catch (error) {
      this.log.warn({ err: error, batchId }, 'publishing a committed import batch failed; the relay takes it over');
      await this.handOver(batchId, written).catch((e: unknown) =>
        // Still stored as a prepared batch: the sweeper commits it once its lease is over.
        this.log.error({ err: e, batchId }, 'handing an import batch to the relay failed; the sweeper will commit it'),
      );
      return;
    }
    // Published: the batch document has done its job. Should this delete fail or the process die
    // first, the sweeper republishes the batch later (consumers dedupe by eventId).
    await this.batches.deleteOne({ _id: batchId }).catch((e: unknown) => this.log.warn({ err: e, batchId }, 'deleting a published import batch failed; the sweeper will republish it'));
    this.tick('writerDelete', t);
  }

  /**
   * The relay's way: the stored rows' events as a batch of their own with its commit (the original
   * batch may already have been swept by then, so it is not reused), then the original deleted.
   */
  private async handOver(batchId: string, written: BatchRowEvent[]): Promise<void> {
    if (written.length > 0) {
      const again = await this.prepare(null, written);
      await this.commits.insertOne({ _id: again.batchId, excluded: [], at: new Date(), by: 'writer' });
    }
    await this.batches.deleteOne({ _id: batchId });
    this.nudge();
  }

  // ── relay side ────────────────────────────────────────────────────────────────────────

  /** Batches not yet published and deleted (prepared, committed, or published and not yet deleted). */
  async pending(): Promise<number> {
    const [batches, commits] = await Promise.all([this.batches.countDocuments({}), this.commits.countDocuments({})]);
    return batches + commits;
  }

  /** One pass: sweep stale prepared batches (at most every 30 s unless forced), publish what is committed. */
  async drainOnce(forceSweep = false): Promise<number> {
    const tLease = performance.now();
    const leased = await this.holdLease();
    this.tick('lease', tLease);
    if (!leased) return 0;
    if (forceSweep || Date.now() - this.lastSweep > SWEEP_EVERY_MS) {
      this.lastSweep = Date.now();
      await this.sweep(new Date());
    }
    if (!this.adopted) {
      // Documents left pending by a version without the marker: adopted by one scan, once per database
      // (remembered in registry_migrations), not on every start.
      const migrations = this.connection.collection<{ _id: string; at: Date }>('registry_migrations');
      if (!(await migrations.findOne({ _id: 'elders.outboxMark' }))) {
        await this.elders.updateMany({ outboxPending: true, outboxMark: { $exists: false } } as never, { $set: { outboxMark: OUTBOX_MARK } } as never);
        await migrations.insertOne({ _id: 'elders.outboxMark', at: new Date() }).catch((error: unknown) => {
          if (!isDuplicateKeyError(error)) throw error;
        });
      }
      this.adopted = true;
    }
    let published = 0;
    const t0 = performance.now();
    const commits = await this.commits.find({}).sort({ _id: 1 }).limit(20).toArray();
    this.tick('findCommits', t0);
    for (const commit of commits) {
      let t = performance.now();
      const batch = await this.batches.findOne({ _id: commit._id });
      t = this.tick('readBatch', t);
      if (batch) {
        const excluded = new Set(commit.excluded);
        const entries = inflate(batch).filter((e) => !excluded.has(e.eventId));
        t = this.tick('decode', t);
        for (let i = 0; i < entries.length; i += SEND_CHUNK) {
          await this.publisher.send(
            entries.slice(i, i + SEND_CHUNK).map((e) => ({ topic: e.topic, key: e.key, value: e.value, headers: envelopeHeaders(e.type) })),
          );
        }
        t = this.tick('publish', t);
        published += entries.length;
        await this.batches.deleteOne({ _id: commit._id });
        t = this.tick('deleteBatch', t);
      }
      // The batch goes first: a commit without its batch is a finished one, removed on the next pass.
      await this.commits.deleteOne({ _id: commit._id });
      this.tick('deleteCommit', t);
    }
    const t1 = performance.now();
    const documents = await this.relayDocuments();
    this.tick('documents', t1);
    return published + documents;
  }

  private tick(step: string, since: number): number {
    const now = performance.now();
    this.timings[step] = (this.timings[step] ?? 0) + (now - since);
    return now;
  }

  /** Elders' own outboxes, as OutboxRelay does it, found by the indexed string marker. */
  private async relayDocuments(): Promise<number> {
    const docs = await this.elders.find({ outboxMark: OUTBOX_MARK } as never, { projection: { outbox: 1 } }).limit(DOCUMENTS_PER_PASS).toArray();
    if (docs.length === 0) return 0;
    const entries = docs.flatMap((d) => d.outbox ?? []).sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    if (entries.length > 0) {
      await this.publisher.send(entries.map((e) => ({ topic: e.topic, key: e.key, value: e.value, headers: envelopeHeaders(e.type) })));
    }
    // $pullAll exactly what was published (entries appended meanwhile stay), then lower both flags only
    // if the outbox is empty at that instant — a write racing this pass raises them again.
    await this.elders.bulkWrite(
      docs.flatMap((doc) => {
        const sent = doc.outbox ?? [];
        return [
          ...(sent.length > 0 ? [{ updateOne: { filter: { _id: doc._id }, update: { $pullAll: { outbox: sent } } as never } }] : []),
          { updateOne: { filter: { _id: doc._id, outbox: { $size: 0 } } as never, update: { $set: { outboxPending: false }, $unset: { outboxMark: '' } } as never } },
        ];
      }),
      { ordered: true },
    );
    return entries.length;
  }

  /**
   * Commits prepared batches whose writer is gone (lease over): an event is kept exactly when its
   * elder exists under the id this batch made for it, i.e. this batch stored it.
   */
  async sweep(now: Date): Promise<number> {
    const stale = await this.batches.find({ leaseUntil: { $lt: now } }, { projection: { events: 0 } }).limit(20).toArray();
    let swept = 0;
    for (const batch of stale) {
      if (await this.commits.findOne({ _id: batch._id }, { projection: { _id: 1 } })) continue;
      const stored = new Set<string>();
      const elderIds = idList(batch.elderIds);
      const eventIds = idList(batch.eventIds);
      for (let i = 0; i < elderIds.length; i += 500) {
        const found = await this.connection
          .collection('elders')
          .find({ _id: { $in: elderIds.slice(i, i + 500) } } as never, { projection: { _id: 1 } })
          .toArray();
        for (const f of found) stored.add(String(f._id));
      }
      const excluded = elderIds.flatMap((id, i) => (stored.has(id) ? [] : [eventIds[i]]));
      try {
        await this.commits.insertOne({ _id: batch._id, excluded, at: new Date(), by: 'sweeper' });
        swept += 1;
        this.log.warn({ batchId: batch._id, kept: stored.size, excluded: excluded.length }, 'committed an abandoned import batch');
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error; // its writer committed meanwhile
      }
    }
    return swept;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let published = 0;
      try {
        published = await this.drainOnce();
      } catch (error) {
        this.log.error({ err: error }, 'import event relay pass failed; will retry');
      }
      if (published === 0 && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, IDLE_POLL_MS * 5);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private async holdLease(): Promise<boolean> {
    const now = new Date();
    // Renewing is a write, and writes queue at the one database writer: while well inside the lease,
    // this replica keeps it without asking (renewal at a third of its length; the lease is 15 s).
    if (now.getTime() < this.leaseRenewAt) return true;
    try {
      const result = await this.leases.findOneAndUpdate(
        { _id: LEASE_NAME, $or: [{ owner: this.owner }, { expiresAt: { $lt: now } }] },
        { $set: { owner: this.owner, expiresAt: new Date(now.getTime() + RELAY_LEASE_MS) } },
        { upsert: true, returnDocument: 'after' },
      );
      const mine = result?.owner === this.owner;
      this.leaseRenewAt = mine ? now.getTime() + RELAY_LEASE_MS / 3 : 0;
      return mine;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }
}

const ID_SEPARATOR = ',';

function idList(ids: string[] | string): string[] {
  if (Array.isArray(ids)) return ids;
  return ids.length === 0 ? [] : ids.split(ID_SEPARATOR);
}

function inflate(batch: BatchDoc): OutboxEntry[] {
  const text = inflateRawSync(Buffer.from(batch.events.buffer)).toString('utf8');
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (batch.format !== 2) return lines.map((line) => JSON.parse(line) as OutboxEntry);
  const eventIds = idList(batch.eventIds);
  const keys = idList(batch.keys ?? batch.elderIds);
  return lines.map((value, i) => ({ eventId: eventIds[i], topic: batch.topic ?? '', key: keys[i], type: batch.type ?? '', value }));
}
