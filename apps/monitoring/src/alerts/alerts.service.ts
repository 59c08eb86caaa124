import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import {
  AlertAcknowledged,
  AlertEscalated,
  AlertKinds,
  AlertKindSchema,
  AlertOutcomeSchema,
  AlertRaised,
  AlertResolved,
  AlertSeverities,
  AlertSeveritySchema,
  EmergencyAcknowledged,
  EmergencyResolved,
  EscalationTargets,
  type AlertIdentity,
  type AlertKind,
  type AlertSeverity,
  type EscalationTarget,
  type EvidenceReading,
  type PayloadOf,
  type TelemetryReading,
} from '@yiyang/contracts';
import { Events, HandleEvent, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox, type EventContext } from '@yiyang/messaging';
import { AppError, parseInput, REGION_ROLES, type Principal, PageQuery, type Page } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { z } from 'zod';
import type { DeviceInfo } from '../devices/device-directory';
import { RegistryFacts } from '../registry-facts/registry-facts.service';
import { stableId } from '../shared/ids';
import { forbidden, inRegionScope, notFound } from '../shared/scope';
import { Alert, AlertDeadline, OPEN_STATUSES, type AlertStatus } from './alert.schema';

export interface RaiseInput {
  device: DeviceInfo;
  kind: AlertKind;
  severity: AlertSeverity;
  /** Epoch ms of the reading that opened the episode (names the alert). */
  episode: number;
  evidence: TelemetryReading[];
  reason: string;
  location?: { lat: number; lng: number } | null;
  correlationId?: string;
}

export type RaiseResult = 'raised' | 'merged' | 'duplicate';

const AckInput = z.object({ note: z.string().trim().max(500).optional() });
const ResolveInput = z.object({ outcome: AlertOutcomeSchema, reason: z.string().trim().min(1).max(500) });
const AlertListQuery = PageQuery.extend({
  status: z.enum(['RAISED', 'ACKNOWLEDGED', 'RESOLVED', 'FALSE_ALARM', 'OPEN']).optional(),
  kind: AlertKindSchema.optional(),
  severity: AlertSeveritySchema.optional(),
  elderId: z.string().min(1).optional(),
  facilityId: z.string().min(1).optional(),
  deviceId: z.string().min(1).optional(),
});

const EMERGENCY_KINDS: ReadonlySet<AlertKind> = new Set(['SOS', 'FALL']);
const MAX_EVIDENCE = 50;
const SYSTEM = 'system';
/** Who acts on an alert when dispatch's emergency flow acknowledged or closed it (dispatch's own system user). */
const DISPATCH = 'system:dispatch';
/** Consumer group of the handlers that follow dispatch's emergencies back to their alerts. */
export const EMERGENCY_SYNC_GROUP = 'emergency-sync';

/**
 * Who hears about an alert, in order (domain.md: responder → guardian → community worker →
 * emergency services). In a facility the duty staff are first; fire and gas go to the fire
 * brigade next.
 */
export function escalationChain(kind: AlertKind, atFacility: boolean): EscalationTarget[] {
  if (atFacility) {
    if (kind === 'SMOKE' || kind === 'GAS') return ['FACILITY_DUTY', 'EMERGENCY_SERVICES'];
    if (kind === 'DEVICE_SILENT' || kind === 'LOW_BATTERY') return ['FACILITY_DUTY', 'COMMUNITY_WORKER'];
    return ['FACILITY_DUTY', 'COMMUNITY_WORKER', 'EMERGENCY_SERVICES'];
  }
  if (kind === 'DEVICE_SILENT' || kind === 'LOW_BATTERY') return ['RESPONDER', 'GUARDIAN'];
  if (kind === 'VITALS' || kind === 'INACTIVITY') return ['RESPONDER', 'GUARDIAN', 'COMMUNITY_WORKER'];
  return ['RESPONDER', 'GUARDIAN', 'COMMUNITY_WORKER', 'EMERGENCY_SERVICES'];
}

type AlertRecord = Omit<Alert, 'outbox' | 'outboxPending'>;

export interface AlertView {
  alertId: string;
  kind: AlertKind;
  kindLabel: { zh: string; en: string };
  severity: AlertSeverity;
  severityLabel: { zh: string; en: string };
  status: AlertStatus;
  deviceId: string;
  deviceKind: string;
  elderId: string | null;
  facilityId: string | null;
  regionCode: string;
  location: { lat: number; lng: number } | null;
  reason: string;
  evidence: EvidenceReading[];
  raisedAt: string;
  notified: { target: EscalationTarget; label: { zh: string; en: string } }[];
  escalationLevel: number;
  ackDeadline: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: string | null;
  history: { at: string; action: string; by: string | null; note?: string }[];
}

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

