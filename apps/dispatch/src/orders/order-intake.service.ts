import { performance } from 'node:perf_hooks';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { OrderRequestRejected, PlaceOrderRequested, type Envelope, type PayloadOf } from '@yiyang/contracts';
import { EventPublisher, Events, HandleEventBatch, envelopeHeaders, isDuplicateKeyError, toOutboxEntry, type EventBatch, type OutboxEntry } from '@yiyang/messaging';
import { AppError, ensureIndexes, parseInput, type Principal } from '@yiyang/service-kit';
import { Binary } from 'mongodb';
import type { Collection, Connection } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { ReadModels, type ElderRecord } from '../read-models/read-models.service';
import { Scheduler, type Deadline } from '../scheduler/scheduler.service';
import { notFound } from '../shared/scope';
import { GroupCommit } from './domain/group-commit';
import type { OrderDoc } from './order.types';
import { OrdersService, PlaceOrderInput, SYSTEM, orderIdFor, sourceOf } from './orders.service';

type Request = { payload: PayloadOf<typeof PlaceOrderRequested>; envelope: Envelope };

/**
 * An intake round not yet published (its marker): the first events of its orders, written before
 * the orders themselves; the orders the round's insert stored carry its `_id` in `intake.batchId`.
 */
export interface IntakeBatch {
  _id: string;
  state: 'PENDING';
  orderIds: string[];
  /**
   * The round's first events (`OutboxEntry` JSON lines, raw-deflated), keyed by order id. Absent on
   * markers written before the events moved here (their orders carry `intake.events` instead).
   */
  events?: Binary;
  createdAt: Date;
}

/** The first events of a round as stored in its marker: one JSON line per event, deflated (fast level). */
export function packEvents(entries: readonly OutboxEntry[]): Binary {
  return new Binary(deflateRawSync(entries.map((e) => JSON.stringify(e)).join('\n'), { level: 1 }));
}

/** A marker's events by order id (in their order), or null for a marker without events. */
export function unpackEvents(batch: Pick<IntakeBatch, 'events'>): Map<string, OutboxEntry[]> | null {
  if (!batch.events) return null;
  const text = inflateRawSync(Buffer.from(batch.events.buffer)).toString('utf8');
  const byOrder = new Map<string, OutboxEntry[]>();
  if (text.length === 0) return byOrder;
  for (const line of text.split('\n')) {
    const e = JSON.parse(line) as OutboxEntry;
    const list = byOrder.get(e.key);
    if (list) list.push(e);
    else byOrder.set(e.key, [e]);
  }
  return byOrder;
}

export interface IntakeOutcome {
  placed: number;
  existing: number;
  rejected: number;
  /** Requests for elders this region-scoped deployment does not serve: left to the one that does. */
  elsewhere: number;
}

/** How long a batch may stay pending before the sweep publishes it (its replica died mid-batch). */
const SWEEP_AFTER_MS = 30_000;
const CHUNK = 500;

/**
 * The order intake: `PlaceOrderRequested` commands from the order-requests topic, placed in bulk
 * (docs/adr/0007-dispatch.md, "Order intake in bulk").
 *
 * Every partition's batch goes into one group commit, so concurrent partitions share one round of
 * writes. Per round: which orders exist already (one `_id $in` lookup), the elders (one `_id $in`),
 * match and build every order in memory, then ONE marker document for the round holding every
 * order's first events (deflated JSON lines — the registry's roster-import pattern, ADR 0006), ONE
 * offer-timeout deadline for the round, ONE `insertMany` of the orders — lean documents that name
 * their round (`intake.batchId`) but carry no events — ONE producer send of the events of exactly
 * the orders stored, and the marker deleted. The Kafka offsets are committed only after that.
 * Guarantees:
 * - idempotency: the order id comes from (requester, requestId), as for `POST /orders`; duplicates in
 *   a round, across rounds, across replicas and across paths meet the unique `_id`.
 * - no lost order: a crash before the insert leaves the commands uncommitted (redelivered).
 * - no lost event: the events are stored (marker) before the orders. A crash after the insert and
 *   before the send leaves the marker; a redelivered request that finds its order stored by a round
 *   whose marker remains re-sends that order's events at once, and the sweep (`intake-sweep`, every
 *   30 s) publishes a marker older than 30 s. A later state change of such an order carries its
 *   events from the marker into the regular outbox first (`OrdersService.save`), so per-order event
 *   order holds.
 * - no event for an order never stored: the live round sends only the events of orders its insert
 *   stored; the sweep and the re-send only those of orders stored under the marker's own batch id
 *   (an order another replica or `POST /orders` stored first has another batch id or none).
 */
