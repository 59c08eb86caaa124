import type { Role } from './roles';

export interface User {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  regionCode?: string;
  providerId?: string;
  caregiverId?: string;
  elderIds?: string[];
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token stops being accepted. */
  expiresAt: number;
  user: User;
}

export interface LoginResponse {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: User;
}

const KEY = 'yiyang.session';

export const toSession = (res: LoginResponse, now = Date.now()): Session => ({
  accessToken: res.accessToken,
  refreshToken: res.refreshToken,
  expiresAt: now + res.expiresIn * 1000,
  user: res.user,
});

/** Refresh this long before expiry so a request never leaves with a token about to lapse. */
export const REFRESH_MARGIN_MS = 30_000;

export const needsRefresh = (session: Session, now = Date.now()): boolean => session.expiresAt - now <= REFRESH_MARGIN_MS;

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s && typeof s.accessToken === 'string' && s.user ? s : null;
  } catch {
    return null;
  }
}

export function storeSession(session: Session | null): void {
  try {
    // localStorage so a second tab (the wall display next to the desk) shares the sign-in.
    if (session) localStorage.setItem(KEY, JSON.stringify(session));
    else {
      localStorage.removeItem(KEY);
      sessionStorage.removeItem(KEY);
    }
  } catch {
    /* storage disabled: the session lives in memory only */
  }
}
