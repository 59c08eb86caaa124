import { applyDecorators, Injectable, SetMetadata, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import { AppError, Public, type Role } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import type { AuditOrigin } from '../audit/audit.service';
import { forbidden } from '../http/problems';
import type { SignedIn } from './access-token';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the gateway's onRequest hook when a valid access token came with the request. */
    signedIn?: SignedIn;
    /** Why a presented token was refused (expired, invalid, revoked). */
    authFailure?: string;
    /** Mirrors signedIn.principal so the service kit's @CurrentPrincipal() works on gateway routes. */
    principal?: SignedIn['principal'];
  }
}

const ROLES = Symbol('gateway:roles');

export function authFailureError(code: string | undefined): AppError {
  switch (code) {
    case 'AUTH.TOKEN_EXPIRED':
      return new AppError(code, 401, 'The access token has expired; refresh it', { messageZh: '访问令牌已过期，请刷新' });
    case 'AUTH.SESSION_REVOKED':
      return new AppError(code, 401, 'This session has ended; sign in again', { messageZh: '会话已结束，请重新登录' });
    case 'AUTH.INVALID_TOKEN':
      return new AppError(code, 401, 'The access token is not valid', { messageZh: '访问令牌无效' });
    default:
      return new AppError('AUTH.UNAUTHENTICATED', 401, 'Sign in first', { messageZh: '请先登录' });
  }
}

@Injectable()
export class SignedInGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!request.signedIn) throw authFailureError(request.authFailure);
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [context.getHandler(), context.getClass()]);
    if (roles && !roles.includes(request.signedIn.principal.role)) throw forbidden();
    return true;
  }
}

/**
 * A gateway route for signed-in users (optionally only these roles). `@Public()` only tells the
 * service kit's internal-token guard to stand aside: the gateway checks the PUBLIC access token.
 */
export const SignedInOnly = (...roles: Role[]) =>
  applyDecorators(Public(), SetMetadata(ROLES, roles.length ? roles : undefined), UseGuards(SignedInGuard), ApiBearerAuth());

export const originOf = (req: FastifyRequest): AuditOrigin => ({
  correlationId: String(req.id),
  ip: req.ip ?? null,
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
});
