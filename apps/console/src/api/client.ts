import { getLang } from '../lib/i18n';
import { loadSession, needsRefresh, storeSession, toSession, type LoginResponse, type Session } from '../auth/session';
import { ApiError, type ApiErrorBody } from './errors';

export const API_BASE = '/api/v1';

let session: Session | null = loadSession();
const listeners = new Set<(s: Session | null) => void>();

export const currentSession = (): Session | null => session;
export const onSessionChange = (fn: (s: Session | null) => void): (() => void) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};

function setSession(next: Session | null): void {
  session = next;
  storeSession(next);
  for (const fn of listeners) fn(next);
}

// Another tab signed in, refreshed or signed out: follow it (the refresh token is single-use).
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === 'yiyang.session') {
      session = loadSession();
      for (const fn of listeners) fn(session);
    }
  });
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

async function raw(method: string, path: string, init: { body?: unknown; token?: string | null; form?: FormData } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', 'accept-language': getLang() };
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  let body: BodyInit | undefined;
  if (init.form) body = init.form;
  else if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  return fetch(`${API_BASE}${path}`, { method, headers, body });
}

export async function login(username: string, password: string): Promise<Session> {
  const res = await raw('POST', '/auth/login', { body: { username, password } });
  const json = await readBody(res);
  if (!res.ok) throw new ApiError(res.status, (json ?? {}) as ApiErrorBody);
  const next = toSession(json as LoginResponse);
  setSession(next);
  return next;
}

export async function logout(): Promise<void> {
  const s = session;
  setSession(null);
  if (s) await raw('POST', '/auth/logout', { body: { refreshToken: s.refreshToken } }).catch(() => undefined);
}

let refreshing: Promise<Session | null> | null = null;

/** One refresh at a time: concurrent requests wait for the same new token (reusing the old one revokes the family). */
export function refresh(): Promise<Session | null> {
  if (refreshing) return refreshing;
  const s = session;
  if (!s) return Promise.resolve(null);
  refreshing = (async () => {
    try {
      const res = await raw('POST', '/auth/refresh', { body: { refreshToken: s.refreshToken } });
      if (!res.ok) {
        // Another tab may have refreshed first and stored the new pair.
        const stored = loadSession();
        if (stored && stored.refreshToken !== s.refreshToken) {
          setSession(stored);
          return stored;
        }
        setSession(null);
        return null;
      }
      const next = toSession((await readBody(res)) as LoginResponse);
      setSession(next);
      return next;
    } catch {
      return session;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Background refresh so a wall display stays signed in for the whole day. */
export function startRefreshTimer(): () => void {
  const timer = setInterval(() => {
    if (session && needsRefresh(session)) void refresh();
  }, 10_000);
  return () => clearInterval(timer);
}

async function send(method: string, path: string, init: { body?: unknown; form?: FormData } = {}): Promise<Response> {
  if (session && needsRefresh(session)) await refresh();
  let res = await raw(method, path, { ...init, token: session?.accessToken });
  if (res.status === 401 && session) {
    const next = await refresh();
    if (next) res = await raw(method, path, { ...init, token: next.accessToken });
  }
  return res;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, { body });
  const json = await readBody(res);
  if (!res.ok) throw new ApiError(res.status, (json ?? {}) as ApiErrorBody);
  return json as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});

export async function upload<T>(path: string, form: FormData): Promise<T> {
  const res = await send('POST', path, { form });
  const json = await readBody(res);
  if (!res.ok) throw new ApiError(res.status, (json ?? {}) as ApiErrorBody);
  return json as T;
}

/** Downloads a file the API streams (CSV/XLSX exports, error reports) with the bearer token. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const res = await send('GET', path);
  if (!res.ok) throw new ApiError(res.status, ((await readBody(res)) ?? {}) as ApiErrorBody);
  const blob = await res.blob();
  const disposition = res.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const name = star ? decodeURIComponent(star[1]) : (plain?.[1] ?? fallbackName);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Lists come as `{ items, total }` from every service; tolerate a bare array too. */
export function itemsOf<T>(res: unknown): T[] {
  if (Array.isArray(res)) return res as T[];
  if (res && typeof res === 'object') {
    const r = res as Record<string, unknown>;
    for (const k of ['items', 'data', 'results']) if (Array.isArray(r[k])) return r[k] as T[];
  }
  return [];
}

export const totalOf = (res: unknown): number => {
  if (Array.isArray(res)) return res.length;
  const t = (res as { total?: unknown } | null)?.total;
  return typeof t === 'number' ? t : itemsOf(res).length;
};

export const qs = (params: Record<string, string | number | boolean | undefined | null>): string => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
};