@Injectable()
export class OrderIntake implements OnModuleInit {
  private readonly log = new Logger(OrderIntake.name);
  readonly batches: Collection<IntakeBatch>;
  /** Two rounds in flight: one builds while the other writes. */
  private readonly commit = new GroupCommit<Request, void>((all) => this.placeAll(all).then(() => all.map(() => undefined)), 5_000, 2);
  /** Counters for the benchmark and health: what the intake did since boot. */
  readonly totals: IntakeOutcome & { rounds: number } = { placed: 0, existing: 0, rejected: 0, elsewhere: 0, rounds: 0 };
  /** Where a round's time goes, summed over the rounds since boot (ms): lookups, in-memory build, writes, send. */
  readonly timings = { lookupMs: 0, buildMs: 0, markerAndDeadlineMs: 0, insertMs: 0, sendMs: 0, markerDeleteMs: 0, largestRound: 0 };

  constructor(
    @InjectConnection() connection: Connection,
    private readonly orders: OrdersService,
    private readonly rm: ReadModels,
    private readonly scheduler: Scheduler,
    private readonly events: Events,
    private readonly publisher: EventPublisher,
  ) {
    this.batches = connection.collection<IntakeBatch>('intake_batches') as never;
    this.orders.intakeEvents = async (orderId, intake) => {
      const marker = await this.batches.findOne({ _id: intake.batchId });
      if (!marker) return null; // published
      return intake.events ?? unpackEvents(marker)?.get(orderId) ?? [];
    };
  }

  async onModuleInit(): Promise<void> {
    await ensureIndexes(this.batches as never, ['state']);
    this.scheduler.on('offer-batch', (d) => this.onOfferBatchDeadline(d));
    this.scheduler.on('intake-sweep', async () => {
      await this.sweep();
      return new Date(Date.now() + SWEEP_AFTER_MS);
    });
    await this.scheduler.ensure('intake:sweep', 'intake-sweep', 'all', new Date(Date.now() + SWEEP_AFTER_MS));
  }

  @HandleEventBatch(PlaceOrderRequested, {
    group: 'order-intake',
    maxBatchSize: 2_000,
    // Every partition at once (their batches meet in one group commit); answer a fetch within 20 ms.
    consumer: { partitionsConsumedConcurrently: 12, maxWaitTimeInMs: 20 },
  })
  async onRequests(batch: EventBatch<PayloadOf<typeof PlaceOrderRequested>>): Promise<void> {
    if (batch.events.length === 0) return;
    await this.commit.submit(batch.events.map((e) => ({ payload: e.payload, envelope: e.envelope })));
  }

