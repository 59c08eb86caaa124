import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import {
  OrderAssigned,
  OrderCancelled,
  OrderCompleted,
  OrderEscalated,
  OrderPlaced,
  OrderRated,
  OrderStateChanged,
  ServiceCategorySchema,
  ServiceUnitSchema,
  type OrderState,
} from '@yiyang/contracts';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox, type OutboxEntry, type PendingEvent } from '@yiyang/messaging';
import { AppError, dropIndexes, ensureIndexes, isFerretDb, parseInput, type Principal } from '@yiyang/service-kit';
import type { Collection, Connection } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { selectCandidates, type Candidate } from '../matching/domain/match';
import { ReadModels, type ElderRecord } from '../read-models/read-models.service';
import { Scheduler, type Deadline } from '../scheduler/scheduler.service';
import { Actor, actsForElder, concurrentUpdate, forbidden, inRegion, isRegionRole, notFound } from '../shared/scope';
import { PageQuery, type Page } from '../shared/inputs';
import { chinaDate } from '../shared/time';
import { assertTransition, OPEN_STATES } from './domain/order-state';
import { snapshotOf, viewOf, type OrderDoc } from './order.types';

const Instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

export const PlaceOrderInput = z
  .object({
    elderId: z.string().min(1),
    itemCode: z.string().regex(/^[A-Z][A-Z0-9_]{1,39}$/, 'must be a catalogue item code'),
    /** Omit (or asap: true) for "as soon as possible"; otherwise a window. */
    window: z
      .union([z.object({ asap: z.literal(true) }), z.object({ asap: z.literal(false).default(false), from: Instant, to: Instant })])
      .default({ asap: true }),
    quantity: z.number().positive().max(100).optional(),
    notes: z.string().trim().max(500).default(''),
    priority: z.enum(['NORMAL', 'URGENT']).default('NORMAL'),
  })
  .superRefine((v, ctx) => {
    if (!v.window.asap) {
      const w = v.window as { from: Date; to: Date };
      if (w.to <= w.from) ctx.addIssue({ code: 'custom', path: ['window', 'to'], message: 'must be later than window.from' });
      if (w.to.getTime() < Date.now()) ctx.addIssue({ code: 'custom', path: ['window', 'to'], message: 'must be in the future' });
      if (w.from.getTime() > Date.now() + 90 * 86_400_000) ctx.addIssue({ code: 'custom', path: ['window', 'from'], message: 'must be within 90 days' });
    }
  });
export type PlaceOrderInput = z.infer<typeof PlaceOrderInput>;

const ListQuery = PageQuery.extend({
  state: z.string().optional(),
  elderId: z.string().optional(),
  escalated: z.enum(['true', 'false']).optional(),
});
const ReasonBody = z.object({ reason: z.string().trim().min(2).max(500) });
const AssignBody = z.object({ caregiverId: z.string().min(1), reason: z.string().trim().max(500).optional() });
const RateBody = z.object({ stars: z.number().int().min(1).max(5), comment: z.string().trim().max(1000).default('') });

/** The order id of an idempotency key: the same for `POST /orders` and the order-requests topic. */
export function orderIdFor(userId: string, key: string): string {
  return `o-${createHash('sha256').update(`${userId}\n${key}`).digest('hex').slice(0, 24)}`;
}

export function sourceOf(role: string): OrderDoc['source'] {
  return role === 'elder' ? 'ELDER' : role === 'guardian' ? 'GUARDIAN' : role === 'provider_operator' ? 'OPERATOR' : 'BUREAU';
}

/** A system actor (scheduler, plan generator, round follow-up). */
export const SYSTEM = { userId: 'system:dispatch', role: 'system' } as const;
const MAX_OFFERS = 5;

export interface PlaceContext {
  source: OrderDoc['source'];
  placedBy: { userId: string; role: string };
  planId?: string | null;
  roundId?: string | null;
  /** Deterministic id (idempotency key, plan occurrence). */
  orderId?: string;
  correlationId: string;
  causationId?: string | null;
}

