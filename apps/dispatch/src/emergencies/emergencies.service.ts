import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import {
  AlertAcknowledged,
  AlertRaised,
  AlertResolved,
  EmergencyAcknowledged,
  EmergencyEscalated,
  EmergencyRaised,
  EmergencyResolved,
  type EmergencySnapshot,
  type EscalationLevel,
  type PayloadOf,
} from '@yiyang/contracts';
import { h3Cell } from '@yiyang/geo';
import { Events, HandleEvent, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox, type EventContext, type OutboxEntry, type PendingEvent } from '@yiyang/messaging';
import { AppError, ensureIndexes, parseInput, type Principal } from '@yiyang/service-kit';
import type { Collection, Connection } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { DutyWorkersService } from '../duty-workers/duty-workers.service';
import { nearestResponders } from '../matching/domain/match';
import { ReadModels, type ElderRecord } from '../read-models/read-models.service';
import { Scheduler, type Deadline } from '../scheduler/scheduler.service';
import { ChinaLatLng, PageQuery, Reason } from '../shared/inputs';
import { Actor, actsForElder, concurrentUpdate, forbidden, inRegion, notFound } from '../shared/scope';
import { LADDER, nextLevel } from './domain/ladder';

type Contact = EmergencySnapshot['notified'][number];
interface EmergencyDoc extends Omit<EmergencySnapshot, 'emergencyId' | 'ackDeadline' | 'raisedAt' | 'acknowledgedAt' | 'closedAt'> {
  _id: string;
  ackDeadline: Date | null;
  raisedAt: Date;
  acknowledgedAt: Date | null;
  closedAt: Date | null;
  /** Grows by one per escalation step; a deadline only acts on the step it was set for. */
  step: number;
  /** Phones of notified people stay here (dispatch calls them), never on the topic. */
  phones: { id: string; phone: string }[];
  outbox: OutboxEntry[];
  outboxPending: boolean;
}

const RaiseInput = z.object({
  elderId: z.string().min(1),
  location: ChinaLatLng.optional(),
  note: z.string().trim().max(500).default(''),
});
const ResolveInput = z.object({ outcome: z.enum(['RESOLVED', 'FALSE_ALARM']), reason: Reason });
const ListQuery = PageQuery.extend({ state: z.enum(['OPEN', 'ACKNOWLEDGED', 'RESOLVED', 'FALSE_ALARM']).optional() });

const RESPONDER_RADIUS_M = 3_000;
/** The actor dispatch writes as; monitoring echoing such an action back is not a new one. */
const SYSTEM_USER = 'system:dispatch';

/** SOS / fall emergencies with an escalation ladder whose deadlines are documents (they survive restarts). */
@Injectable()
export class EmergenciesService implements OnModuleInit {
  readonly col: Collection<EmergencyDoc>;

