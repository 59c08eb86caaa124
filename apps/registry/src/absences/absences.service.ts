import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { ElderAbsenceEnded, ElderAbsenceRecorded, type AbsenceSnapshot } from '@yiyang/contracts';
import { Events, type PendingEvent } from '@yiyang/messaging';
import { AppError, type Principal } from '@yiyang/service-kit';
import type { Collection } from 'mongodb';
import type { Model } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { AuditService, type RequestOrigin } from '../audit/audit.service';
import { Elder, type StoredAbsence } from '../elders/elder.schema';
import { EldersService } from '../elders/elders.service';
import { elderOutbox, ImportEventBatches } from '../elders/import-events';
import { AbsenceEnd, AbsenceInput, AbsenceListQuery, invalid, parseAbsenceBody, toInstant } from './absence-input';

export interface AbsenceView {
  id: string;
  elderId: string;
  kind: StoredAbsence['kind'];
  from: string;
  to: string | null;
  note: string | null;
  /** Open-ended, or ending after the time of the request. */
  current: boolean;
  recordedBy: string;
  recordedAt: string;
  endedBy: string | null;
  version: number;
}

/** How far ahead an absence may be planned (a trip booked next month), and how often a write may lose a race. */
const MAX_AHEAD_MS = 366 * 24 * 60 * 60 * 1000;
const MAX_ATTEMPTS = 4;

const overlaps = (a: { from: string; to: string | null }, b: { from: string; to: string | null }) =>
  (a.to === null || b.from < a.to) && (b.to === null || a.from < b.to);

/**
 * Temporary absences of an elder (away from home, in hospital) — what billing needs to flag services
 * charged while the elder was not there. Stored inside the elder's own document, so recording one and
 * its event are one atomic write (the outbox, ADR 0002), ordered with the elder's other events.
 * Periods of one elder never overlap; writes are guarded by `absencesRev`, so two admins recording
 * overlapping periods at once cannot both succeed.
 */
@Injectable()
export class AbsencesService {
  constructor(
    @InjectModel(Elder.name) private readonly elders: Model<Elder>,
    private readonly elderRecords: EldersService,
    private readonly audit: AuditService,
    private readonly events: Events,
    private readonly relay: ImportEventBatches,
  ) {}

  private get collection(): Collection<Elder> {
    return this.elders.collection as unknown as Collection<Elder>;
  }

