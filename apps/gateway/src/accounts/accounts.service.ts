import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { regionPath } from '@yiyang/geo';
import { isDuplicateKeyError } from '@yiyang/messaging';
import { AppError, parseInput } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { newRefreshToken, signAccessToken, secretMatches, splitRefreshToken, type SignedIn } from '../access/access-token';
import { Authenticator } from '../access/authenticator';
import { AuditService, type AuditOrigin } from '../audit/audit.service';
import { dummyHash, hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords';
import { RefreshToken, Session, User } from './user.schema';
import { principalOf, userView, type UserView } from './views';

export interface TokenResponse {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  user: UserView;
}

export const LoginInput = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
export const RefreshInput = z.strictObject({ refreshToken: z.string().min(1).max(256) });
export const ChangePasswordInput = z.strictObject({ currentPassword: z.string().min(1).max(256), newPassword: z.string().min(1).max(256) });

const invalidCredentials = () =>
  new AppError('AUTH.INVALID_CREDENTIALS', 401, 'Wrong username or password', { messageZh: '用户名或密码错误' });
const invalidRefresh = () =>
  new AppError('AUTH.INVALID_REFRESH_TOKEN', 401, 'The refresh token is not valid; sign in again', { messageZh: '刷新令牌无效，请重新登录' });

export const normaliseUsername = (u: string) => u.trim().toLowerCase();

@Injectable()
export class AccountsService implements OnApplicationBootstrap {
  private readonly log = new Logger('Accounts');
  private readonly cfg: {
    secret: string;
    accessTtl: number;
    refreshTtl: number;
    sessionMaxAge: number;
    lockThreshold: number;
    lockSeconds: number;
  };

  constructor(
    private readonly config: ConfigService,
    @InjectModel(User.name) private readonly users: Model<User>,
    @InjectModel(Session.name) private readonly sessions: Model<Session>,
    @InjectModel(RefreshToken.name) private readonly refreshTokens: Model<RefreshToken>,
    private readonly authenticator: Authenticator,
    private readonly audit: AuditService,
  ) {
    this.cfg = {
      secret: config.getOrThrow('GATEWAY_JWT_SECRET'),
      accessTtl: Number(config.get('ACCESS_TOKEN_TTL_SECONDS')),
      refreshTtl: Number(config.get('REFRESH_TOKEN_TTL_SECONDS')),
      sessionMaxAge: Number(config.get('SESSION_MAX_AGE_SECONDS')),
      lockThreshold: Number(config.get('LOCKOUT_THRESHOLD')),
      lockSeconds: Number(config.get('LOCKOUT_SECONDS')),
    };
  }

  /** The initial administrator: created from YIYANG_ADMIN_USERNAME/PASSWORD when no user exists yet. Never a built-in password. */
  async onApplicationBootstrap(): Promise<void> {
    const username = this.config.get<string>('YIYANG_ADMIN_USERNAME');
    const password = this.config.get<string>('YIYANG_ADMIN_PASSWORD');
    if (!username || !password) {
      if ((await this.users.estimatedDocumentCount()) === 0) {
        this.log.warn('No users yet and YIYANG_ADMIN_USERNAME / YIYANG_ADMIN_PASSWORD are not set: nobody can sign in until they are');
      }
      return;
    }
    const id = normaliseUsername(username);
    if (await this.users.exists({ _id: id })) return;
    if ((await this.users.estimatedDocumentCount()) > 0) {
      this.log.warn(`Users exist already; the initial admin ${id} from YIYANG_ADMIN_USERNAME is not created`);
      return;
    }
    if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(id)) throw new Error('Configuration invalid — YIYANG_ADMIN_USERNAME is invalid: 3–64 of a-z 0-9 . _ -');
    const problem = passwordProblem(password, id);
    if (problem) throw new Error(`Configuration invalid — YIYANG_ADMIN_PASSWORD is invalid: ${problem.message}`);
    const regionCode = String(this.config.getOrThrow('YIYANG_ADMIN_REGION_CODE'));
    const now = new Date();
    try {
      await this.users.collection.insertOne({
        _id: id,
        displayName: '系统管理员',
        role: 'civil_affairs_admin',
        regionCode,
        regionPath: regionPath(regionCode),
        providerId: null,
        caregiverId: null,
        elderIds: [],
        passwordHash: await hashPassword(password),
        passwordChangedAt: now,
        failedLogins: 0,
        lockedUntil: null,
        active: true,
        createdAt: now,
        createdBy: 'config',
        updatedAt: now,
        lastLoginAt: null,
      } as never);
      this.log.log(`Initial administrator ${id} created for region ${regionCode}`);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error; // another replica created it first
    }
  }

  async login(body: unknown, origin: AuditOrigin): Promise<TokenResponse> {
    const input = parseInput(LoginInput, body);
    const id = normaliseUsername(input.username);
    const user = await this.users.findById(id).lean();
    const now = Date.now();
    if (!user || !user.active) {
      await verifyPassword(await dummyHash(), input.password);
      await this.audit.record({ action: 'AUTH_LOGIN_FAILED', actor: { userId: id.slice(0, 64), role: user?.role ?? 'anonymous' }, regionPath: user?.regionPath ?? [], origin, details: { reason: user ? 'DISABLED' : 'UNKNOWN_USER' } });
      throw invalidCredentials();
    }
    const actor = { userId: user._id, role: user.role };
    if (user.lockedUntil && user.lockedUntil.getTime() > now) throw this.locked(user.lockedUntil);
    if (!(await verifyPassword(user.passwordHash, input.password))) {
      const updated = await this.users.findOneAndUpdate({ _id: id }, { $inc: { failedLogins: 1 } }, { new: true }).lean(); // no projection: FerretDB's findAndModify does not support one
      const failures = updated?.failedLogins ?? 1;
      if (failures >= this.cfg.lockThreshold) {
        const until = new Date(now + this.cfg.lockSeconds * 1000);
        await this.users.updateOne({ _id: id }, { $set: { lockedUntil: until, failedLogins: 0, updatedAt: new Date() } });
        await this.audit.record({ action: 'AUTH_ACCOUNT_LOCKED', actor, regionPath: user.regionPath, origin, details: { failures, lockedUntil: until.toISOString() } });
        throw this.locked(until);
      }
      await this.audit.record({ action: 'AUTH_LOGIN_FAILED', actor, regionPath: user.regionPath, origin, details: { reason: 'WRONG_PASSWORD', failures } });
      throw invalidCredentials();
    }
    // The user document is written only when something changed (failures to clear, a stronger hash,
    // a last sign-in older than an hour): sign-in stays at two writes (session, refresh token) + audit.
    const set: Record<string, unknown> = {};
    if (user.failedLogins > 0 || user.lockedUntil) Object.assign(set, { failedLogins: 0, lockedUntil: null });
    if (!user.lastLoginAt || now - user.lastLoginAt.getTime() > 3_600_000) set['lastLoginAt'] = new Date(now);
    if (needsRehash(user.passwordHash)) set['passwordHash'] = await hashPassword(input.password);
    const sessionId = randomUUID();
    const expiresAt = new Date(now + this.cfg.sessionMaxAge * 1000);
    // Independent writes, issued together: sign-in latency is one database round trip, not four.
    const [, , tokens] = await Promise.all([
      Object.keys(set).length ? this.users.updateOne({ _id: id }, { $set: set }) : Promise.resolve(),
      this.sessions.collection.insertOne({ _id: sessionId, userId: id, createdAt: new Date(now), expiresAt, revokedAt: null, revokedReason: null, ip: origin.ip, userAgent: origin.userAgent?.slice(0, 256) ?? null } as never),
      this.issue({ ...user, lastLoginAt: (set['lastLoginAt'] as Date | undefined) ?? user.lastLoginAt }, sessionId, expiresAt),
      this.audit.record({ action: 'AUTH_LOGIN', actor, regionPath: user.regionPath, origin, details: { sessionId } }),
    ]);
    return tokens;
  }

  async refresh(body: unknown, origin: AuditOrigin): Promise<TokenResponse> {
    const input = parseInput(RefreshInput, body);
    const parts = splitRefreshToken(input.refreshToken);
    if (!parts) throw invalidRefresh();
    const record = await this.refreshTokens.findById(parts.id).lean();
    if (!record || !secretMatches(parts.secret, record.secretHash)) throw invalidRefresh();
    const session = await this.sessions.findById(record.sessionId).lean();
    const now = Date.now();
    if (!session || session.revokedAt || session.expiresAt.getTime() <= now) {
      throw new AppError('AUTH.SESSION_REVOKED', 401, 'This session has ended; sign in again', { messageZh: '会话已结束，请重新登录' });
    }
    const user = await this.users.findById(record.userId).lean();
    if (record.usedAt || !(await this.claim(record._id))) {
      // A refresh token is used once. Seeing it again means it leaked (or was stolen and used first):
      // end the whole family, so neither the thief nor the owner can go on with it.
      await this.revokeSession(session._id, 'REFRESH_TOKEN_REUSED');
      await this.audit.record({ action: 'AUTH_REFRESH_REUSED', actor: { userId: record.userId, role: user?.role ?? 'unknown' }, regionPath: user?.regionPath ?? [], origin, details: { sessionId: session._id } });
      throw new AppError('AUTH.REFRESH_TOKEN_REUSED', 401, 'This refresh token was already used; the session has been ended for safety', {
        messageZh: '刷新令牌已被使用，为安全起见会话已结束，请重新登录',
      });
    }
    if (record.expiresAt.getTime() <= now) throw invalidRefresh();
    if (!user || !user.active) {
      await this.revokeSession(session._id, 'USER_DISABLED');
      throw invalidRefresh();
    }
    return this.issue(user, session._id, session.expiresAt);
  }

  async logout(body: unknown, origin: AuditOrigin): Promise<void> {
    const input = parseInput(RefreshInput, body);
    const parts = splitRefreshToken(input.refreshToken);
    if (!parts) return;
    const record = await this.refreshTokens.findById(parts.id).lean();
    if (!record || !secretMatches(parts.secret, record.secretHash)) return;
    if (await this.revokeSession(record.sessionId, 'LOGOUT')) {
      const user = await this.users.findById(record.userId, { role: 1, regionPath: 1 }).lean();
      await this.audit.record({ action: 'AUTH_LOGOUT', actor: { userId: record.userId, role: user?.role ?? 'unknown' }, regionPath: user?.regionPath ?? [], origin, details: { sessionId: record.sessionId } });
    }
  }

  async me(signedIn: SignedIn): Promise<UserView> {
    const user = await this.users.findById(signedIn.userId).lean();
    if (!user) throw new AppError('AUTH.SESSION_REVOKED', 401, 'This session has ended; sign in again', { messageZh: '会话已结束，请重新登录' });
    return userView(user);
  }

  async changePassword(signedIn: SignedIn, body: unknown, origin: AuditOrigin): Promise<void> {
    const input = parseInput(ChangePasswordInput, body);
    const user = await this.users.findById(signedIn.userId).lean();
    if (!user || !(await verifyPassword(user.passwordHash, input.currentPassword))) {
      throw new AppError('AUTH.INVALID_CREDENTIALS', 401, 'The current password is wrong', { field: 'currentPassword', messageZh: '当前密码错误' });
    }
    const problem = passwordProblem(input.newPassword, user._id);
    if (problem) throw new AppError(problem.code, 400, problem.message, { field: 'newPassword', messageZh: problem.messageZh });
    await this.users.updateOne({ _id: user._id }, { $set: { passwordHash: await hashPassword(input.newPassword), passwordChangedAt: new Date(), updatedAt: new Date() } });
    await this.revokeUserSessions(user._id, 'PASSWORD_CHANGED', signedIn.sessionId);
    await this.audit.record({ action: 'PASSWORD_CHANGED', actor: { userId: user._id, role: user.role }, regionPath: user.regionPath, origin });
  }

  /** Ends every session of a user (disabled, password reset), except `keep`. */
  async revokeUserSessions(userId: string, reason: string, keep?: string): Promise<void> {
    const open = await this.sessions.find({ userId, revokedAt: null }, { _id: 1 }).lean();
    for (const s of open) if (s._id !== keep) await this.revokeSession(s._id, reason);
  }

  private async revokeSession(sessionId: string, reason: string): Promise<boolean> {
    this.authenticator.forgetSession(sessionId);
    const result = await this.sessions.updateOne({ _id: sessionId, revokedAt: null }, { $set: { revokedAt: new Date(), revokedReason: reason } });
    return result.modifiedCount > 0;
  }

  /** Marks a refresh token used — atomically, so two concurrent uses cannot both succeed. */
  private async claim(tokenId: string): Promise<boolean> {
    const result = await this.refreshTokens.updateOne({ _id: tokenId, usedAt: null }, { $set: { usedAt: new Date() } });
    return result.modifiedCount === 1;
  }

  private async issue(user: User, sessionId: string, sessionExpiresAt: Date): Promise<TokenResponse> {
    const now = Date.now();
    const refresh = newRefreshToken();
    await this.refreshTokens.collection.insertOne({
      _id: refresh.id,
      sessionId,
      userId: user._id,
      secretHash: refresh.secretHash,
      createdAt: new Date(now),
      expiresAt: new Date(Math.min(now + this.cfg.refreshTtl * 1000, sessionExpiresAt.getTime())),
      usedAt: null,
    } as never);
    return {
      accessToken: signAccessToken(this.cfg.secret, this.cfg.accessTtl, sessionId, principalOf(user), user.regionCode),
      refreshToken: refresh.token,
      tokenType: 'Bearer',
      expiresIn: this.cfg.accessTtl,
      user: userView(user, now),
    };
  }

  private locked(until: Date): AppError {
    return new AppError('AUTH.ACCOUNT_LOCKED', 423, 'Too many failed sign-ins; the account is locked for a while', {
      messageZh: '登录失败次数过多，账号已临时锁定',
      details: { lockedUntil: until.toISOString(), retryAfterSeconds: Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000)) },
    });
  }
}
