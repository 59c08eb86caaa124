import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { isRegionCode, regionPath, regionWithin } from '@yiyang/geo';
import { isDuplicateKeyError } from '@yiyang/messaging';
import { AppError, mintInternalToken, parseInput, ROLES, type Principal, type Role } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { AuditService, type AuditOrigin } from '../audit/audit.service';
import { Upstreams } from '../proxy/upstreams';
import { AccountsService } from './accounts.service';
import { hashPassword, passwordProblem } from './passwords';
import { User } from './user.schema';
import { userView, type UserView } from './views';

const Username = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, '3–64 characters: a-z, 0-9, . _ - (starting with a letter or digit)');
const RegionCode = z.string().refine(isRegionCode, 'must be a 12-digit region code');
const Id = z.string().min(1).max(64).regex(/^[\w.:-]+$/, 'letters, digits, _ . : - only');

export const CreateUserInput = z.strictObject({
  username: Username,
  displayName: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(256),
  role: z.enum(ROLES),
  regionCode: RegionCode,
  providerId: Id.optional(),
  caregiverId: Id.optional(),
  elderIds: z.array(Id).min(1).max(20).optional(),
});

export const UpdateUserInput = z.strictObject({
  displayName: z.string().trim().min(1).max(64).optional(),
  active: z.boolean().optional(),
  /** Clears a lockout now rather than when it expires. */
  unlock: z.literal(true).optional(),
  /** A guardian's linked elders change over time. */
  elderIds: z.array(Id).min(1).max(20).optional(),
});

export const ResetPasswordInput = z.strictObject({ password: z.string().min(1).max(256) });

const ListQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(20),
  role: z.enum(ROLES).optional(),
  regionCode: RegionCode.optional(),
  active: z.enum(['true', 'false']).optional(),
  q: z.string().trim().min(1).max(64).optional(),
});

/** Which scope field each role must be bound to, and which it may carry. */
const BINDINGS: Record<Role, { required: ('providerId' | 'caregiverId' | 'elderIds')[]; allowed: ('providerId' | 'caregiverId' | 'elderIds')[] }> = {
  civil_affairs_admin: { required: [], allowed: [] },
  assessor: { required: [], allowed: [] },
  auditor: { required: [], allowed: [] },
  provider_operator: { required: ['providerId'], allowed: ['providerId'] },
  caregiver: { required: ['caregiverId'], allowed: ['caregiverId', 'providerId'] },
  elder: { required: ['elderIds'], allowed: ['elderIds'] },
  guardian: { required: ['elderIds'], allowed: ['elderIds'] },
};

const notFound = () => new AppError('USERS.USER_NOT_FOUND', 404, 'User not found', { messageZh: '未找到该用户' });

/**
 * Accounts managed by civil-affairs admins, each only inside their own region subtree: an admin
 * creates, sees and changes users whose region lies in it, and binds them only to providers,
 * caregivers and elders the registry shows that admin (asked as the admin, so the registry's own
 * scope rules decide).
 */
@Injectable()
export class UsersService {
  private readonly internalSecret: string;

  constructor(
    config: ConfigService,
    @InjectModel(User.name) private readonly users: Model<User>,
    private readonly accounts: AccountsService,
    private readonly audit: AuditService,
    private readonly upstreams: Upstreams,
  ) {
    this.internalSecret = config.getOrThrow('INTERNAL_TOKEN_SECRET');
  }