function toView(a: AlertRecord): AlertView {
  return {
    alertId: a._id,
    kind: a.kind,
    kindLabel: AlertKinds.labels[a.kind],
    severity: a.severity,
    severityLabel: AlertSeverities.labels[a.severity],
    status: a.status,
    deviceId: a.deviceId,
    deviceKind: a.deviceKind,
    elderId: a.elderId,
    facilityId: a.facilityId,
    regionCode: a.regionCode,
    location: a.location,
    reason: a.reason,
    evidence: a.evidence,
    raisedAt: new Date(a.raisedAt).toISOString(),
    notified: a.chain.slice(0, a.escalationLevel + 1).map((target) => ({ target, label: EscalationTargets.labels[target] })),
    escalationLevel: a.escalationLevel,
    ackDeadline: iso(a.ackDeadline),
    acknowledgedAt: iso(a.acknowledgedAt),
    acknowledgedBy: a.acknowledgedBy,
    resolvedAt: iso(a.resolvedAt),
    resolvedBy: a.resolvedBy,
    resolution: a.resolution,
    history: a.history.map((h) => ({ ...h, at: new Date(h.at).toISOString() })),
  };
}

function identity(a: AlertRecord): AlertIdentity {
  return {
    alertId: a._id,
    kind: a.kind,
    severity: a.severity,
    deviceId: a.deviceId,
    deviceKind: a.deviceKind,
    ...(a.elderId ? { elderId: a.elderId } : {}),
    ...(a.facilityId ? { facilityId: a.facilityId } : {}),
    regionCode: a.regionCode,
    regionPath: a.regionPath,
  };
}

export function toEvidence(r: TelemetryReading): EvidenceReading {
  const { kind, at, battery, vitals, loc, level, seq } = r;
  return {
    kind,
    at: new Date(at).toISOString(),
    ...(battery !== undefined ? { battery } : {}),
    ...(vitals ? { vitals } : {}),
    ...(loc ? { loc } : {}),
    ...(level !== undefined ? { level } : {}),
    ...(seq !== undefined ? { seq } : {}),
  };
}

function conflict(status: AlertStatus, wanted: string, wantedZh: string): AppError {
  return new AppError('MONITORING.ALERT_STATE', 409, `The alert is ${status}; cannot ${wanted}`, { messageZh: `告警当前状态为 ${status}，无法${wantedZh}` });
}

/**
 * The alert lifecycle: raised → acknowledged → resolved / false alarm, with escalation when nobody
 * acknowledges in time. Every transition is one state-guarded write carrying its event (outbox),
 * so two replicas or two people racing cannot both move the same alert.
 */
