import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { parseInput, REGION_ROLES, type Principal } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { forbidden } from '../http/problems';
import { GatewayAuditEntry } from './audit.schema';

export const AuditActions = {
  AUTH_LOGIN: { zh: '登录' },
  AUTH_LOGIN_FAILED: { zh: '登录失败' },
  AUTH_ACCOUNT_LOCKED: { zh: '账号被锁定' },
  AUTH_REFRESH_REUSED: { zh: '刷新令牌被重用，会话已吊销' },
  AUTH_LOGOUT: { zh: '退出登录' },
  PASSWORD_CHANGED: { zh: '修改密码' },
  USER_CREATED: { zh: '创建用户' },
  USER_UPDATED: { zh: '修改用户' },
  USER_PASSWORD_RESET: { zh: '重置用户密码' },
  API_WRITE: { zh: '写操作' },
  PII_UNMASKED_READ: { zh: '查看未脱敏个人信息' },
} as const;
export type AuditAction = keyof typeof AuditActions;

export interface AuditOrigin {
  correlationId: string;
  ip: string | null;
  userAgent?: string | null;
}

export interface AuditRecord {
  action: AuditAction;
  actor: { userId: string; role: string };
  regionPath: string[];
  method?: string;
  path?: string;
  status?: number;
  origin: AuditOrigin;
  details?: Record<string, unknown>;
}

const AuditQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(20),
  action: z.enum(Object.keys(AuditActions) as [AuditAction, ...AuditAction[]]).optional(),
  userId: z.string().min(1).max(64).optional(),
  correlationId: z.string().min(1).max(128).optional(),
  method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE', 'GET']).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

export interface AuditView {
  id: string;
  at: string;
  action: AuditAction;
  actionZh: string;
  actor: { userId: string; role: string };
  method: string | null;
  path: string | null;
  status: number | null;
  correlationId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown> | null;
}

interface Pending {
  doc: Record<string, unknown>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Appends audit entries. Concurrent requests are written together (one `insertMany` per event-loop
 * turn), and every caller's promise settles only once its entry is stored — a request that must be
 * audited is not answered before its entry is on disk.
 */
@Injectable()
export class AuditService implements OnModuleDestroy {
  private readonly log = new Logger('Audit');
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;

  constructor(@InjectModel(GatewayAuditEntry.name) private readonly entries: Model<GatewayAuditEntry>) {}

  record(record: AuditRecord): Promise<void> {
    const doc = {
      _id: uuidv7(),
      at: new Date(),
      action: record.action,
      actor: { userId: record.actor.userId, role: record.actor.role },
      regionPath: record.regionPath,
      method: record.method ?? null,
      path: record.path ?? null,
      status: record.status ?? null,
      correlationId: record.origin.correlationId,
      ip: record.origin.ip,
      userAgent: record.origin.userAgent?.slice(0, 256) ?? null,
      details: record.details ?? null,
    };
    return new Promise((resolve, reject) => {
      this.queue.push({ doc, resolve, reject });
      if (!this.flushing) this.flushing = new Promise<void>((r) => setImmediate(r)).then(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, 500);
      try {
        await this.entries.collection.insertMany(batch.map((p) => p.doc) as never[], { ordered: false });
        for (const p of batch) p.resolve();
      } catch (error) {
        this.log.error({ err: error, entries: batch.length }, 'audit write failed');
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = null;
  }

  async onModuleDestroy(): Promise<void> {
    await this.flushing;
  }

  async list(principal: Principal, query: unknown): Promise<{ items: AuditView[]; page: number; pageSize: number; total: number }> {
    if (!REGION_ROLES.includes(principal.role) || !principal.regionCode) throw forbidden();
    const q = parseInput(AuditQuery, query);
    const filter: Record<string, unknown> = { regionPath: principal.regionCode };
    if (q.action) filter['action'] = q.action;
    if (q.userId) filter['actor.userId'] = q.userId;
    if (q.correlationId) filter['correlationId'] = q.correlationId;
    if (q.method) filter['method'] = q.method;
    if (q.from || q.to) filter['at'] = { ...(q.from ? { $gte: new Date(q.from) } : {}), ...(q.to ? { $lt: new Date(q.to) } : {}) };
    const [items, total] = await Promise.all([
      this.entries.find(filter).sort({ at: -1, _id: -1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean(),
      this.entries.countDocuments(filter),
    ]);
    return {
      items: items.map((e) => ({
        id: e._id,
        at: e.at.toISOString(),
        action: e.action as AuditAction,
        actionZh: AuditActions[e.action as AuditAction]?.zh ?? e.action,
        actor: e.actor,
        method: e.method,
        path: e.path,
        status: e.status,
        correlationId: e.correlationId,
        ip: e.ip,
        userAgent: e.userAgent,
        details: e.details,
      })),
      page: q.page,
      pageSize: q.pageSize,
      total,
    };
  }
}
