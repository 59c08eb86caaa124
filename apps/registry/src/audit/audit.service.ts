import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Principal } from '@yiyang/service-kit';
import { parseInput, PageQuery, type Page } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { regionScopeFilter } from '../shared/scope';
import { AuditEntry } from './audit.schema';

export const AuditActions = {
  ELDER_PII_REVEALED: { zh: '查看未脱敏个人信息' },
  ELDER_REGISTERED: { zh: '登记老人' },
  ELDER_UPDATED: { zh: '修改老人档案' },
  ELDER_STATUS_CHANGED: { zh: '变更老人状态' },
  ELDER_ASSESSED: { zh: '记录能力评估' },
  ELDER_CATEGORIES_DERIVED: { zh: '系统更新高龄类别' },
  ELDER_ABSENCE_RECORDED: { zh: '登记临时离开（外出/住院）' },
  ELDER_ABSENCE_ENDED: { zh: '结束临时离开' },
  ELDER_ROSTER_BATCH_IMPORTED: { zh: '花名册批量导入（每批一条）' },
} as const;
export type AuditAction = keyof typeof AuditActions;

/** Where a request came from, for the log line. */
export interface RequestOrigin {
  correlationId: string;
  ip?: string | null;
}

export interface AuditRecord {
  action: AuditAction;
  actor: Pick<Principal, 'userId' | 'role'> | { userId: string; role: 'system' };
  elderId: string | null;
  /** A batch entry (the roster import) names every elder it touched here. */
  elderIds?: string[];
  regionPath: string[];
  fields?: string[];
  origin: RequestOrigin;
  details?: Record<string, unknown>;
}

const AuditQuery = PageQuery.extend({
  action: z.enum(Object.keys(AuditActions) as [AuditAction, ...AuditAction[]]).optional(),
  elderId: z.string().min(1).max(64).optional(),
  userId: z.string().min(1).max(128).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

export interface AuditView {
  id: string;
  at: string;
  action: AuditAction;
  actionZh: string;
  actor: { userId: string; role: string };
  elderId: string | null;
  fields: string[];
  correlationId: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
}

@Injectable()
export class AuditService {
  constructor(@InjectModel(AuditEntry.name) private readonly entries: Model<AuditEntry>) {}

  async record(record: AuditRecord): Promise<void> {
    await this.recordMany([record]);
  }

  async recordMany(records: AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const at = new Date();
    await this.entries.collection.insertMany(
      records.map((r) => ({
        _id: uuidv7(),
        at,
        action: r.action,
        actor: { userId: r.actor.userId, role: r.actor.role },
        elderId: r.elderId,
        ...(r.elderIds ? { elderIds: r.elderIds } : {}),
        regionPath: r.regionPath,
        fields: r.fields ?? [],
        correlationId: r.origin.correlationId,
        ip: r.origin.ip ?? null,
        details: r.details ?? null,
      })) as never[],
      { ordered: false },
    );
  }

  async list(principal: Principal, query: unknown): Promise<Page<AuditView>> {
    const q = parseInput(AuditQuery, query);
    const filter: Record<string, unknown> = { ...regionScopeFilter(principal) };
    if (q.action) filter['action'] = q.action;
    // An elder's entries: their own, and the roster batches that registered or changed them.
    if (q.elderId) filter['$or'] = [{ elderId: q.elderId }, { elderIds: q.elderId }];
    if (q.userId) filter['actor.userId'] = q.userId;
    if (q.from || q.to) filter['at'] = { ...(q.from ? { $gte: new Date(q.from) } : {}), ...(q.to ? { $lt: new Date(q.to) } : {}) };
    const [items, total] = await Promise.all([
      this.entries
        .find(filter)
        .sort({ at: -1, _id: -1 })
        .skip((q.page - 1) * q.pageSize)
        .limit(q.pageSize)
        .lean(),
      this.entries.countDocuments(filter),
    ]);
    return {
      items: items.map((e) => ({
        id: e._id,
        at: e.at.toISOString(),
        action: e.action as AuditAction,
        actionZh: AuditActions[e.action as AuditAction]?.zh ?? e.action,
        actor: e.actor,
        elderId: e.elderId,
        fields: e.fields,
        correlationId: e.correlationId,
        ip: e.ip,
        details: e.details,
      })),
      page: q.page,
      pageSize: q.pageSize,
      total,
    };
  }
}
