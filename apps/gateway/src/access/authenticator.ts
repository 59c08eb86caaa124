import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { mintInternalToken, INTERNAL_TOKEN_TTL_SECONDS, type Principal } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { Session } from '../accounts/user.schema';
import { verifyAccessToken, type SignedIn, type VerifyFailure } from './access-token';

/** `authenticateKnown` cannot answer without reading the session. */
export const UNKNOWN = Symbol('unknown');

/** How long a session's "not revoked" answer is trusted before the database is asked again. */
export const SESSION_CHECK_MS = 5_000;

export type AuthResult = { ok: true; signedIn: SignedIn } | { ok: false; code: 'AUTH.TOKEN_EXPIRED' | 'AUTH.INVALID_TOKEN' | 'AUTH.SESSION_REVOKED' };

/**
 * Turns `Authorization: Bearer <access token>` into the signed-in principal. The token is checked
 * on every request; whether its session was revoked (logout, refresh-token reuse, account disabled)
 * is read by `_id` and remembered for a few seconds, so revocation reaches every replica within
 * SESSION_CHECK_MS without a database read per request.
 */
@Injectable()
export class Authenticator {
  private readonly secret: string;
  private readonly internalSecret: string;
  private readonly sessions = new Map<string, { revoked: boolean; checkedAt: number }>();
  private readonly internalTokens = new Map<string, { token: string; freshUntil: number }>();
  private readonly verifiedTokens = new Map<string, SignedIn>();

  constructor(
    config: ConfigService,
    @InjectModel(Session.name) private readonly sessionModel: Model<Session>,
  ) {
    this.secret = config.getOrThrow('GATEWAY_JWT_SECRET');
    this.internalSecret = config.getOrThrow('INTERNAL_TOKEN_SECRET');
  }

  async authenticate(authorization: string | undefined): Promise<AuthResult | undefined> {
    const known = this.authenticateKnown(authorization);
    if (known !== UNKNOWN) return known;
    const signedIn = this.verify((authorization as string).slice(7));
    if (typeof signedIn === 'string') return { ok: false, code: signedIn };
    if (await this.isRevoked(signedIn.sessionId)) return { ok: false, code: 'AUTH.SESSION_REVOKED' };
    return { ok: true, signedIn };
  }

  /**
   * The answer without waiting, when it needs no database read: no or a malformed header, a token
   * verified before whose session was checked less than SESSION_CHECK_MS ago, a token that fails
   * verification. UNKNOWN when the session must be read (first sight or a stale check). The steady
   * state of a signed-in user costs no promise.
   */
  authenticateKnown(authorization: string | undefined): AuthResult | undefined | typeof UNKNOWN {
    if (!authorization) return undefined;
    if (!authorization.startsWith('Bearer ') || authorization.length > 4_096) return { ok: false, code: 'AUTH.INVALID_TOKEN' };
    const verified = this.verify(authorization.slice(7));
    if (typeof verified === 'string') return { ok: false, code: verified };
    const session = this.sessions.get(verified.sessionId);
    if (!session || (!session.revoked && Date.now() - session.checkedAt >= SESSION_CHECK_MS)) return UNKNOWN;
    return session.revoked ? { ok: false, code: 'AUTH.SESSION_REVOKED' } : { ok: true, signedIn: verified };
  }

  /**
   * A token seen before is not re-verified (HMAC + claim parsing) until it expires: the same string
   * always carries the same claims. Only valid tokens are remembered.
   */
  private verify(token: string): SignedIn | VerifyFailure {
    let verified: SignedIn | VerifyFailure | undefined = this.verifiedTokens.get(token);
    if (verified && verified.expiresAt <= Date.now()) verified = 'AUTH.TOKEN_EXPIRED';
    if (!verified) {
      verified = verifyAccessToken(this.secret, token);
      if (typeof verified !== 'string') {
        if (this.verifiedTokens.size > 50_000) this.verifiedTokens.clear();
        this.verifiedTokens.set(token, verified);
      }
    }
    return verified;
  }

  private async isRevoked(sessionId: string): Promise<boolean> {
    const now = Date.now();
    const known = this.sessions.get(sessionId);
    if (known && (known.revoked || now - known.checkedAt < SESSION_CHECK_MS)) return known.revoked;
    const session = await this.sessionModel.findById(sessionId, { revokedAt: 1, expiresAt: 1 }).lean();
    const revoked = !session || session.revokedAt !== null || session.expiresAt.getTime() <= now;
    if (this.sessions.size > 50_000) this.sessions.clear();
    this.sessions.set(sessionId, { revoked, checkedAt: now });
    return revoked;
  }

  /** Called where a session is revoked, so this replica stops honouring it at once. */
  forgetSession(sessionId: string): void {
    this.sessions.set(sessionId, { revoked: true, checkedAt: Date.now() });
  }

  /**
   * The internal token vouching for `principal` (60 s life). Minted per access token and reused for
   * half its life: signing per request would cost more than the rest of the forwarding.
   */
  internalTokenFor(accessTokenKey: string, principal: Principal): string {
    const now = Date.now();
    const cached = this.internalTokens.get(accessTokenKey);
    if (cached && cached.freshUntil > now) return cached.token;
    const token = mintInternalToken(this.internalSecret, principal);
    if (this.internalTokens.size > 50_000) this.internalTokens.clear();
    this.internalTokens.set(accessTokenKey, { token, freshUntil: now + (INTERNAL_TOKEN_TTL_SECONDS * 1000) / 2 });
    return token;
  }
}