  /** Places a round of requests (exposed for the tests and the benchmark). */
  async placeAll(requests: readonly Request[]): Promise<IntakeOutcome> {
    const now = new Date();
    const outcome: IntakeOutcome = { placed: 0, existing: 0, rejected: 0, elsewhere: 0 };
    const t = this.timings;
    let mark = performance.now();
    const lap = (field: 'lookupMs' | 'buildMs' | 'markerAndDeadlineMs' | 'insertMs' | 'sendMs' | 'markerDeleteMs') => {
      const at = performance.now();
      t[field] += at - mark;
      mark = at;
    };
    t.largestRound = Math.max(t.largestRound, requests.length);
    const keyed = new Map<string, Request>();
    for (const r of requests) {
      const id = orderIdFor(r.payload.requestedBy.userId, r.payload.requestId);
      if (keyed.has(id)) outcome.existing++;
      else keyed.set(id, r);
    }
    // Both reads at once (reads are not serialised by the database, writes are).
    const [existing, elders] = await Promise.all([this.existing([...keyed.keys()]), this.elders([...keyed.values()].map((r) => r.payload.elderId))]);
    const fresh = [...keyed].filter(([id]) => !existing.has(id));
    outcome.existing += keyed.size - fresh.length;
    // A redelivered request whose order is stored but whose round never published (the send or the
    // replica failed): publish its first events now rather than at the sweep (a duplicate is harmless).
    const resend = await this.unpublished(existing);
    lap('lookupMs');

    const built: { order: OrderDoc; events: OutboxEntry[] }[] = [];
    const rejections: OutboxEntry[] = [];
    for (const [orderId, r] of fresh) {
      const p = r.payload;
      const principal = { ...p.requestedBy } as Principal;
      const meta = { correlationId: r.envelope.correlationId, causationId: r.envelope.eventId };
      const elder = elders.get(p.elderId);
      // Every deployment consumes the whole command topic. A region-scoped one (DISPATCH_REGION_SCOPE)
      // keeps no record of other regions' elders, so "unknown" may mean "served elsewhere": refusing
      // would put a false rejection under an order another deployment places. It stays silent.
      if (!elder && this.rm.scoped) {
        outcome.elsewhere++;
        continue;
      }
      try {
        if (!elder || !this.orders.mayOrderFor(principal, elder)) throw notFound('DISPATCH.ELDER_NOT_FOUND', 'Elder', '老年人');
        const input = parseInput(PlaceOrderInput, {
          elderId: p.elderId,
          itemCode: p.itemCode,
          window: p.window ? { asap: false, ...p.window } : { asap: true },
          quantity: p.quantity,
          notes: p.notes,
          priority: p.priority,
        });
        const { order, events } = this.orders.build(elder, input, { source: sourceOf(principal.role), placedBy: { userId: principal.userId, role: principal.role }, orderId, ...meta }, now);
        // Counted at once, so the next order of this round sees this caregiver's new workload.
        this.orders.bump(order.caregiverId, 1);
        built.push({ order, events: events.map((e) => toOutboxEntry(e.definition, e.envelope)) });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        outcome.rejected++;
        const rejected = this.events.create(OrderRequestRejected, {
          key: orderId,
          ...meta,
          payload: {
            requestId: p.requestId,
            orderId,
            elderId: p.elderId,
            requestedBy: { userId: p.requestedBy.userId, role: p.requestedBy.role },
            code: error.code,
            message: error.message,
            messageZh: error.options.messageZh ?? error.message,
            field: error.options.field ?? null,
            at: now.toISOString(),
          },
        });
        rejections.push(toOutboxEntry(rejected.definition, rejected.envelope));
      }
    }

    lap('buildMs');
    let stored = built;
    if (built.length > 0) {
      const batchId = uuidv7();
      try {
        // Marker (with the events) and the offers' timeout first: a crash after them finds at worst
        // nothing to do. The offer deadline's order ids are one string: the scheduler's poll is a
        // range filter that decodes every deadline document (ADR 0001), and one string decodes fast.
        const events = packEvents(built.flatMap((b) => b.events));
        await this.batches.insertOne({ _id: batchId, state: 'PENDING', orderIds: built.map((b) => b.order._id), events, createdAt: now });
        const offered = built.filter((b) => b.order.offer);
        if (offered.length > 0) {
          const due = new Date(Math.max(...offered.map((b) => (b.order.offer as { expiresAt: Date }).expiresAt.getTime())));
          await this.scheduler.schedule(`offers:${batchId}`, 'offer-batch', batchId, due, { orderIds: offered.map((b) => b.order._id).join(' ') });
        }
        lap('markerAndDeadlineMs');
        stored = await this.insert(built, batchId);
        lap('insertMs');
      } catch (error) {
        for (const b of built) this.orders.bump(b.order.caregiverId, -1);
        throw error;
      }
      await this.publisher.send([...resend, ...stored.flatMap((b) => b.events), ...rejections].map(record));
      lap('sendMs');
      await this.batches.deleteOne({ _id: batchId });
      lap('markerDeleteMs');
    } else if (resend.length + rejections.length > 0) {
      await this.publisher.send([...resend, ...rejections].map(record));
    }
    outcome.placed += stored.length;
    outcome.existing += built.length - stored.length;
    this.totals.placed += outcome.placed;
    this.totals.existing += outcome.existing;
    this.totals.rejected += outcome.rejected;
    this.totals.elsewhere += outcome.elsewhere;
    this.totals.rounds++;
    return outcome;
  }

  /**
   * insertMany, unordered; an order that exists by now (another replica, the HTTP path) is not ours.
   * Lean documents: no events (they are in the marker), no empty outbox (the relay's `$push` creates
   * it on the first later write).
   */
  private async insert(built: { order: OrderDoc; events: OutboxEntry[] }[], batchId: string) {
    const docs = built.map((b) => {
      const { outbox: _o, outboxPending: _p, ...order } = b.order;
      return { ...order, intake: { batchId } } as OrderDoc;
    });
    const lost = new Set<number>();
    for (let i = 0; i < docs.length; i += 1_000) {
      try {
        await this.orders.orders.insertMany(docs.slice(i, i + 1_000), { ordered: false });
      } catch (error) {
        const writeErrors = (error as { writeErrors?: { index: number; code?: number; err?: { code?: number } }[] }).writeErrors;
        if (!writeErrors || !isDuplicateKeyError(error)) throw error;
        for (const w of writeErrors) {
          if ((w.code ?? w.err?.code) !== 11000) throw error;
          lost.add(i + w.index);
        }
      }
    }
    for (const i of lost) this.orders.bump(built[i].order.caregiverId, -1);
    return built.filter((_, i) => !lost.has(i));
  }