  constructor(
    @InjectConnection() connection: Connection,
    @Inject(ConfigService) private readonly config: ConfigService,
    private readonly rm: ReadModels,
    private readonly duty: DutyWorkersService,
    private readonly scheduler: Scheduler,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {
    this.col = connection.collection<EmergencyDoc>('emergencies') as never;
  }

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.col as never);
    await ensureIndexes(this.col as never, ['state', 'regionPath', 'elderId']);
    this.scheduler.on('emergency', (d) => this.onDeadline(d));
  }

  private ackMs(): number {
    return Number(this.config.get('DISPATCH_EMERGENCY_ACK_SECONDS') ?? 90) * 1000;
  }

  snapshot(e: EmergencyDoc): EmergencySnapshot {
    return {
      emergencyId: e._id,
      elderId: e.elderId,
      facilityId: e.facilityId,
      regionCode: e.regionCode,
      regionPath: e.regionPath,
      kind: e.kind,
      source: e.source,
      alertId: e.alertId,
      location: e.location,
      state: e.state,
      level: e.level,
      ackDeadline: e.ackDeadline?.toISOString() ?? null,
      notified: e.notified,
      raisedAt: e.raisedAt.toISOString(),
      acknowledgedAt: e.acknowledgedAt?.toISOString() ?? null,
      acknowledgedBy: e.acknowledgedBy,
      closedAt: e.closedAt?.toISOString() ?? null,
      closeReason: e.closeReason,
      version: e.version,
    };
  }
  private view(e: EmergencyDoc) {
    return { ...this.snapshot(e), step: e.step };
  }

  // ───────────── raising ─────────────

  async raiseByApi(principal: Principal, body: unknown, idempotencyKey: string | undefined, correlationId: string) {
    const input = parseInput(RaiseInput, body);
    const elder = await this.rm.elder(input.elderId);
    const allowed =
      elder &&
      (actsForElder(principal, elder._id) ||
        inRegion(principal, elder.regionPath) ||
        (principal.role === 'provider_operator' && this.rm.contractedProviders(elder.regionPath, new Date().toISOString().slice(0, 10)).includes(principal.providerId as string)) ||
        principal.role === 'caregiver');
    if (!elder || !allowed) throw notFound('DISPATCH.ELDER_NOT_FOUND', 'Elder', '老年人');
    const id = idempotencyKey ? `em-${createHash('sha256').update(`${principal.userId}\n${idempotencyKey}`).digest('hex').slice(0, 24)}` : `em-${uuidv7()}`;
    const e = await this.open({ id, elder, kind: 'SOS', source: 'API', alertId: null, location: input.location ?? elder.home, regionCode: elder.regionCode, regionPath: elder.regionPath, facilityId: null, correlationId, causationId: null });
    return this.view(e);
  }

  /** monitoring's AlertRaised: SOS and FALL open an emergency (idempotent by alertId). */
  @HandleEvent(AlertRaised, { group: 'emergencies' })
  async onAlertRaised(p: PayloadOf<typeof AlertRaised>, ctx: EventContext): Promise<void> {
    if ((p.kind !== 'SOS' && p.kind !== 'FALL') || !this.rm.serves(p.regionCode)) return;
    const elder = p.elderId ? await this.rm.elder(p.elderId) : null;
    await this.open({
      id: `em-${p.alertId}`,
      elder,
      kind: p.kind,
      source: 'DEVICE',
      alertId: p.alertId,
      location: p.location ?? elder?.home ?? null,
      regionCode: p.regionCode,
      regionPath: p.regionPath,
      facilityId: p.facilityId ?? null,
      correlationId: ctx.envelope.correlationId,
      causationId: ctx.envelope.eventId,
    });
  }

  /**
   * monitoring's alert was acknowledged there (the alert desk, a wall display): the emergency opened
   * from it is acknowledged in step, so the ladder stops climbing. Loop-free by construction: an
   * event is written only on a state change, so monitoring mirroring our own acknowledgement back
   * (its AlertAcknowledged after our EmergencyAcknowledged) finds the emergency acknowledged already
   * and does nothing; acknowledgements made by dispatch itself (`system:dispatch`) are skipped outright.
   */
  @HandleEvent(AlertAcknowledged, { group: 'emergencies' })
  async onAlertAcknowledged(p: PayloadOf<typeof AlertAcknowledged>, ctx: EventContext): Promise<void> {
    if ((p.kind !== 'SOS' && p.kind !== 'FALL') || !this.rm.serves(p.regionCode) || p.acknowledgedBy.userId === SYSTEM_USER) return;
    const e = await this.col.findOne({ _id: `em-${p.alertId}` });
    if (!e || e.state !== 'OPEN') return;
    const at = new Date(p.acknowledgedAt);
    const next: EmergencyDoc = { ...e, state: 'ACKNOWLEDGED', ackDeadline: null, acknowledgedAt: at, acknowledgedBy: { userId: p.acknowledgedBy.userId, role: p.acknowledgedBy.role, kind: 'MONITORING' }, version: e.version + 1 };
    const responseSeconds = Math.max(0, Math.round((at.getTime() - e.raisedAt.getTime()) / 1000));
    // A concurrent write (an acknowledgement through our API, an escalation) throws; the consumer retries and re-reads.
    await this.save(next, e.version, [
      this.events.create(EmergencyAcknowledged, { key: e._id, correlationId: ctx.envelope.correlationId, causationId: ctx.envelope.eventId, payload: { emergency: this.snapshot(next), responseSeconds, at: at.toISOString() } }),
    ]);
  }

  /**
   * monitoring's alert was resolved (or called a false alarm) by a person: the emergency closes with
   * the same outcome and reason. An alert that "cleared by itself" (`resolvedBy: null`, e.g. the
   * device came back) never closes an emergency — somebody has to have seen the elder.
   */
  @HandleEvent(AlertResolved, { group: 'emergencies' })
  async onAlertResolved(p: PayloadOf<typeof AlertResolved>, ctx: EventContext): Promise<void> {
    if ((p.kind !== 'SOS' && p.kind !== 'FALL') || !this.rm.serves(p.regionCode) || !p.resolvedBy || p.resolvedBy.userId === SYSTEM_USER) return;
    const e = await this.col.findOne({ _id: `em-${p.alertId}` });
    if (!e || (e.state !== 'OPEN' && e.state !== 'ACKNOWLEDGED')) return;
    const at = new Date(p.resolvedAt);
    const reason = `${p.reason} (monitoring)`.slice(0, 500);
    const acknowledged = e.state === 'ACKNOWLEDGED' ? {} : { acknowledgedAt: at, acknowledgedBy: { userId: p.resolvedBy.userId, role: p.resolvedBy.role, kind: 'MONITORING' } };
    const next: EmergencyDoc = { ...e, ...acknowledged, state: p.outcome, ackDeadline: null, closedAt: at, closeReason: reason, version: e.version + 1 };
    await this.save(next, e.version, [
      this.events.create(EmergencyResolved, { key: e._id, correlationId: ctx.envelope.correlationId, causationId: ctx.envelope.eventId, payload: { emergency: this.snapshot(next), outcome: p.outcome, reason, at: at.toISOString() } }),
    ]);
  }

  /** A round found the elder in danger. */
  async raiseForRound(elder: ElderRecord, roundId: string, correlationId: string): Promise<string> {
    const e = await this.open({ id: `em-round-${roundId}`, elder, kind: 'ROUND_URGENT', source: 'ROUND', alertId: null, location: elder.home, regionCode: elder.regionCode, regionPath: elder.regionPath, facilityId: null, correlationId, causationId: null });
    return e._id;
  }

  private async open(a: {
    id: string;
    elder: ElderRecord | null;
    kind: EmergencyDoc['kind'];
    source: EmergencyDoc['source'];
    alertId: string | null;
    location: { lat: number; lng: number } | null;
    regionCode: string;
    regionPath: string[];
    facilityId: string | null;
    correlationId: string;
    causationId: string | null;
  }): Promise<EmergencyDoc> {
    const existing = await this.col.findOne({ _id: a.id });
    if (existing) return existing;
    const now = new Date();
    const { contacts, phones } = await this.circle('RESPONDER', a.elder, a.location, a.regionPath, [], now);
    const e: EmergencyDoc = {
      _id: a.id,
      elderId: a.elder?._id ?? null,
      facilityId: a.facilityId,
      regionCode: a.regionCode,
      regionPath: a.regionPath,
      kind: a.kind,
      source: a.source,
      alertId: a.alertId,
      location: a.location,
      state: 'OPEN',
      level: 'RESPONDER',
      ackDeadline: new Date(now.getTime() + this.ackMs()),
      notified: contacts,
      raisedAt: now,
      acknowledgedAt: null,
      acknowledgedBy: null,
      closedAt: null,
      closeReason: null,
      step: 0,
      phones,
      version: 1,
      outbox: [],
      outboxPending: false,
    };
    const event = this.events.create(EmergencyRaised, { key: e._id, correlationId: a.correlationId, causationId: a.causationId, payload: { emergency: this.snapshot(e) } });
    await this.scheduler.schedule(`emergency:${e._id}`, 'emergency', e._id, e.ackDeadline as Date, { step: 0 });
    try {
      await this.col.insertOne({ ...e, ...outboxFields([event]) });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return (await this.col.findOne({ _id: a.id })) as EmergencyDoc;
    }
    this.relay.nudge();
    return e;
  }

  /**
   * Who a level notifies. RESPONDER opens with everyone close at once: the nearest available worker,
   * the guardians and the community duty worker. Later levels widen the circle.
   */
  private async circle(level: EscalationLevel, elder: ElderRecord | null, location: { lat: number; lng: number } | null, regionPath: readonly string[], already: readonly Contact[], now: Date): Promise<{ contacts: Contact[]; phones: { id: string; phone: string }[] }> {
    const at = now.toISOString();
    const contacts: Contact[] = [];
    const phones: { id: string; phone: string }[] = [];
    const responders = (n: number) => {
      if (!location) return;
      const excluded = new Set(already.filter((c) => c.kind === 'CAREGIVER').map((c) => c.id));
      for (const r of nearestResponders(this.rm.caregivers, location, h3Cell(location), now, RESPONDER_RADIUS_M, n, excluded)) {
        contacts.push({ kind: 'CAREGIVER', id: r.caregiverId, name: this.rm.caregivers.get(r.caregiverId)?.name ?? '', notifiedAt: at });
      }
    };
    const guardians = () => {
      for (const g of elder?.guardians ?? []) {
        contacts.push({ kind: 'GUARDIAN', id: g.guardianId, name: g.name, notifiedAt: at });
        phones.push({ id: g.guardianId, phone: g.phone });
      }
    };
    const dutyWorkers = async () => {
      for (const d of await this.duty.forCommunity(regionPath)) {
        contacts.push({ kind: 'DUTY_WORKER', id: d.caregiverId ?? d._id, name: d.name, notifiedAt: at });
        phones.push({ id: d.caregiverId ?? d._id, phone: d.phone });
      }
    };
    switch (level) {
      case 'RESPONDER':
        responders(1);
        guardians();
        await dutyWorkers();
        break;
      case 'GUARDIAN':
        responders(2);
        guardians();
        break;
      case 'COMMUNITY_WORKER':
        await dutyWorkers();
        break;
      case 'EMERGENCY_SERVICES':
        contacts.push({ kind: 'EMERGENCY_SERVICES', id: '120', name: '急救中心 120', notifiedAt: at });
        await dutyWorkers();
        break;
    }
    return { contacts, phones };
  }

  private async save(next: EmergencyDoc, readVersion: number, events: PendingEvent[]): Promise<void> {
    const { _id, outbox: _o, outboxPending: _p, ...rest } = next;
    const res = await this.col.updateOne({ _id, version: readVersion }, withOutbox({ $set: rest }, events) as never);
    if (res.matchedCount === 0) throw concurrentUpdate();
    this.relay.nudge();
  }

  /** An acknowledgement deadline passed: climb (or, at the top, remind) and set the next deadline. */
  private async onDeadline(d: Deadline): Promise<void> {
    const e = await this.col.findOne({ _id: d.refId });
    if (!e || e.state !== 'OPEN' || e.step !== d.data?.['step']) return;
    const now = new Date();
    const to = nextLevel(e.level);
    const elder = e.elderId ? await this.rm.elder(e.elderId) : null;
    const { contacts, phones } = await this.circle(to, elder, e.location, e.regionPath, e.notified, now);
    const next: EmergencyDoc = {
      ...e,
      level: to,
      step: e.step + 1,
      ackDeadline: new Date(now.getTime() + this.ackMs()),
      notified: [...e.notified, ...contacts],
      phones: [...e.phones, ...phones],
      version: e.version + 1,
    };
    const event = this.events.create(EmergencyEscalated, { key: e._id, correlationId: e._id, payload: { emergency: this.snapshot(next), from: e.level, to, notified: contacts, at: now.toISOString() } });
    // Next deadline first: if the write below fails, this handler runs again (same step) and redoes both.
    await this.scheduler.schedule(`emergency:${e._id}:${next.step}`, 'emergency', e._id, next.ackDeadline as Date, { step: next.step });
    await this.save(next, e.version, [event]);
  }

  // ───────────── acknowledging and closing ─────────────

  private mayAct(principal: Principal, e: EmergencyDoc): { ok: boolean; kind: string } {
    if (principal.role === 'caregiver') {
      const c = e.notified.find((n) => n.id === principal.caregiverId && (n.kind === 'CAREGIVER' || n.kind === 'DUTY_WORKER'));
      return { ok: !!c, kind: c?.kind ?? 'CAREGIVER' };
    }
    if (principal.role === 'guardian' || principal.role === 'elder') return { ok: !!e.elderId && actsForElder(principal, e.elderId), kind: principal.role.toUpperCase() };
    if (principal.role === 'provider_operator') return { ok: !!principal.providerId && this.rm.contractedProviders(e.regionPath, new Date().toISOString().slice(0, 10)).includes(principal.providerId), kind: 'OPERATOR' };
    if (principal.role === 'civil_affairs_admin' || principal.role === 'auditor') return { ok: inRegion(principal, e.regionPath), kind: 'BUREAU' };
    return { ok: false, kind: '' };
  }

  private async load(principal: Principal, id: string): Promise<{ e: EmergencyDoc; kind: string }> {
    const e = await this.col.findOne({ _id: id });
    const may = e ? this.mayAct(principal, e) : { ok: false, kind: '' };
    if (!e || !may.ok) throw notFound('DISPATCH.EMERGENCY_NOT_FOUND', 'Emergency', '紧急事件');
    return { e, kind: may.kind };
  }

  async acknowledge(principal: Principal, id: string, correlationId: string) {
    const { e, kind } = await this.load(principal, id);
    if (principal.role === 'auditor' || principal.role === 'elder') throw forbidden();
    if (e.state === 'ACKNOWLEDGED') return this.view(e);
    if (e.state !== 'OPEN') {
      throw new AppError('DISPATCH.EMERGENCY_CLOSED', 409, `Emergency is ${e.state}`, { messageZh: `紧急事件已是 ${e.state} 状态`, details: { currentState: e.state } });
    }
    const now = new Date();
    const next: EmergencyDoc = { ...e, state: 'ACKNOWLEDGED', ackDeadline: null, acknowledgedAt: now, acknowledgedBy: { ...Actor(principal), kind }, version: e.version + 1 };
    const responseSeconds = Math.round((now.getTime() - e.raisedAt.getTime()) / 1000);
    await this.save(next, e.version, [this.events.create(EmergencyAcknowledged, { key: e._id, correlationId, payload: { emergency: this.snapshot(next), responseSeconds, at: now.toISOString() } })]);
    return this.view(next);
  }

  async resolve(principal: Principal, id: string, body: unknown, correlationId: string) {
    const input = parseInput(ResolveInput, body);
    const { e } = await this.load(principal, id);
    if (principal.role === 'auditor' || (principal.role === 'elder' && input.outcome !== 'FALSE_ALARM')) throw forbidden();
    if (e.state !== 'OPEN' && e.state !== 'ACKNOWLEDGED') {
      throw new AppError('DISPATCH.EMERGENCY_CLOSED', 409, `Emergency is ${e.state}`, { messageZh: `紧急事件已是 ${e.state} 状态`, details: { currentState: e.state } });
    }
    const now = new Date();
    const next: EmergencyDoc = { ...e, state: input.outcome, ackDeadline: null, closedAt: now, closeReason: input.reason, version: e.version + 1 };
    await this.save(next, e.version, [this.events.create(EmergencyResolved, { key: e._id, correlationId, payload: { emergency: this.snapshot(next), outcome: input.outcome, reason: input.reason, at: now.toISOString() } })]);
    return this.view(next);
  }

  async get(principal: Principal, id: string) {
    return this.view((await this.load(principal, id)).e);
  }

  async list(principal: Principal, query: unknown) {
    const q = parseInput(ListQuery, query);
    let filter: Record<string, unknown>;
    if ((principal.role === 'civil_affairs_admin' || principal.role === 'auditor') && principal.regionCode) filter = { regionPath: principal.regionCode };
    else if (principal.role === 'guardian' || principal.role === 'elder') filter = { elderId: { $in: principal.elderIds ?? [] } };
    else if (principal.role === 'caregiver') filter = { 'notified.id': principal.caregiverId };
    else throw forbidden();
    if (q.state) filter = { $and: [filter, { state: q.state }] };
    const [items, total] = await Promise.all([
      this.col.find(filter as never, { projection: { outbox: 0, phones: 0 } }).sort({ _id: -1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).toArray(),
      this.col.countDocuments(filter as never),
    ]);
    return { items: items.map((e) => this.view(e)), page: q.page, pageSize: q.pageSize, total, ladder: LADDER };
  }
}
