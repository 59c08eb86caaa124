import { JwtService } from '@nestjs/jwt';
import { PrincipalSchema, type Principal } from './principal';

export const INTERNAL_TOKEN_ISSUER = 'yiyang-gateway';
export const INTERNAL_TOKEN_AUDIENCE = 'yiyang-services';
/** Short-lived: the gateway mints one per forwarded request; a leaked token is soon worthless. */
export const INTERNAL_TOKEN_TTL_SECONDS = 60;

const jwt = new JwtService();

/** Used by the gateway (and by tools and tests standing in for it) to vouch for a principal. */
export function mintInternalToken(secret: string, principal: Principal, ttlSeconds = INTERNAL_TOKEN_TTL_SECONDS): string {
  return jwt.sign(
    { principal: PrincipalSchema.parse(principal) },
    { secret, algorithm: 'HS256', issuer: INTERNAL_TOKEN_ISSUER, audience: INTERNAL_TOKEN_AUDIENCE, expiresIn: ttlSeconds, subject: principal.userId },
  );
}

/** Throws on a bad signature, a wrong issuer or audience, an expired token or a malformed principal. */
export function verifyInternalToken(secret: string, token: string): Principal {
  const payload = jwt.verify<{ principal: unknown }>(token, {
    secret,
    algorithms: ['HS256'],
    issuer: INTERNAL_TOKEN_ISSUER,
    audience: INTERNAL_TOKEN_AUDIENCE,
  });
  return PrincipalSchema.parse(payload.principal);
}