@Injectable()
export class AlertsService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(AlertsService.name);
  /** `${deviceId}|${kind}` → id of the open alert. A cache: the database is checked before it is trusted. */
  private readonly open = new Map<string, string>();
  private readonly ackSeconds: Record<AlertSeverity, number>;
  private poller?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private stopped = false;

  constructor(
    @InjectModel(Alert.name) private readonly alerts: Model<Alert>,
    @InjectModel(AlertDeadline.name) private readonly deadlines: Model<AlertDeadline>,
    private readonly facts: RegistryFacts,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
    @Inject(ConfigService) private readonly config: ConfigService,
  ) {
    this.ackSeconds = {
      CRITICAL: Number(config.get('ALERT_ACK_SECONDS_CRITICAL')),
      HIGH: Number(config.get('ALERT_ACK_SECONDS_HIGH')),
      MEDIUM: Number(config.get('ALERT_ACK_SECONDS_MEDIUM')),
      LOW: Number(config.get('ALERT_ACK_SECONDS_LOW')),
    };
  }

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.alerts.collection);
    const open = await this.alerts.find({ status: { $in: OPEN_STATUSES } }, { _id: 1, deviceId: 1, kind: 1, status: 1, ackDeadline: 1, escalationLevel: 1 }).lean();
    for (const a of open) {
      this.open.set(`${a.deviceId}|${a.kind}`, a._id);
      // A crash between raising and writing its deadline leaves an unwatched alert: restore it.
      if (a.status === 'RAISED' && a.ackDeadline) {
        await this.deadlines.updateOne({ _id: a._id }, { $setOnInsert: { dueAt: a.ackDeadline, level: a.escalationLevel } }, { upsert: true }).catch(() => undefined);
      }
    }
    const every = Number(this.config.get('ESCALATION_POLL_MS'));
    this.poller = setInterval(() => {
      if (this.polling || this.stopped) return;
      this.polling = this.escalateDue(new Date())
        .then(() => undefined)
        .catch((err) => this.log.error({ err }, 'escalation pass failed; will retry'))
        .finally(() => (this.polling = undefined));
    }, every);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    await this.polling;
  }

  /** Opens an alert for the episode, or adds the evidence to the one already open for this device and rule. */
  async raise(input: RaiseInput): Promise<RaiseResult> {
    const { device, kind } = input;
    const openKey = `${device.deviceId}|${kind}`;
    const openId = this.open.get(openKey);
    if (openId) {
      const current = await this.alerts.findById(openId, { status: 1, evidence: 1 }).lean();
      if (current && OPEN_STATUSES.includes(current.status)) {
        const fresh = input.evidence.map(toEvidence).filter((e) => !current.evidence.some((c) => c.at === e.at && c.kind === e.kind));
        const room = MAX_EVIDENCE - current.evidence.length;
        if (fresh.length > 0 && room > 0) {
          await this.alerts.updateOne(
            { _id: openId },
            { $push: { evidence: { $each: fresh.slice(0, room) }, history: { at: new Date(), action: 'EVIDENCE', by: SYSTEM, note: input.reason } } },
          );
        }
        return 'merged';
      }
      this.open.delete(openKey); // closed by another replica meanwhile
    }

    const alertId = stableId('al', device.deviceId, kind, input.episode);
    const atFacility = !!device.facilityId;
    const chain = escalationChain(kind, atFacility);
    const raisedAt = new Date();
    const ackDeadline = chain.length > 1 ? new Date(raisedAt.getTime() + this.ackSeconds[input.severity] * 1000) : null;
    const location = input.location ?? input.evidence.find((e) => e.loc)?.loc ?? device.location ?? null;
    const record: AlertRecord = {
      _id: alertId,
      kind,
      severity: input.severity,
      status: 'RAISED',
      deviceId: device.deviceId,
      deviceKind: device.kind,
      elderId: device.elderId,
      facilityId: device.facilityId,
      regionCode: device.regionCode,
      regionPath: device.regionPath,
      location,
      episode: input.episode,
      reason: input.reason,
      evidence: input.evidence.slice(-MAX_EVIDENCE).map(toEvidence),
      raisedAt,
      chain,
      escalationLevel: 0,
      ackDeadline,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      resolution: null,
      history: [{ at: raisedAt, action: 'RAISED', by: SYSTEM, note: input.reason }],
      version: 1,
    };
    const event = this.events.create(AlertRaised, {
      key: alertId,
      correlationId: input.correlationId,
      payload: {
        ...identity(record),
        ...(location ? { location } : {}),
        raisedAt: raisedAt.toISOString(),
        reason: input.reason,
        evidence: record.evidence,
        ackDeadline: (ackDeadline ?? raisedAt).toISOString(),
        notify: chain[0],
        emergency: EMERGENCY_KINDS.has(kind),
      },
    });
    try {
      await this.alerts.collection.insertOne({ ...record, ...outboxFields([event]) } as never);
    } catch (error) {
      if (isDuplicateKeyError(error)) return 'duplicate'; // this episode was raised before (replay, duplicate, other replica)
      throw error;
    }
    this.relay.nudge(this.alerts.collection.collectionName);
    this.open.set(openKey, alertId);
    if (ackDeadline) await this.deadlines.updateOne({ _id: alertId }, { $set: { dueAt: ackDeadline, level: 0 } }, { upsert: true });
    return 'raised';
  }

  /** The condition behind an open alert went away by itself (device back online, battery replaced, activity again). */
  async clear(deviceId: string, kind: AlertKind, reason: string, correlationId?: string): Promise<boolean> {
    const openKey = `${deviceId}|${kind}`;
    let alertId = this.open.get(openKey);
    if (!alertId) {
      const found = await this.alerts.findOne({ deviceId, kind, status: { $in: OPEN_STATUSES } }, { _id: 1 }).lean();
      if (!found) return false;
      alertId = found._id;
    }
    const current = await this.alerts.findById(alertId, { outbox: 0, outboxPending: 0 }).lean();
    this.open.delete(openKey);
    if (!current || !OPEN_STATUSES.includes(current.status)) return false;
    await this.transitionResolve(current, 'RESOLVED', reason, null, correlationId);
    return true;
  }

  /** INACTIVITY belongs to the home, not one sensor: clear the elder's open one, whichever sensor raised it. */
  async clearForElder(elderId: string, kind: AlertKind, reason: string, correlationId?: string): Promise<boolean> {
    const current = await this.alerts.findOne({ elderId, kind, status: { $in: OPEN_STATUSES } }, { outbox: 0, outboxPending: 0 }).lean();
    if (!current) return false;
    return this.transitionResolve(current, 'RESOLVED', reason, null, correlationId);
  }

  async acknowledge(principal: Principal, alertId: string, body: unknown, correlationId: string): Promise<AlertView> {
    const { note } = parseInput(AckInput, body);
    const current = await this.find(principal, alertId, true);
    if (current.status !== 'RAISED') throw conflict(current.status, 'acknowledge', '确认');
    const ok = await this.transitionAcknowledge(current, { userId: principal.userId, role: principal.role }, new Date(), note, { correlationId });
    if (!ok) throw conflict('ACKNOWLEDGED', 'acknowledge', '确认');
    return this.get(principal, alertId);
  }

  // ── dispatch's emergency flow, back to the alert it was opened from ──
  //
  // Dispatch opens an emergency from an SOS/FALL AlertRaised (its `alertId`) and follows our
  // AlertAcknowledged / AlertResolved. These handlers are the other direction: a responder who
  // acknowledges or closes the emergency in dispatch acknowledges / resolves the alert here, so the
  // alert desk, the escalation ladder and the figures agree with what happened on the ground.
  // Both directions settle because an event is written only on a state change, under a guard on
  // the state it expects: our echo of dispatch's acknowledgement reaches dispatch as an
  // AlertAcknowledged for an emergency that is ACKNOWLEDGED already (it does nothing), and
  // dispatch's echo of ours reaches us for an alert no longer RAISED (we do nothing). Redelivery
  // meets the same guard, so each transition's event is written once.

  @HandleEvent(EmergencyAcknowledged, { group: EMERGENCY_SYNC_GROUP })
  async onEmergencyAcknowledged(p: PayloadOf<typeof EmergencyAcknowledged>, ctx: EventContext): Promise<void> {
    const current = await this.fromEmergency(p.emergency);
    if (!current || current.status !== 'RAISED') return; // not ours, or already acknowledged / closed: settled
    const by = p.emergency.acknowledgedBy ?? { userId: DISPATCH, role: 'system' };
    const at = new Date(p.at);
    await this.transitionAcknowledge(current, { userId: by.userId, role: by.role }, Number.isNaN(at.getTime()) ? new Date() : at, `emergency ${p.emergency.emergencyId} acknowledged in dispatch`, {
      correlationId: ctx.envelope.correlationId,
      causationId: ctx.envelope.eventId,
    });
  }

  @HandleEvent(EmergencyResolved, { group: EMERGENCY_SYNC_GROUP })
  async onEmergencyResolved(p: PayloadOf<typeof EmergencyResolved>, ctx: EventContext): Promise<void> {
    const current = await this.fromEmergency(p.emergency);
    if (!current || !OPEN_STATUSES.includes(current.status)) return; // not ours, or closed already: settled
    // Dispatch does not name who closed an emergency; the alert is closed "by dispatch" (a person did
    // see the elder — resolvedBy is not null, which would mean the condition cleared by itself).
    const reason = `${p.reason} (dispatch emergency ${p.emergency.emergencyId})`.slice(0, 500);
    await this.transitionResolve(current, p.outcome, reason, { userId: DISPATCH, role: 'system' }, ctx.envelope.correlationId, ctx.envelope.eventId);
  }

  private async fromEmergency(e: PayloadOf<typeof EmergencyAcknowledged>['emergency']): Promise<AlertRecord | null> {
    if (!e.alertId || e.source !== 'DEVICE') return null;
    return this.alerts.findById(e.alertId, { outbox: 0, outboxPending: 0 }).lean();
  }

  /** RAISED → ACKNOWLEDGED, one state-guarded write with its event; false when it was not RAISED any more. */
  private async transitionAcknowledge(
    current: AlertRecord,
    by: { userId: string; role: string },
    at: Date,
    note: string | undefined,
    cause: { correlationId?: string; causationId?: string },
  ): Promise<boolean> {
    const alertId = current._id;
    const responseSeconds = Math.max(0, (at.getTime() - new Date(current.raisedAt).getTime()) / 1000);
    const event = this.events.create(AlertAcknowledged, {
      key: alertId,
      correlationId: cause.correlationId,
      causationId: cause.causationId,
      payload: {
        ...identity(current),
        raisedAt: new Date(current.raisedAt).toISOString(),
        acknowledgedAt: at.toISOString(),
        acknowledgedBy: by,
        responseSeconds,
        ...(note ? { note } : {}),
      },
    });
    const result = await this.alerts.updateOne(
      { _id: alertId, status: 'RAISED' },
      withOutbox(
        {
          $set: { status: 'ACKNOWLEDGED', acknowledgedAt: at, acknowledgedBy: by.userId, ackDeadline: null, version: current.version + 1 },
          $push: { history: { at, action: 'ACKNOWLEDGED', by: by.userId, ...(note ? { note } : {}) } },
        },
        [event],
      ),
    );
    if (result.modifiedCount !== 1) return false;
    this.relay.nudge(this.alerts.collection.collectionName);
    await this.deadlines.deleteOne({ _id: alertId });
    return true;
  }

  async resolve(principal: Principal, alertId: string, body: unknown, correlationId: string): Promise<AlertView> {
    const { outcome, reason } = parseInput(ResolveInput, body);
    const current = await this.find(principal, alertId, true);
    if (!OPEN_STATUSES.includes(current.status)) throw conflict(current.status, 'resolve', '处置');
    const ok = await this.transitionResolve(current, outcome, reason, { userId: principal.userId, role: principal.role }, correlationId);
    if (!ok) throw conflict('RESOLVED', 'resolve', '处置');
    return this.get(principal, alertId);
  }

  private async transitionResolve(
    current: AlertRecord,
    outcome: 'RESOLVED' | 'FALSE_ALARM',
    reason: string,
    by: { userId: string; role: string } | null,
    correlationId?: string,
    causationId?: string,
  ): Promise<boolean> {
    const now = new Date();
    const responseSeconds = current.acknowledgedAt ? (new Date(current.acknowledgedAt).getTime() - new Date(current.raisedAt).getTime()) / 1000 : undefined;
    const event = this.events.create(AlertResolved, {
      key: current._id,
      correlationId,
      causationId,
      payload: {
        ...identity(current),
        raisedAt: new Date(current.raisedAt).toISOString(),
        resolvedAt: now.toISOString(),
        outcome,
        reason,
        resolvedBy: by,
        ...(responseSeconds !== undefined ? { responseSeconds: Math.max(0, responseSeconds) } : {}),
      },
    });
    const result = await this.alerts.updateOne(
      { _id: current._id, status: current.status },
      withOutbox(
        {
          $set: { status: outcome, resolvedAt: now, resolvedBy: by?.userId ?? SYSTEM, resolution: reason, ackDeadline: null, version: current.version + 1 },
          $push: { history: { at: now, action: outcome, by: by?.userId ?? SYSTEM, note: reason } },
        },
        [event],
      ),
    );
    if (result.modifiedCount !== 1) return false;
    this.relay.nudge(this.alerts.collection.collectionName);
    this.open.delete(`${current.deviceId}|${current.kind}`);
    await this.deadlines.deleteOne({ _id: current._id });
    return true;
  }

  /**
   * One pass of the escalation poller: every passed deadline moves its alert one step up the chain.
   * The write is guarded by the level it expects, so replicas polling at once escalate once.
   */
  async escalateDue(now: Date): Promise<number> {
    const due = await this.deadlines.find({ dueAt: { $lte: now } }).limit(200).lean();
    let escalated = 0;
    for (const d of due) {
      const alert = await this.alerts.findById(d._id, { outbox: 0, outboxPending: 0 }).lean();
      if (!alert || alert.status !== 'RAISED') {
        await this.deadlines.deleteOne({ _id: d._id });
        continue;
      }
      if (alert.escalationLevel !== d.level) {
        // Another replica moved it on; align the deadline with the alert.
        if (alert.ackDeadline) await this.deadlines.updateOne({ _id: d._id }, { $set: { dueAt: alert.ackDeadline, level: alert.escalationLevel } });
        else await this.deadlines.deleteOne({ _id: d._id });
        continue;
      }
      const level = alert.escalationLevel + 1;
      if (level >= alert.chain.length) {
        await this.deadlines.deleteOne({ _id: d._id });
        continue;
      }
      const last = level + 1 >= alert.chain.length;
      const nextDeadline = last ? null : new Date(now.getTime() + this.ackSeconds[alert.severity] * 1000);
      const event = this.events.create(AlertEscalated, {
        key: alert._id,
        payload: {
          ...identity(alert),
          raisedAt: new Date(alert.raisedAt).toISOString(),
          escalatedAt: now.toISOString(),
          level,
          escalatedTo: alert.chain[level],
          ...(nextDeadline ? { nextDeadline: nextDeadline.toISOString() } : {}),
        },
      });
      const result = await this.alerts.updateOne(
        { _id: alert._id, status: 'RAISED', escalationLevel: alert.escalationLevel },
        withOutbox(
          {
            $set: { escalationLevel: level, ackDeadline: nextDeadline, version: alert.version + 1 },
            $push: { history: { at: now, action: 'ESCALATED', by: SYSTEM, note: alert.chain[level] } },
          },
          [event],
        ),
      );
      if (result.modifiedCount === 1) {
        escalated++;
        this.relay.nudge(this.alerts.collection.collectionName);
        if (nextDeadline) await this.deadlines.updateOne({ _id: d._id, level: d.level }, { $set: { dueAt: nextDeadline, level } });
        else await this.deadlines.deleteOne({ _id: d._id, level: d.level });
      }
    }
    return escalated;
  }

  async list(principal: Principal, query: unknown): Promise<Page<AlertView>> {
    const q = parseInput(AlertListQuery, query);
    const filter: Record<string, unknown> = { ...this.scopeFilter(principal) };
    if (q.status === 'OPEN') filter['status'] = { $in: OPEN_STATUSES };
    else if (q.status) filter['status'] = q.status;
    if (q.kind) filter['kind'] = q.kind;
    if (q.severity) filter['severity'] = q.severity;
    if (q.elderId) filter['elderId'] = q.elderId;
    if (q.facilityId) filter['facilityId'] = q.facilityId;
    if (q.deviceId) filter['deviceId'] = q.deviceId;
    const [items, total] = await Promise.all([
      this.alerts.find(filter, { outbox: 0, outboxPending: 0 }).sort({ raisedAt: -1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean(),
      this.alerts.countDocuments(filter),
    ]);
    return { items: items.map(toView), page: q.page, pageSize: q.pageSize, total };
  }

  async get(principal: Principal, alertId: string): Promise<AlertView> {
    return toView(await this.find(principal, alertId, false));
  }

  private async find(principal: Principal, alertId: string, forWrite: boolean): Promise<AlertRecord> {
    const a = await this.alerts.findById(alertId, { outbox: 0, outboxPending: 0 }).lean();
    if (!a || !this.visible(principal, a)) throw notFound('MONITORING.ALERT_NOT_FOUND', 'Alert', '告警');
    if (forWrite && (principal.role === 'auditor' || principal.role === 'assessor')) throw forbidden();
    return a;
  }

  private visible(principal: Principal, a: AlertRecord): boolean {
    if (REGION_ROLES.includes(principal.role)) return inRegionScope(principal, a.regionPath);
    if (principal.role === 'elder' || principal.role === 'guardian') return !!a.elderId && (principal.elderIds ?? []).includes(a.elderId);
    if (principal.role === 'provider_operator') return !!a.facilityId && this.facts.facility(a.facilityId)?.providerId === principal.providerId;
    return false;
  }

  private scopeFilter(principal: Principal): Record<string, unknown> {
    if (REGION_ROLES.includes(principal.role) && principal.regionCode) return { regionPath: principal.regionCode };
    if (principal.role === 'elder' || principal.role === 'guardian') return { elderId: { $in: principal.elderIds ?? [] } };
    if (principal.role === 'provider_operator') {
      // Duty staff of the facilities the provider runs see those facilities' alerts (smoke, gas, residents' devices).
      const own = [...this.facts.allFacilities()].filter((f) => f.providerId === principal.providerId).map((f) => f._id);
      return { facilityId: { $in: own } };
    }
    throw forbidden();
  }
}
