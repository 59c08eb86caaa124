import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import { OrderStateChanged, VisitApproved, VisitCheckedIn, VisitFlagged, VisitRejected, VisitVerified, type OrderState, type VisitFlag, type VisitRecord } from '@yiyang/contracts';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox, type OutboxEntry, type PendingEvent } from '@yiyang/messaging';
import { AppError, ensureIndexes, parseInput, type Principal } from '@yiyang/service-kit';
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import { assertTransition } from '../orders/domain/order-state';
import { snapshotOf, type OrderDoc } from '../orders/order.types';
import { OrdersService, SYSTEM } from '../orders/orders.service';
import { ReadModels } from '../read-models/read-models.service';
import { Scheduler, type Deadline } from '../scheduler/scheduler.service';
import { ChinaLatLng, PageQuery, Reason } from '../shared/inputs';
import { Actor, concurrentUpdate, forbidden, notFound } from '../shared/scope';
import { chinaDate } from '../shared/time';
import { billableQuantity, evaluateVisit, EVV_RULES, outsideGeofence, type OtherVisit } from './domain/evv';

interface VisitDoc extends Omit<VisitRecord, 'visitId' | 'startedAt' | 'endedAt' | 'checkIn' | 'checkOut'> {
  _id: string;
  startedAt: Date;
  endedAt: Date | null;
  checkIn: { at: Date; location: { lat: number; lng: number }; distanceMeters: number; accuracyMeters: number | null };
  checkOut: { at: Date; location: { lat: number; lng: number }; distanceMeters: number; accuracyMeters: number | null } | null;
  details: string[];
  review: { outcome: 'APPROVED' | 'REJECTED'; reason: string; by: string; at: Date } | null;
  outbox: OutboxEntry[];
  outboxPending: boolean;
}
interface RecentVisits {
  _id: string;
  recent: OtherVisit[];
  version: number;
}

/** Device time is accepted when within a day before the request (offline devices sync later), never from the future. */
const PunchInput = z.object({
  location: ChinaLatLng,
  accuracyMeters: z.number().nonnegative().max(10_000).optional(),
  at: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .refine((d) => d.getTime() <= Date.now() + 120_000, 'must not be in the future')
    .refine((d) => d.getTime() >= Date.now() - 86_400_000, 'must be within the last 24 hours')
    .optional(),
});
const CheckInInput = PunchInput.extend({ orderId: z.string().min(1) });
const ReviewInput = z.object({ reason: Reason, endedAt: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional() });
const ListQuery = PageQuery.extend({ state: z.enum(['IN_PROGRESS', 'VERIFIED', 'FLAGGED', 'APPROVED', 'REJECTED']).optional(), orderId: z.string().optional() });

const RECENT = 20;

/** EVV: check-in/out with the six elements, geofence and anomaly flags; operators approve or reject flagged visits. */
@Injectable()
export class VisitsService implements OnModuleInit {
  readonly visits: Collection<VisitDoc>;
  private readonly recent: Collection<RecentVisits>;

