import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { PrincipalSchema, type Principal, type Role } from '@yiyang/service-kit';

/** Public access tokens: signed with GATEWAY_JWT_SECRET, never with the internal secret. */
export const ACCESS_ISSUER = 'yiyang-gateway';
export const ACCESS_AUDIENCE = 'yiyang-api';

const jwt = new JwtService();

interface AccessClaims {
  sub: string;
  sid: string;
  typ: 'access';
  role: Role;
  rc?: string;
  pid?: string;
  cid?: string;
  eids?: string[];
  /** The region the account is managed under: scopes its audit entries. */
  hrc: string;
}

export interface SignedIn {
  userId: string;
  sessionId: string;
  principal: Principal;
  homeRegion: string;
  expiresAt: number;
}

export function signAccessToken(secret: string, ttlSeconds: number, sessionId: string, principal: Principal, homeRegion: string): string {
  const claims: AccessClaims = {
    sub: principal.userId,
    sid: sessionId,
    typ: 'access',
    hrc: homeRegion,
    role: principal.role,
    ...(principal.regionCode ? { rc: principal.regionCode } : {}),
    ...(principal.providerId ? { pid: principal.providerId } : {}),
    ...(principal.caregiverId ? { cid: principal.caregiverId } : {}),
    ...(principal.elderIds ? { eids: principal.elderIds } : {}),
  };
  return jwt.sign(claims, { secret, algorithm: 'HS256', issuer: ACCESS_ISSUER, audience: ACCESS_AUDIENCE, expiresIn: ttlSeconds, jwtid: randomBytes(8).toString('hex') });
}

export type VerifyFailure = 'AUTH.TOKEN_EXPIRED' | 'AUTH.INVALID_TOKEN';

/** Signature, algorithm (HS256 only), issuer, audience, expiry and claim shape are all checked. */
export function verifyAccessToken(secret: string, token: string): SignedIn | VerifyFailure {
  let claims: AccessClaims & { exp: number };
  try {
    claims = jwt.verify(token, { secret, algorithms: ['HS256'], issuer: ACCESS_ISSUER, audience: ACCESS_AUDIENCE });
  } catch (error) {
    return (error as Error).name === 'TokenExpiredError' ? 'AUTH.TOKEN_EXPIRED' : 'AUTH.INVALID_TOKEN';
  }
  if (claims.typ !== 'access' || typeof claims.sid !== 'string' || typeof claims.hrc !== 'string' || !/^\d{12}$/.test(claims.hrc)) return 'AUTH.INVALID_TOKEN';
  const parsed = PrincipalSchema.safeParse({
    userId: claims.sub,
    role: claims.role,
    regionCode: claims.rc,
    providerId: claims.pid,
    caregiverId: claims.cid,
    elderIds: claims.eids,
  });
  if (!parsed.success) return 'AUTH.INVALID_TOKEN';
  return { userId: claims.sub, sessionId: claims.sid, principal: parsed.data, homeRegion: claims.hrc, expiresAt: claims.exp * 1000 };
}

/** `<id>.<secret>`: the id finds the stored record by `_id`; only the secret's SHA-256 is stored. */
export function newRefreshToken(): { id: string; secret: string; token: string; secretHash: string } {
  const id = randomBytes(12).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `${id}.${secret}`, secretHash: sha256(secret) };
}

export function splitRefreshToken(token: string): { id: string; secret: string } | undefined {
  const m = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(token);
  return m ? { id: m[1], secret: m[2] } : undefined;
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(sha256(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