  private async existing(ids: string[]): Promise<Map<string, OrderDoc['intake']>> {
    const out = new Map<string, OrderDoc['intake']>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      for (const d of await this.orders.orders.find({ _id: { $in: ids.slice(i, i + CHUNK) } }, { projection: { intake: 1 } }).toArray()) out.set(d._id, d.intake ?? null);
    }
    return out;
  }

  /** First events of stored orders whose intake round is still pending (its marker exists). */
  private async unpublished(existing: Map<string, OrderDoc['intake']>): Promise<OutboxEntry[]> {
    const withIntake = [...existing].filter((x): x is [string, NonNullable<OrderDoc['intake']>] => !!x[1]);
    if (withIntake.length === 0) return [];
    const batchIds = [...new Set(withIntake.map(([, x]) => x.batchId))];
    const pending = new Map<string, Map<string, OutboxEntry[]> | null>();
    for (let i = 0; i < batchIds.length; i += CHUNK) {
      for (const b of await this.batches.find({ _id: { $in: batchIds.slice(i, i + CHUNK) } }).toArray()) pending.set(b._id, unpackEvents(b));
    }
    return withIntake.filter(([, x]) => pending.has(x.batchId)).flatMap(([orderId, x]) => x.events ?? pending.get(x.batchId)?.get(orderId) ?? []);
  }

  private async elders(ids: string[]): Promise<Map<string, ElderRecord>> {
    const unique = [...new Set(ids)];
    const out = new Map<string, ElderRecord>();
    for (let i = 0; i < unique.length; i += CHUNK) {
      for (const e of await this.rm.elders.find({ _id: { $in: unique.slice(i, i + CHUNK) } }).toArray()) out.set(e._id, e);
    }
    return out;
  }

  /** The first offers of a round lapsed: every order of it still on its first offer goes to the next candidate. */
  private async onOfferBatchDeadline(d: Deadline): Promise<void> {
    const raw = d.data?.['orderIds'] as string | string[] | undefined;
    const ids = typeof raw === 'string' ? raw.split(' ').filter(Boolean) : (raw ?? []);
    for (let i = 0; i < ids.length; i += CHUNK) {
      const open = await this.orders.orders.find({ _id: { $in: ids.slice(i, i + CHUNK) }, state: 'ASSIGNED', attempt: 1 }, { projection: { outbox: 0 } }).toArray();
      for (const o of open) {
        try {
          await this.orders.reoffer(o, SYSTEM, 'offer timed out', { correlationId: o._id, causationId: null });
        } catch (error) {
          if (error instanceof AppError && error.code === 'DISPATCH.CONCURRENT_UPDATE') continue; // someone acted meanwhile
          throw error;
        }
      }
    }
  }

  /** Publishes the first events of rounds whose replica stopped between the insert and the send. */
  async sweep(olderThanMs = SWEEP_AFTER_MS): Promise<number> {
    const stale = (await this.batches.find({ state: 'PENDING' }).limit(100).toArray()).filter((b) => b.createdAt.getTime() < Date.now() - olderThanMs);
    let published = 0;
    for (const b of stale) {
      const records: OutboxEntry[] = [];
      const events = unpackEvents(b);
      for (let i = 0; i < b.orderIds.length; i += CHUNK) {
        const docs = await this.orders.orders.find({ _id: { $in: b.orderIds.slice(i, i + CHUNK) } }, { projection: { intake: 1 } }).toArray();
        // Only orders this round's insert stored (their intake names this batch) and not yet carried
        // into the regular outbox by a later write (which sets intake to null).
        for (const o of docs) if (o.intake?.batchId === b._id) records.push(...(o.intake.events ?? events?.get(o._id) ?? []));
      }
      await this.publisher.send(records.map(record));
      await this.batches.deleteOne({ _id: b._id });
      published += records.length;
      this.log.warn({ batchId: b._id, events: records.length }, 'published the first events of an interrupted intake round');
    }
    return published;
  }
}

const record = (e: OutboxEntry) => ({ topic: e.topic, key: e.key, value: e.value, headers: envelopeHeaders(e.type) });