  constructor(
    @InjectConnection() connection: Connection,
    @Inject(ConfigService) private readonly config: ConfigService,
    private readonly orders: OrdersService,
    private readonly rm: ReadModels,
    private readonly scheduler: Scheduler,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {
    this.visits = connection.collection<VisitDoc>('visits') as never;
    this.recent = connection.collection<RecentVisits>('caregiver_recent_visits') as never;
  }

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.visits as never);
    await ensureIndexes(this.visits as never, ['caregiverId', 'providerId', 'state', 'regionPath', 'serviceDate']);
    this.scheduler.on('checkout', (d) => this.onMissingCheckOut(d));
  }

  private geofence(): number {
    return Number(this.config.get('DISPATCH_GEOFENCE_METERS') ?? 100);
  }

  private record(v: VisitDoc): VisitRecord {
    return {
      visitId: v._id,
      orderId: v.orderId,
      elderId: v.elderId,
      providerId: v.providerId,
      caregiverId: v.caregiverId,
      itemCode: v.itemCode,
      category: v.category,
      unit: v.unit,
      regionCode: v.regionCode,
      regionPath: v.regionPath,
      serviceDate: v.serviceDate,
      startedAt: v.startedAt.toISOString(),
      endedAt: v.endedAt?.toISOString() ?? null,
      quantity: v.quantity,
      bookedMinutes: v.bookedMinutes,
      actualMinutes: v.actualMinutes,
      home: v.home,
      geofenceMeters: v.geofenceMeters,
      checkIn: { ...v.checkIn, at: v.checkIn.at.toISOString() },
      checkOut: v.checkOut ? { ...v.checkOut, at: v.checkOut.at.toISOString() } : null,
      flags: v.flags,
      state: v.state,
      version: v.version,
    };
  }
  private view(v: VisitDoc) {
    return { ...this.record(v), details: v.details, review: v.review };
  }

  // ───────────── check-in ─────────────

  async checkIn(principal: Principal, body: unknown, correlationId: string) {
    const input = parseInput(CheckInInput, body);
    const order = await this.orders.orders.findOne({ _id: input.orderId });
    if (!order || principal.role !== 'caregiver' || order.caregiverId !== principal.caregiverId) throw notFound('DISPATCH.ORDER_NOT_FOUND', 'Order', '订单');
    const visitId = `v-${order._id}`;
    if (order.state === 'CHECKED_IN' && order.visitId === visitId) return this.view((await this.visits.findOne({ _id: visitId })) as VisitDoc);
    if (order.state !== 'ACCEPTED' && order.state !== 'EN_ROUTE') assertTransition(order.state, 'CHECKED_IN');
    const elder = await this.rm.elder(order.elderId);
    if (!elder) throw notFound('DISPATCH.ELDER_NOT_FOUND', 'Elder', '老年人');
    const at = input.at ?? new Date();
    const punch = { at, location: input.location, accuracyMeters: input.accuracyMeters ?? null };
    const geofenceMeters = this.geofence();
    const visit: VisitDoc = {
      _id: visitId,
      orderId: order._id,
      elderId: order.elderId,
      providerId: order.providerId as string,
      caregiverId: order.caregiverId as string,
      itemCode: order.itemCode,
      category: order.category,
      unit: order.unit,
      regionCode: order.regionCode,
      regionPath: order.regionPath,
      serviceDate: chinaDate(at),
      startedAt: at,
      endedAt: null,
      quantity: 0,
      bookedMinutes: order.bookedMinutes,
      actualMinutes: 0,
      home: elder.home,
      geofenceMeters,
      checkIn: { ...punch, distanceMeters: Math.round(outsideGeofence(elder.home, punch, geofenceMeters).distance) },
      checkOut: null,
      flags: [],
      details: [],
      state: 'IN_PROGRESS',
      review: null,
      version: 1,
      outbox: [],
      outboxPending: false,
    };
    const event = this.events.create(VisitCheckedIn, { key: visitId, correlationId, payload: { visit: this.record(visit) } });
    // Deadline first, so a crash after the insert can never leave a visit nobody watches.
    await this.scheduler.schedule(`checkout:${visitId}`, 'checkout', visitId, new Date(at.getTime() + (order.bookedMinutes + EVV_RULES.checkOutGraceMinutes) * 60_000));
    try {
      await this.visits.insertOne({ ...visit, ...outboxFields([event]) });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error; // a retried check-in: the visit is stored, finish the order step
    }
    await this.rememberVisit(visit.caregiverId, { visitId, startedAt: at, endedAt: null, bookedMinutes: visit.bookedMinutes, startLocation: input.location, endLocation: null });
    await this.orders.transition(order, 'CHECKED_IN', Actor(principal), null, { correlationId }, { visitId });
    this.relay.nudge();
    return this.view(visit);
  }

  private async rememberVisit(caregiverId: string, entry: OtherVisit): Promise<void> {
    for (let i = 0; i < 8; i++) {
      const doc = await this.recent.findOne({ _id: caregiverId });
      const list = (doc?.recent ?? []).filter((v) => v.visitId !== entry.visitId);
      list.push(entry);
      list.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
      const recent = list.slice(-RECENT);
      try {
        if (!doc) {
          await this.recent.insertOne({ _id: caregiverId, recent, version: 1 });
          return;
        }
        const res = await this.recent.updateOne({ _id: caregiverId, version: doc.version }, { $set: { recent, version: doc.version + 1 } });
        if (res.matchedCount === 1) return;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    throw concurrentUpdate();
  }

  // ───────────── check-out ─────────────

  async checkOut(principal: Principal, visitId: string, body: unknown, correlationId: string) {
    const input = parseInput(PunchInput, body);
    const visit = await this.visits.findOne({ _id: visitId });
    if (!visit || principal.role !== 'caregiver' || visit.caregiverId !== principal.caregiverId) throw notFound('DISPATCH.VISIT_NOT_FOUND', 'Visit', '服务记录');
    if (visit.state !== 'IN_PROGRESS') {
      throw new AppError('DISPATCH.VISIT_CLOSED', 409, `Visit is ${visit.state}`, { messageZh: `服务记录已是 ${visit.state} 状态`, details: { currentState: visit.state } });
    }
    const at = input.at ?? new Date();
    if (at <= visit.startedAt) {
      throw new AppError('VALIDATION.INVALID_INPUT', 400, 'at: must be later than the check-in', { field: 'at', messageZh: '签出时间须晚于签到时间' });
    }
    const punch = { at, location: input.location, accuracyMeters: input.accuracyMeters ?? null };
    const recent = await this.recent.findOne({ _id: visit.caregiverId });
    const { flags, details } = evaluateVisit({
      home: visit.home,
      geofenceMeters: visit.geofenceMeters,
      bookedMinutes: visit.bookedMinutes,
      checkIn: visit.checkIn,
      checkOut: punch,
      others: (recent?.recent ?? []).filter((o) => o.visitId !== visit._id),
    });
    const order = (await this.orders.orders.findOne({ _id: visit.orderId })) as OrderDoc;
    const actualMinutes = Math.round((at.getTime() - visit.startedAt.getTime()) / 60_000);
    const next: VisitDoc = {
      ...visit,
      endedAt: at,
      checkOut: { ...punch, distanceMeters: Math.round(outsideGeofence(visit.home, punch, visit.geofenceMeters).distance) },
      actualMinutes,
      quantity: billableQuantity(visit.unit, order.quantity, actualMinutes, visit.bookedMinutes),
      flags,
      details,
      state: flags.length ? 'FLAGGED' : 'VERIFIED',
      version: visit.version + 1,
    };
    const event = flags.length
      ? this.events.create(VisitFlagged, { key: visit._id, correlationId, payload: { visit: this.record(next), flags, details } })
      : this.events.create(VisitVerified, { key: visit._id, correlationId, payload: { visit: this.record(next) } });
    await this.saveVisit(next, visit.version, [event]);
    await this.scheduler.cancel(`checkout:${visit._id}`);
    await this.rememberVisit(visit.caregiverId, { visitId: visit._id, startedAt: visit.startedAt, endedAt: at, bookedMinutes: visit.bookedMinutes, startLocation: visit.checkIn.location, endLocation: input.location });
    const path: OrderState[] = flags.length ? ['CHECKED_OUT', 'FLAGGED'] : ['CHECKED_OUT', 'VERIFIED', 'COMPLETED'];
    await this.advanceOrder(order, path, Actor(principal), flags.length ? `flagged: ${flags.join(', ')}` : null, correlationId, visit._id);
    if (!flags.length) await this.orders.rememberServed(visit.elderId, visit.caregiverId);
    return this.view(next);
  }

  private async saveVisit(next: VisitDoc, readVersion: number, events: PendingEvent[]): Promise<void> {
    const { _id, outbox: _o, outboxPending: _p, ...rest } = next;
    const res = await this.visits.updateOne({ _id, version: readVersion }, withOutbox({ $set: rest }, events) as never);
    if (res.matchedCount === 0) throw concurrentUpdate();
    this.relay.nudge();
  }

  /** Several order steps in one write (each its own event), e.g. CHECKED_OUT → VERIFIED → COMPLETED. */
  private async advanceOrder(order: OrderDoc, path: OrderState[], by: { userId: string; role: string }, reason: string | null, correlationId: string, visitId: string): Promise<void> {
    const readVersion = order.version;
    let current: OrderDoc = { ...order, history: [...order.history] };
    const events: PendingEvent[] = [];
    for (const to of path) {
      const from = current.state;
      if (from === to) continue;
      assertTransition(from, to);
      const now = new Date();
      current = { ...current, state: to, version: current.version + 1, history: [...current.history, { from, to, at: now, by: by.userId, reason }] };
      events.push(this.events.create(OrderStateChanged, { key: order._id, correlationId, payload: { order: snapshotOf(current), from, to, reason, by, at: now.toISOString() } }));
      if (to === 'COMPLETED') events.push(...this.orders.completionEvents(current, visitId, correlationId));
    }
    await this.orders.save(current, readVersion, events);
    if (order.state === 'CHECKED_IN') this.orders.bump(order.caregiverId, -1);
  }

  private async onMissingCheckOut(d: Deadline): Promise<void> {
    const visit = await this.visits.findOne({ _id: d.refId });
    if (!visit || visit.state !== 'IN_PROGRESS') return;
    const flags: VisitFlag[] = ['MISSING_CHECK_OUT'];
    const details = [`no check-out ${EVV_RULES.checkOutGraceMinutes} min after the booked end`];
    const next: VisitDoc = { ...visit, flags, details, state: 'FLAGGED', version: visit.version + 1 };
    await this.saveVisit(next, visit.version, [this.events.create(VisitFlagged, { key: visit._id, correlationId: visit.orderId, payload: { visit: this.record(next), flags, details } })]);
    const order = await this.orders.orders.findOne({ _id: visit.orderId });
    if (order && order.state === 'CHECKED_IN') await this.advanceOrder(order, ['FLAGGED'], SYSTEM, 'flagged: MISSING_CHECK_OUT', visit.orderId, visit._id);
  }

  // ───────────── review ─────────────

  private mayReview(principal: Principal, v: VisitDoc): boolean {
    if (principal.role === 'provider_operator') return principal.providerId === v.providerId;
    if (principal.role === 'civil_affairs_admin') return !!principal.regionCode && v.regionPath.includes(principal.regionCode);
    return false;
  }

  async review(principal: Principal, visitId: string, outcome: 'APPROVED' | 'REJECTED', body: unknown, correlationId: string) {
    const input = parseInput(ReviewInput, body);
    const visit = await this.visits.findOne({ _id: visitId });
    if (!visit || !this.mayReview(principal, visit)) throw notFound('DISPATCH.VISIT_NOT_FOUND', 'Visit', '服务记录');
    if (visit.state !== 'FLAGGED') {
      throw new AppError('DISPATCH.VISIT_NOT_FLAGGED', 409, `Visit is ${visit.state}; only flagged visits are reviewed`, { messageZh: `服务记录为 ${visit.state} 状态，只有被标记的记录需要审核`, details: { currentState: visit.state } });
    }
    const now = new Date();
    const by = Actor(principal);
    const next: VisitDoc = { ...visit, state: outcome, review: { outcome, reason: input.reason, by: principal.userId, at: now }, version: visit.version + 1 };
    if (outcome === 'APPROVED' && !visit.endedAt) {
      // A missing check-out: the operator states when the visit ended (e.g. after calling the family).
      if (!input.endedAt || input.endedAt <= visit.startedAt || input.endedAt > now) {
        throw new AppError('VALIDATION.INVALID_INPUT', 400, 'endedAt: required for a visit without check-out, after its start and not in the future', { field: 'endedAt', messageZh: '未签出的服务记录须填写结束时间（晚于开始时间且不晚于现在）' });
      }
      next.endedAt = input.endedAt;
      next.actualMinutes = Math.round((input.endedAt.getTime() - visit.startedAt.getTime()) / 60_000);
      const order = await this.orders.orders.findOne({ _id: visit.orderId });
      next.quantity = billableQuantity(visit.unit, order?.quantity ?? 1, next.actualMinutes, visit.bookedMinutes);
    }
    const payload = { visit: this.record(next), reason: input.reason, by, at: now.toISOString() };
    const event = outcome === 'APPROVED' ? this.events.create(VisitApproved, { key: visit._id, correlationId, payload }) : this.events.create(VisitRejected, { key: visit._id, correlationId, payload });
    await this.saveVisit(next, visit.version, [event]);
    const order = await this.orders.orders.findOne({ _id: visit.orderId });
    if (order && order.state === 'FLAGGED') {
      await this.advanceOrder(order, [outcome === 'APPROVED' ? 'COMPLETED' : 'CANCELLED'], by, `${outcome.toLowerCase()}: ${input.reason}`, correlationId, visit._id);
      if (outcome === 'APPROVED') await this.orders.rememberServed(visit.elderId, visit.caregiverId);
    }
    return this.view(next);
  }

  // ───────────── reading ─────────────

  private scope(principal: Principal): Record<string, unknown> {
    switch (principal.role) {
      case 'caregiver':
        return { caregiverId: principal.caregiverId };
      case 'provider_operator':
        return { providerId: principal.providerId };
      case 'elder':
      case 'guardian':
        return { elderId: { $in: principal.elderIds ?? [] } };
      case 'civil_affairs_admin':
      case 'auditor':
        if (principal.regionCode) return { regionPath: principal.regionCode };
        throw forbidden();
      default:
        throw forbidden();
    }
  }

  async get(principal: Principal, visitId: string) {
    const v = await this.visits.findOne({ $and: [{ _id: visitId }, this.scope(principal)] } as never);
    if (!v) throw notFound('DISPATCH.VISIT_NOT_FOUND', 'Visit', '服务记录');
    return this.view(v);
  }

  async list(principal: Principal, query: unknown) {
    const q = parseInput(ListQuery, query);
    const filter: Record<string, unknown> = { ...this.scope(principal) };
    if (q.state) filter['state'] = q.state;
    if (q.orderId) filter['orderId'] = q.orderId;
    const [items, total] = await Promise.all([
      this.visits.find({ $and: [filter] } as never, { projection: { outbox: 0 } }).sort({ _id: -1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).toArray(),
      this.visits.countDocuments({ $and: [filter] } as never),
    ]);
    return { items: items.map((v) => this.view(v)), page: q.page, pageSize: q.pageSize, total };
  }
}