  async create(admin: Principal, body: unknown, origin: AuditOrigin): Promise<UserView> {
    const input = parseInput(CreateUserInput, body);
    const scope = this.scopeOf(admin);
    if (!regionWithin(input.regionCode, scope)) {
      throw new AppError('AUTH.FORBIDDEN', 403, 'You can only create users inside your own region', { field: 'regionCode', messageZh: '只能在本辖区内创建用户' });
    }
    const binding = BINDINGS[input.role];
    for (const field of binding.required) {
      if (input[field] === undefined) {
        throw new AppError('VALIDATION.INVALID_INPUT', 400, `${field}: required for role ${input.role}`, { field, messageZh: `字段 ${field} 为该角色必填` });
      }
    }
    for (const field of ['providerId', 'caregiverId', 'elderIds'] as const) {
      if (input[field] !== undefined && !binding.allowed.includes(field)) {
        throw new AppError('VALIDATION.INVALID_INPUT', 400, `${field}: not used for role ${input.role}`, { field, messageZh: `字段 ${field} 不适用于该角色` });
      }
    }
    if (input.role === 'elder' && input.elderIds && input.elderIds.length !== 1) {
      throw new AppError('VALIDATION.INVALID_INPUT', 400, 'elderIds: an elder account is bound to exactly one elder', { field: 'elderIds', messageZh: '老人账号只能绑定一位老人' });
    }
    const problem = passwordProblem(input.password, input.username);
    if (problem) throw new AppError(problem.code, 400, problem.message, { field: 'password', messageZh: problem.messageZh });
    await this.verifyBindings(admin, input);
    const now = new Date();
    const doc: User = {
      _id: input.username,
      displayName: input.displayName,
      role: input.role,
      regionCode: input.regionCode,
      regionPath: regionPath(input.regionCode),
      providerId: input.providerId ?? null,
      caregiverId: input.caregiverId ?? null,
      elderIds: input.elderIds ?? [],
      passwordHash: await hashPassword(input.password),
      passwordChangedAt: now,
      failedLogins: 0,
      lockedUntil: null,
      active: true,
      createdAt: now,
      createdBy: admin.userId,
      updatedAt: now,
      lastLoginAt: null,
    };
    try {
      await this.users.collection.insertOne(doc as never);
    } catch (error) {
      if (isDuplicateKeyError(error)) {
        throw new AppError('USERS.USERNAME_TAKEN', 409, 'This username is taken', { field: 'username', messageZh: '用户名已被占用' });
      }
      throw error;
    }
    await this.audit.record({
      action: 'USER_CREATED',
      actor: { userId: admin.userId, role: admin.role },
      regionPath: regionPath(scope),
      method: 'POST',
      path: '/api/v1/users',
      status: 201,
      origin,
      details: { username: doc._id, role: doc.role, regionCode: doc.regionCode, providerId: doc.providerId, caregiverId: doc.caregiverId, elderIds: doc.elderIds },
    });
    return userView(doc);
  }