  async record(principal: Principal, elderId: string, body: unknown, idempotencyKey: string | undefined, origin: RequestOrigin): Promise<{ created: boolean; absence: AbsenceView }> {
    const input = parseAbsenceBody(AbsenceInput, body);
    const now = new Date();
    const from = toInstant(input.from, false);
    const to = input.to == null ? null : toInstant(input.to, true);
    if (to && to <= from) invalid('to', 'to: must be after from', '结束时间须晚于开始时间');
    if (from.getTime() > now.getTime() + MAX_AHEAD_MS) invalid('from', 'from: at most one year ahead', '开始时间最多可提前一年登记');
    // A retried request with the same Idempotency-Key names the same absence and is answered with it.
    const absenceId = idempotencyKey ? deterministicId(elderId, idempotencyKey) : uuidv7();

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const elder = await this.elderRecords.findWritable(principal, elderId);
      const existing = elder.absences.find((a) => a.absenceId === absenceId);
      if (existing) return { created: false, absence: view(elderId, existing, now) };
      if (elder.status !== 'ACTIVE') {
        throw new AppError('REGISTRY.ELDER_NOT_ACTIVE', 409, `The elder is ${elder.status}; absences are recorded for active elders only`, {
          messageZh: '该老人不在册（已迁出或已故），不能登记临时离开',
        });
      }
      const absence: StoredAbsence = {
        absenceId,
        kind: input.kind,
        from: from.toISOString(),
        to: to?.toISOString() ?? null,
        note: input.note || null,
        recordedBy: principal.userId,
        recordedAt: now.toISOString(),
        endedBy: null,
        version: 1,
      };
      const clash = elder.absences.find((a) => overlaps(a, absence));
      if (clash) throw overlapError(clash);
      const event = this.events.create(ElderAbsenceRecorded, {
        key: elderId,
        correlationId: origin.correlationId,
        payload: { ...eventFields(elderId, elder.regionCode, absence), absence: snapshot(elderId, elder.regionCode, absence) },
      });
      if (await this.write(elderId, elder.absencesRev, { $push: { absences: absence } }, event)) {
        await this.audit.record({
          action: 'ELDER_ABSENCE_RECORDED',
          actor: principal,
          elderId,
          regionPath: elder.regionPath,
          fields: ['absences'],
          origin,
          details: { absenceId, kind: absence.kind, from: absence.from, to: absence.to },
        });
        return { created: true, absence: view(elderId, absence, now) };
      }
    }
    throw raced();
  }

  async end(principal: Principal, elderId: string, absenceId: string, body: unknown, origin: RequestOrigin): Promise<AbsenceView> {
    const input = parseAbsenceBody(AbsenceEnd, body);
    const now = new Date();
    const to = input.to ? toInstant(input.to, true) : now;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const elder = await this.elderRecords.findWritable(principal, elderId);
      const index = elder.absences.findIndex((a) => a.absenceId === absenceId);
      if (index < 0) throw new AppError('REGISTRY.ABSENCE_NOT_FOUND', 404, 'Absence not found', { messageZh: '未找到该临时离开记录' });
      const current = elder.absences[index];
      // Over already: ending it again would rewrite history; a planned end still in the future may be brought forward.
      if (current.to !== null && current.to <= now.toISOString()) {
        throw new AppError('REGISTRY.ABSENCE_ALREADY_ENDED', 409, `The absence already ended at ${current.to}`, {
          messageZh: `该临时离开已于 ${current.to} 结束`,
          details: { to: current.to },
        });
      }
      if (to.toISOString() <= current.from) invalid('to', 'to: must be after the absence began', '结束时间须晚于开始时间');
      const ended: StoredAbsence = {
        ...current,
        to: to.toISOString(),
        note: input.note ? [current.note, input.note].filter(Boolean).join('\n') : current.note,
        endedBy: principal.userId,
        version: current.version + 1,
      };
      const clash = elder.absences.find((a, i) => i !== index && overlaps(a, ended));
      if (clash) throw overlapError(clash);
      const absences = elder.absences.map((a, i) => (i === index ? ended : a));
      const event = this.events.create(ElderAbsenceEnded, {
        key: elderId,
        correlationId: origin.correlationId,
        payload: {
          ...eventFields(elderId, elder.regionCode, ended),
          to: ended.to as string,
          previousTo: current.to,
          absence: snapshot(elderId, elder.regionCode, ended),
        },
      });
      if (await this.write(elderId, elder.absencesRev, { $set: { absences } }, event)) {
        await this.audit.record({
          action: 'ELDER_ABSENCE_ENDED',
          actor: principal,
          elderId,
          regionPath: elder.regionPath,
          fields: ['absences'],
          origin,
          details: { absenceId, to: ended.to, previousTo: current.to },
        });
        return view(elderId, ended, now);
      }
    }
    throw raced();
  }

  async list(principal: Principal, elderId: string, query: Record<string, unknown>): Promise<{ items: AbsenceView[]; total: number }> {
    const q = parseAbsenceBody(AbsenceListQuery, query);
    const elder = await this.elderRecords.findReadable(principal, elderId);
    const now = new Date();
    const items = [...elder.absences]
      .sort((a, b) => (a.from < b.from ? 1 : a.from > b.from ? -1 : 0))
      .map((a) => view(elderId, a, now))
      .filter((a) => q.current !== 'true' || a.current);
    return { items, total: items.length };
  }

  /** One guarded single-document write: the absences change and its event, or neither. */
  private async write(elderId: string, rev: number, change: { $push?: object; $set?: object }, event: PendingEvent): Promise<boolean> {
    const guard = rev === 0 ? { $in: [0, null] } : rev;
    const update = elderOutbox({ ...change, $set: { ...(change.$set ?? {}), absencesRev: rev + 1, updatedAt: new Date() } }, [event]);
    const res = await this.collection.updateOne({ _id: elderId, absencesRev: guard } as never, update as never);
    if (res.matchedCount === 0) return false;
    this.relay.nudge();
    return true;
  }
}

function eventFields(elderId: string, regionCode: string, a: StoredAbsence) {
  return { elderId, absenceId: a.absenceId, kind: a.kind, from: a.from, to: a.to, regionCode };
}

function snapshot(elderId: string, regionCode: string, a: StoredAbsence): AbsenceSnapshot {
  return { absenceId: a.absenceId, elderId, regionCode, kind: a.kind, from: a.from, to: a.to, version: a.version };
}

function view(elderId: string, a: StoredAbsence, now: Date): AbsenceView {
  return {
    id: a.absenceId,
    elderId,
    kind: a.kind,
    from: a.from,
    to: a.to,
    note: a.note,
    current: a.to === null || a.to > now.toISOString(),
    recordedBy: a.recordedBy,
    recordedAt: a.recordedAt,
    endedBy: a.endedBy,
    version: a.version,
  };
}

function deterministicId(elderId: string, key: string): string {
  const h = createHash('sha256').update(`absence|${elderId}|${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function overlapError(clash: StoredAbsence): AppError {
  return new AppError('REGISTRY.ABSENCE_OVERLAP', 409, `Overlaps absence ${clash.absenceId} (${clash.from} – ${clash.to ?? 'open'})`, {
    field: 'from',
    messageZh: `与已登记的临时离开（${clash.from} 起${clash.to ? `，至 ${clash.to}` : '，尚未结束'}）时间重叠；请先结束或调整该记录`,
    details: { absenceId: clash.absenceId, from: clash.from, to: clash.to },
  });
}

function raced(): AppError {
  return new AppError('REGISTRY.CONCURRENT_UPDATE', 409, 'Elder changed meanwhile; reload and retry', { messageZh: '档案已被他人修改，请刷新后重试' });
}