@Injectable()
export class OrdersService implements OnModuleInit {
  readonly orders: Collection<OrderDoc>;
  /** Open orders per caregiver (workload fairness); rebuilt at boot, kept by this replica's writes. */
  private readonly workload = new Map<string, number>();

  constructor(
    @InjectConnection() private readonly connection: Connection,
    @Inject(ConfigService) private readonly config: ConfigService,
    private readonly rm: ReadModels,
    private readonly scheduler: Scheduler,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {
    this.orders = connection.collection<OrderDoc>('orders') as never;
  }

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.orders as never);
    await ensureIndexes(this.orders as never, ['elderId', 'caregiverId', 'state']);
    // regionPath and contractedProviders are arrays. MongoDB answers `{regionPath: code}` from a
    // multikey index; FerretDB's SQLite expression index cannot narrow an equality on an array field
    // (ADR 0001), so there the two indexes would only make every insert slower (each expression index
    // re-parses the stored document) — the bulk intake's main cost (ADR 0007, "Order intake in bulk").
    if (await isFerretDb(this.connection)) await dropIndexes(this.orders as never, ['regionPath', 'contractedProviders']);
    else await ensureIndexes(this.orders as never, ['regionPath', 'contractedProviders']);
    for await (const o of this.orders.find({ state: { $in: [...OPEN_STATES] } }, { projection: { caregiverId: 1 } })) {
      if (o.caregiverId) this.bump(o.caregiverId, 1);
    }
    this.scheduler.on('offer', (d) => this.onOfferDeadline(d));
  }

  bump(caregiverId: string | null, delta: number): void {
    if (!caregiverId) return;
    this.workload.set(caregiverId, Math.max(0, (this.workload.get(caregiverId) ?? 0) + delta));
  }
  openOrders(caregiverId: string): number {
    return this.workload.get(caregiverId) ?? 0;
  }

  private offerSeconds(): number {
    return Number(this.config.get('DISPATCH_OFFER_TIMEOUT_SECONDS') ?? 120);
  }

  // ───────────── placing ─────────────

  async place(principal: Principal, body: unknown, idempotencyKey: string | undefined, correlationId: string) {
    const input = parseInput(PlaceOrderInput, body);
    const elder = await this.rm.elder(input.elderId);
    if (!elder || !this.mayOrderFor(principal, elder)) throw notFound('DISPATCH.ELDER_NOT_FOUND', 'Elder', '老年人');
    const source = sourceOf(principal.role);
    if (idempotencyKey !== undefined && !/^[\w.:-]{8,100}$/.test(idempotencyKey)) {
      throw new AppError('VALIDATION.INVALID_INPUT', 400, 'Idempotency-Key must be 8–100 letters, digits, . _ : -', { field: 'Idempotency-Key', messageZh: '幂等键须为 8–100 位字母、数字或 . _ : -' });
    }
    const orderId = idempotencyKey ? orderIdFor(principal.userId, idempotencyKey) : undefined;
    const { order, created } = await this.placeFor(elder, input, { source, placedBy: Actor(principal), orderId, correlationId });
    return { created, order: viewOf(order) };
  }

  mayOrderFor(principal: Principal, elder: ElderRecord): boolean {
    if (principal.role === 'elder' || principal.role === 'guardian') return actsForElder(principal, elder._id);
    if (principal.role === 'civil_affairs_admin') return inRegion(principal, elder.regionPath);
    if (principal.role === 'provider_operator') return this.rm.contractedProviders(elder.regionPath, chinaDate(new Date())).includes(principal.providerId as string);
    return false;
  }

  /** Places an order for an elder already authorised; idempotent when `ctx.orderId` is given. */
  async placeFor(elder: ElderRecord, input: PlaceOrderInput, ctx: PlaceContext): Promise<{ order: OrderDoc; created: boolean }> {
    if (ctx.orderId) {
      const existing = await this.orders.findOne({ _id: ctx.orderId });
      if (existing) return { order: existing, created: false };
    }
    const { order, events } = this.build(elder, input, ctx, new Date());
    if (order.offer) await this.scheduler.schedule(`offer:${order._id}`, 'offer', order._id, order.offer.expiresAt, { attempt: order.attempt });
    try {
      await this.orders.insertOne({ ...order, ...outboxFields(events) });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.orders.findOne({ _id: order._id });
      if (!existing) throw error;
      return { order: existing, created: false };
    }
    this.bump(order.caregiverId, 1);
    this.relay.nudge();
    return { order, created: true };
  }

  /**
   * A new order for `elder`, matched in memory and offered to the best candidate (or escalated), with
   * its first events (OrderPlaced + OrderAssigned/OrderEscalated). Pure in-memory work: no I/O, so a
   * batch of requests is built back to back and stored in one insertMany (order-intake.service.ts).
   * Throws the 422s of an order that cannot be placed (elder not active, item unknown).
   */
  build(elder: ElderRecord, input: PlaceOrderInput, ctx: PlaceContext, now: Date): { order: OrderDoc; events: PendingEvent[] } {
    if (elder.status !== 'ACTIVE') {
      throw new AppError('DISPATCH.ELDER_INACTIVE', 422, `Elder is ${elder.status}`, { field: 'elderId', messageZh: '该老年人不在册' });
    }
    const item = this.rm.catalogue.get(input.itemCode);
    if (!item || !item.active) {
      throw new AppError('DISPATCH.ITEM_UNKNOWN', 422, `Catalogue item ${input.itemCode} is unknown or inactive`, { field: 'itemCode', messageZh: `服务项目 ${input.itemCode} 不存在或已停用` });
    }
    const window = input.window.asap
      ? { asap: true, from: now, to: new Date(now.getTime() + 4 * 3_600_000) }
      : { asap: false, ...(input.window as { from: Date; to: Date }) };
    const unit = ServiceUnitSchema.parse(item.unit);
    const quantity = input.quantity ?? (unit === 'PER_HOUR' ? Math.max(0.25, item.defaultDurationMinutes / 60) : 1);
    const bookedMinutes = unit === 'PER_HOUR' ? Math.round(quantity * 60) : item.defaultDurationMinutes;
    const orderId = ctx.orderId ?? uuidv7();
    const serviceDate = chinaDate(window.from);
    const contracted = this.rm.contractedProviders(elder.regionPath, serviceDate);
    const order: OrderDoc = {
      _id: orderId,
      elderId: elder._id,
      regionCode: elder.regionCode,
      regionPath: elder.regionPath,
      itemCode: input.itemCode,
      category: ServiceCategorySchema.parse(item.category),
      unit,
      quantity,
      bookedMinutes,
      window,
      priority: input.priority,
      notes: input.notes,
      source: ctx.source,
      placedBy: ctx.placedBy,
      planId: ctx.planId ?? null,
      roundId: ctx.roundId ?? null,
      state: 'PLACED',
      providerId: null,
      caregiverId: null,
      visitId: null,
      placedAt: now,
      excluded: [],
      attempt: 0,
      offer: null,
      contractedProviders: contracted,
      escalation: null,
      history: [{ from: null, to: 'PLACED', at: now, by: ctx.placedBy.userId, reason: null }],
      rating: null,
      version: 1,
      outbox: [],
      outboxPending: false,
    };
    const meta = { correlationId: ctx.correlationId, causationId: ctx.causationId ?? null };
    const events: PendingEvent[] = [this.events.create(OrderPlaced, { key: orderId, ...meta, payload: { order: snapshotOf(order) } })];
    // The ranking itself is not stored: the offer's score, rank and distance travel in OrderAssigned.
    const candidates = this.match(order, elder, new Set());
    events.push(...this.decideOffer(order, candidates, ctx.placedBy, 'matched', now, meta));
    return { order, events };
  }

  match(order: OrderDoc, elder: ElderRecord, excluded: ReadonlySet<string>): Candidate[] {
    const startAt = order.window.asap ? new Date() : order.window.from;
    return selectCandidates(this.rm.caregivers, {
      elder: { home: elder.home, homeCell: elder.homeCell, preferredGender: elder.preferences?.caregiverGender ?? null, servedBy: elder.servedBy ?? [] },
      itemCode: order.itemCode,
      startAt,
      eligibleProviders: this.rm.eligibleProviders(order.regionPath, chinaDate(startAt), order.itemCode),
      excluded,
      radiusMeters: this.rm.matchRadius(),
      limit: 5,
      workload: (id) => this.openOrders(id),
    });
  }

  /**
   * Mutates `order` into its next offer (ASSIGNED to the best candidate) or escalation, and returns
   * the events for it. The caller stores order + events in one write.
   */
  private decideOffer(order: OrderDoc, candidates: Candidate[], by: { userId: string; role: string }, reason: string, now: Date, meta: { correlationId: string; causationId: string | null }): PendingEvent[] {
    const from = order.state;
    const best = order.attempt < MAX_OFFERS ? candidates[0] : undefined;
    if (!best) {
      const why = order.contractedProviders.length === 0 ? 'NO_CONTRACTED_PROVIDER' : order.attempt === 0 ? 'NO_CANDIDATE' : 'ALL_OFFERS_DECLINED';
      order.state = 'ESCALATED';
      order.offer = null;
      order.providerId = null;
      order.caregiverId = null;
      order.escalation = { reason: why, at: now };
      order.version += 1;
      order.history.push({ from, to: 'ESCALATED', at: now, by: by.userId, reason: why });
      return [
        this.events.create(OrderEscalated, {
          key: order._id,
          ...meta,
          payload: { order: snapshotOf(order), reason: why, providerIds: order.contractedProviders, attempts: order.attempt, at: now.toISOString() },
        }),
      ];
    }
    order.attempt += 1;
    order.state = 'ASSIGNED';
    order.providerId = best.providerId;
    order.caregiverId = best.caregiverId;
    order.escalation = null;
    order.offer = { offerId: `${order._id}:${order.attempt}`, caregiverId: best.caregiverId, providerId: best.providerId, expiresAt: new Date(now.getTime() + this.offerSeconds() * 1000) };
    order.version += 1;
    order.history.push({ from, to: 'ASSIGNED', at: now, by: by.userId, reason });
    return [
      this.events.create(OrderAssigned, {
        key: order._id,
        ...meta,
        payload: {
          order: snapshotOf(order),
          offerId: order.offer.offerId,
          caregiverId: best.caregiverId,
          providerId: best.providerId,
          score: best.score,
          rank: 1,
          distanceMeters: best.distanceMeters,
          offerExpiresAt: order.offer.expiresAt.toISOString(),
          attempt: order.attempt,
        },
      }),
    ];
  }

  // ───────────── reading ─────────────

  /** Who may see an order: the elder and their guardians, the assigned caregiver, operators of the assigned or contracted provider, the bureau of the region. */
  canSee(principal: Principal, o: Pick<OrderDoc, 'elderId' | 'regionPath' | 'providerId' | 'caregiverId' | 'contractedProviders' | 'offer'>): boolean {
    switch (principal.role) {
      case 'elder':
      case 'guardian':
        return actsForElder(principal, o.elderId);
      case 'caregiver':
        return !!principal.caregiverId && (o.caregiverId === principal.caregiverId || o.offer?.caregiverId === principal.caregiverId);
      case 'provider_operator':
        return !!principal.providerId && (o.providerId === principal.providerId || o.contractedProviders.includes(principal.providerId));
      default:
        return isRegionRole(principal) && inRegion(principal, o.regionPath);
    }
  }

  scopeFilter(principal: Principal): Record<string, unknown> {
    switch (principal.role) {
      case 'elder':
      case 'guardian':
        return { elderId: { $in: principal.elderIds ?? [] } };
      case 'caregiver':
        return { caregiverId: principal.caregiverId };
      case 'provider_operator':
        return { $or: [{ providerId: principal.providerId }, { contractedProviders: principal.providerId }] };
      default:
        if (isRegionRole(principal)) return { regionPath: principal.regionCode };
        throw forbidden();
    }
  }

  async load(principal: Principal, orderId: string): Promise<OrderDoc> {
    const o = await this.orders.findOne({ _id: orderId });
    if (!o || !this.canSee(principal, o)) throw notFound('DISPATCH.ORDER_NOT_FOUND', 'Order', '订单');
    return o;
  }

  async get(principal: Principal, orderId: string) {
    return viewOf(await this.load(principal, orderId));
  }

  async list(principal: Principal, query: unknown): Promise<Page<ReturnType<typeof viewOf>>> {
    const q = parseInput(ListQuery, query);
    const filter: Record<string, unknown> = { ...this.scopeFilter(principal) };
    if (q.state) filter['state'] = { $in: q.state.split(',') };
    if (q.escalated === 'true') filter['state'] = 'ESCALATED';
    if (q.elderId) filter['elderId'] = q.elderId;
    const [items, total] = await Promise.all([
      this.orders.find({ $and: [filter] }, { projection: { outbox: 0 } }).sort({ _id: -1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).toArray(),
      this.orders.countDocuments({ $and: [filter] }),
    ]);
    return { items: items.map(viewOf), page: q.page, pageSize: q.pageSize, total };
  }

  /** A caregiver's pending offers. */
  async myOffers(principal: Principal) {
    if (!principal.caregiverId) throw forbidden();
    const items = await this.orders.find({ state: 'ASSIGNED', caregiverId: principal.caregiverId }, { projection: { outbox: 0 } }).sort({ _id: 1 }).limit(100).toArray();
    return { items: items.map(viewOf) };
  }

  // ───────────── transitions ─────────────

  /**
   * Stores `order` (already mutated by the caller) guarded by the version it was read at, with its
   * events, in one atomic write.
   */
  async save(order: OrderDoc, readVersion: number, events: PendingEvent[]): Promise<void> {
    const { _id, outbox: _o, outboxPending: _p, ...rest } = order;
    const update = withOutbox({ $set: rest }, events) as { $set: Record<string, unknown>; $push?: { outbox: { $each: OutboxEntry[] } } };
    // An order placed through the intake (order-requests topic) keeps its first events in `intake`
    // until its batch is published. If that batch is still pending, this first later write carries
    // them into the regular outbox ahead of its own events, so the order's events keep their order on
    // the topic (at worst they are published twice; consumers dedupe by eventId).
    if (order.intake) {
      const first = await this.intakeEvents(order._id, order.intake);
      if (first) {
        const each = [...first, ...(update.$push?.outbox.$each ?? [])];
        update.$push = { outbox: { $each: each } };
        update.$set['outboxPending'] = true;
      }
      update.$set['intake'] = null;
    }
    const res = await this.orders.updateOne({ _id, version: readVersion }, update as never);
    if (res.matchedCount === 0) throw concurrentUpdate();
    this.relay.nudge();
  }

  /**
   * Set by the intake: the first events of an intake-placed order if its batch is still unpublished
   * (its marker exists), else null.
   */
  intakeEvents: (orderId: string, intake: NonNullable<OrderDoc['intake']>) => Promise<OutboxEntry[] | null> = async (_id, intake) => intake.events ?? null;

  /** Moves an order to `to`, recording and announcing it. */
  async transition(order: OrderDoc, to: OrderState, by: { userId: string; role: string }, reason: string | null, meta: { correlationId: string; causationId?: string | null }, extra: Partial<OrderDoc> = {}, more: (o: OrderDoc) => PendingEvent[] = () => []): Promise<OrderDoc> {
    const from = order.state;
    assertTransition(from, to);
    const now = new Date();
    const readVersion = order.version;
    const next: OrderDoc = { ...order, ...extra, state: to, version: order.version + 1, history: [...order.history, { from, to, at: now, by: by.userId, reason }] };
    const events = [
      this.events.create(OrderStateChanged, {
        key: order._id,
        correlationId: meta.correlationId,
        causationId: meta.causationId ?? null,
        payload: { order: snapshotOf(next), from, to, reason, by, at: now.toISOString() },
      }),
      ...more(next),
    ];
    await this.save(next, readVersion, events);
    if (OPEN_STATES.includes(from) && !OPEN_STATES.includes(to)) this.bump(order.caregiverId, -1);
    return next;
  }

  async accept(principal: Principal, orderId: string, correlationId: string) {
    const o = await this.load(principal, orderId);
    if (principal.role !== 'caregiver' || o.offer?.caregiverId !== principal.caregiverId) {
      if (o.state !== 'ASSIGNED') assertTransition(o.state, 'ACCEPTED');
      throw new AppError('DISPATCH.NOT_YOUR_OFFER', 403, 'This offer is not yours', { messageZh: '该派单不是派给您的' });
    }
    const next = await this.transition(o, 'ACCEPTED', Actor(principal), null, { correlationId }, { offer: null });
    await this.scheduler.cancel(`offer:${orderId}`);
    return viewOf(next);
  }

  async decline(principal: Principal, orderId: string, body: unknown, correlationId: string) {
    const { reason } = parseInput(ReasonBody, body);
    const o = await this.load(principal, orderId);
    if (o.state !== 'ASSIGNED') assertTransition(o.state, 'ASSIGNED');
    if (principal.role !== 'caregiver' || o.offer?.caregiverId !== principal.caregiverId) {
      throw new AppError('DISPATCH.NOT_YOUR_OFFER', 403, 'This offer is not yours', { messageZh: '该派单不是派给您的' });
    }
    return viewOf(await this.reoffer(o, Actor(principal), `declined: ${reason}`, { correlationId, causationId: null }));
  }

  /** The offer lapsed or was declined: offer the next candidate, or escalate. */
  async reoffer(o: OrderDoc, by: { userId: string; role: string }, reason: string, meta: { correlationId: string; causationId: string | null }): Promise<OrderDoc> {
    const readVersion = o.version;
    const previous = o.caregiverId;
    const next: OrderDoc = { ...o, excluded: previous ? [...o.excluded, previous] : o.excluded, history: [...o.history] };
    const elder = await this.rm.elder(o.elderId);
    const candidates = elder ? this.match(next, elder, new Set(next.excluded)) : [];
    const events = this.decideOffer(next, candidates, by, reason, new Date(), meta);
    if (next.offer) await this.scheduler.schedule(`offer:${o._id}`, 'offer', o._id, next.offer.expiresAt, { attempt: next.attempt });
    await this.save(next, readVersion, events);
    this.bump(previous, -1);
    this.bump(next.caregiverId, 1);
    return next;
  }

  private async onOfferDeadline(d: Deadline): Promise<void> {
    const o = await this.orders.findOne({ _id: d.refId });
    // Accepted, declined (a newer attempt), cancelled or gone: this deadline has nothing left to do.
    if (!o || o.state !== 'ASSIGNED' || o.attempt !== d.data?.['attempt']) return;
    try {
      await this.reoffer(o, SYSTEM, 'offer timed out', { correlationId: o._id, causationId: null });
    } catch (error) {
      if (error instanceof AppError && error.code === 'DISPATCH.CONCURRENT_UPDATE') return; // someone acted meanwhile
      throw error;
    }
  }

  /** Operator or bureau assigns (or reassigns) a caregiver by hand. */
  async assign(principal: Principal, orderId: string, body: unknown, correlationId: string) {
    const input = parseInput(AssignBody, body);
    const o = await this.load(principal, orderId);
    if (principal.role !== 'provider_operator' && principal.role !== 'civil_affairs_admin') throw forbidden();
    const worker = this.rm.caregivers.get(input.caregiverId);
    const eligible = this.rm.eligibleProviders(o.regionPath, chinaDate(o.window.asap ? new Date() : o.window.from), o.itemCode);
    if (!worker || !worker.active || (principal.role === 'provider_operator' && worker.providerId !== principal.providerId)) {
      throw new AppError('DISPATCH.CAREGIVER_NOT_FOUND', 422, 'No such active caregiver of your provider', { field: 'caregiverId', messageZh: '未找到本机构在岗的护理员' });
    }
    if (!eligible.has(worker.providerId) || !worker.skills.includes(o.itemCode)) {
      throw new AppError('DISPATCH.CAREGIVER_NOT_ELIGIBLE', 422, 'The caregiver lacks the skill or the provider is not contracted here', { field: 'caregiverId', messageZh: '该护理员不具备此项服务技能或其机构未签约此社区' });
    }
    assertTransition(o.state, 'ASSIGNED');
    const now = new Date();
    const readVersion = o.version;
    const previous = o.caregiverId;
    const next: OrderDoc = { ...o, history: [...o.history], attempt: o.attempt };
    // A manual assignment is not limited by the automatic offer cap.
    next.attempt = Math.min(next.attempt, MAX_OFFERS - 1);
    const candidate = { caregiverId: worker.caregiverId, providerId: worker.providerId, score: 0, distanceMeters: 0 };
    const events = this.decideOffer(next, [candidate], Actor(principal), input.reason ? `assigned by operator: ${input.reason}` : 'assigned by operator', now, { correlationId, causationId: null });
    await this.scheduler.schedule(`offer:${o._id}`, 'offer', o._id, (next.offer as { expiresAt: Date }).expiresAt, { attempt: next.attempt });
    await this.save(next, readVersion, events);
    if (OPEN_STATES.includes(o.state)) this.bump(previous, -1);
    this.bump(next.caregiverId, 1);
    return viewOf(next);
  }

  async enRoute(principal: Principal, orderId: string, correlationId: string) {
    const o = await this.load(principal, orderId);
    if (principal.role !== 'caregiver' || o.caregiverId !== principal.caregiverId) throw forbidden('Only the assigned caregiver may do this', '只有被指派的护理员可以操作');
    return viewOf(await this.transition(o, 'EN_ROUTE', Actor(principal), null, { correlationId }));
  }

  async cancel(principal: Principal, orderId: string, body: unknown, correlationId: string) {
    const { reason } = parseInput(ReasonBody, body);
    const o = await this.load(principal, orderId);
    if (principal.role === 'caregiver' || principal.role === 'auditor' || principal.role === 'assessor') throw forbidden();
    const from = o.state;
    const by = Actor(principal);
    const next = await this.transition(o, 'CANCELLED', by, reason, { correlationId }, { offer: null }, (n) => [
      this.events.create(OrderCancelled, { key: n._id, correlationId, payload: { order: snapshotOf(n), from, reason, by, at: new Date().toISOString() } }),
    ]);
    await this.scheduler.cancel(`offer:${orderId}`);
    return viewOf(next);
  }

  async rate(principal: Principal, orderId: string, body: unknown, correlationId: string) {
    const input = parseInput(RateBody, body);
    const o = await this.load(principal, orderId);
    if (principal.role !== 'elder' && principal.role !== 'guardian') throw forbidden('Only the elder or a guardian rates a service', '只有老年人或其监护人可以评价');
    const now = new Date();
    const by = Actor(principal);
    const next = await this.transition(o, 'RATED', by, null, { correlationId }, { rating: { stars: input.stars, comment: input.comment, at: now } }, (n) => [
      this.events.create(OrderRated, {
        key: n._id,
        correlationId,
        payload: {
          orderId: n._id,
          elderId: n.elderId,
          providerId: n.providerId as string,
          caregiverId: n.caregiverId as string,
          itemCode: n.itemCode,
          regionCode: n.regionCode,
          regionPath: n.regionPath,
          stars: input.stars,
          comment: input.comment,
          ratedBy: by,
          ratedAt: now.toISOString(),
        },
      }),
    ]);
    return viewOf(next);
  }

  /** Verified (or approved) visit: complete the order, remember who served the elder. */
  completionEvents(n: OrderDoc, visitId: string, correlationId: string): PendingEvent[] {
    return [this.events.create(OrderCompleted, { key: n._id, correlationId, payload: { order: snapshotOf(n), visitId, completedAt: new Date().toISOString() } })];
  }

  async rememberServed(elderId: string, caregiverId: string): Promise<void> {
    await this.rm.elders.updateOne({ _id: elderId }, { $addToSet: { servedBy: caregiverId } });
  }
}