  async list(admin: Principal, query: unknown) {
    const q = parseInput(ListQuery, query);
    const scope = this.scopeOf(admin);
    const filter: Record<string, unknown> = { regionPath: scope };
    if (q.regionCode) filter['regionPath'] = { $all: [scope, q.regionCode] };
    if (q.role) filter['role'] = q.role;
    if (q.active) filter['active'] = q.active === 'true';
    if (q.q) {
      const prefix = new RegExp(`^${q.q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i');
      filter['$or'] = [{ _id: prefix }, { displayName: prefix }];
    }
    const [items, total] = await Promise.all([
      this.users.find(filter).sort({ _id: 1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean(),
      this.users.countDocuments(filter),
    ]);
    return { items: items.map((u) => userView(u)), page: q.page, pageSize: q.pageSize, total };
  }

  async get(admin: Principal, id: string): Promise<UserView> {
    return userView(await this.inScope(admin, id));
  }

  async update(admin: Principal, id: string, body: unknown, origin: AuditOrigin): Promise<UserView> {
    const input = parseInput(UpdateUserInput, body);
    const user = await this.inScope(admin, id);
    if (input.active === false && user._id === admin.userId) {
      throw new AppError('USERS.CANNOT_DISABLE_SELF', 422, 'You cannot disable your own account', { field: 'active', messageZh: '不能停用自己的账号' });
    }
    if (input.elderIds && user.role !== 'guardian') {
      throw new AppError('VALIDATION.INVALID_INPUT', 400, 'elderIds: only a guardian\'s linked elders can change', { field: 'elderIds', messageZh: '只有监护人账号可以修改关联老人' });
    }
    if (input.elderIds) await this.verifyBindings(admin, { elderIds: input.elderIds });
    const set: Record<string, unknown> = { updatedAt: new Date() };
    if (input.displayName !== undefined) set['displayName'] = input.displayName;
    if (input.active !== undefined) set['active'] = input.active;
    if (input.unlock) Object.assign(set, { lockedUntil: null, failedLogins: 0 });
    if (input.elderIds) set['elderIds'] = input.elderIds;
    const updated = await this.users.findOneAndUpdate({ _id: user._id }, { $set: set }, { new: true }).lean();
    if (!updated) throw notFound();
    // A disabled account, or a guardian whose links changed, must not keep acting on the old grant.
    if (input.active === false || input.elderIds) await this.accounts.revokeUserSessions(user._id, input.active === false ? 'USER_DISABLED' : 'SCOPE_CHANGED');
    await this.audit.record({
      action: 'USER_UPDATED',
      actor: { userId: admin.userId, role: admin.role },
      regionPath: regionPath(this.scopeOf(admin)),
      method: 'PATCH',
      path: `/api/v1/users/${user._id}`,
      status: 200,
      origin,
      details: { username: user._id, changes: input },
    });
    return userView(updated);
  }

  async resetPassword(admin: Principal, id: string, body: unknown, origin: AuditOrigin): Promise<void> {
    const input = parseInput(ResetPasswordInput, body);
    const user = await this.inScope(admin, id);
    const problem = passwordProblem(input.password, user._id);
    if (problem) throw new AppError(problem.code, 400, problem.message, { field: 'password', messageZh: problem.messageZh });
    await this.users.updateOne({ _id: user._id }, { $set: { passwordHash: await hashPassword(input.password), passwordChangedAt: new Date(), lockedUntil: null, failedLogins: 0, updatedAt: new Date() } });
    await this.accounts.revokeUserSessions(user._id, 'PASSWORD_RESET');
    await this.audit.record({
      action: 'USER_PASSWORD_RESET',
      actor: { userId: admin.userId, role: admin.role },
      regionPath: regionPath(this.scopeOf(admin)),
      method: 'POST',
      path: `/api/v1/users/${user._id}/password`,
      status: 204,
      origin,
      details: { username: user._id },
    });
  }

  private scopeOf(admin: Principal): string {
    if (admin.role !== 'civil_affairs_admin' || !admin.regionCode) throw new AppError('AUTH.FORBIDDEN', 403, 'You may not do this', { messageZh: '无权执行此操作' });
    return admin.regionCode;
  }

  /** Out of scope and missing look the same (404): an admin learns nothing about other regions' accounts. */
  private async inScope(admin: Principal, rawId: string): Promise<User> {
    const scope = this.scopeOf(admin);
    const id = rawId.toLowerCase();
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(id)) throw notFound();
    const user = await this.users.findById(id).lean();
    if (!user || !user.regionPath.includes(scope)) throw notFound();
    return user;
  }

  /** Asks the registry, as this admin, whether each bound record exists in the admin's scope. */
  private async verifyBindings(admin: Principal, input: { providerId?: string; caregiverId?: string; elderIds?: string[] }): Promise<void> {
    const checks: { field: string; path: string }[] = [];
    if (input.providerId) checks.push({ field: 'providerId', path: `/providers/${encodeURIComponent(input.providerId)}` });
    if (input.caregiverId) checks.push({ field: 'caregiverId', path: `/caregivers/${encodeURIComponent(input.caregiverId)}` });
    for (const [i, elderId] of (input.elderIds ?? []).entries()) checks.push({ field: `elderIds.${i}`, path: `/elders/${encodeURIComponent(elderId)}` });
    const authorization = `Bearer ${mintInternalToken(this.internalSecret, admin)}`;
    for (const check of checks) {
      let status: number;
      try {
        const res = await this.upstreams.request('registry', { method: 'GET', path: check.path, headers: { authorization } }, true);
        status = res.statusCode;
        await res.body.dump();
      } catch {
        throw new AppError('GATEWAY.SERVICE_UNAVAILABLE', 503, 'The registry is unavailable, so the account cannot be bound now', { messageZh: '档案服务暂不可用，无法绑定账号' });
      }
      if (status === 200) continue;
      if (status === 404 || status === 403) {
        throw new AppError('USERS.BINDING_NOT_IN_SCOPE', 422, `${check.field}: no such record in your region`, { field: check.field, messageZh: `${check.field}：本辖区内无此记录` });
      }
      throw new AppError('GATEWAY.SERVICE_UNAVAILABLE', 503, 'The registry could not confirm the binding', { messageZh: '档案服务无法确认绑定' });
    }
  }
}
