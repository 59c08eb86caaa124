import {
  createParamDecorator,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import { AppError } from '../errors';
import { verifyInternalToken } from './internal-token';
import type { Principal, Role } from './principal';

const PUBLIC = Symbol('yiyang:public');
const ROLES_ALLOWED = Symbol('yiyang:roles');

/** Operations endpoints (health, metrics) that need no principal. */
export const Public = () => SetMetadata(PUBLIC, true);

/** Function-level authorisation: only these roles may call the route. */
export const AllowRoles = (...roles: Role[]) => SetMetadata(ROLES_ALLOWED, roles);

type WithPrincipal = { principal?: Principal; headers: Record<string, string | string[] | undefined> };

/** The principal the gateway vouched for; only on routes behind the guard. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<WithPrincipal>().principal;
  if (!principal) throw new AppError('AUTH.UNAUTHENTICATED', 401, 'No principal on this request', { messageZh: '未登录' });
  return principal;
});

/**
 * Services trust only the gateway's short-lived internal token (design.md). Every route needs one
 * unless marked @Public(); routes marked @AllowRoles(...) also check the role. Object-level checks
 * (region, provider, family) are the feature's job, using the principal this guard attaches.
 */
@Injectable()
export class InternalAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly config: ConfigService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<WithPrincipal>();
    const header = request.headers['authorization'];
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!token) {
      throw new AppError('AUTH.UNAUTHENTICATED', 401, 'Missing internal token', { messageZh: '缺少内部令牌' });
    }
    try {
      request.principal = verifyInternalToken(this.config.getOrThrow<string>('INTERNAL_TOKEN_SECRET'), token);
    } catch {
      throw new AppError('AUTH.UNAUTHENTICATED', 401, 'Invalid or expired internal token', { messageZh: '内部令牌无效或已过期' });
    }
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_ALLOWED, targets);
    if (allowed && !allowed.includes(request.principal.role)) {
      throw new AppError('AUTH.FORBIDDEN', 403, `Role ${request.principal.role} may not do this`, { messageZh: '无权执行此操作' });
    }
    return true;
  }
}
