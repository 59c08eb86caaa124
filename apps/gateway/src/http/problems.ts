import { AppError } from '@yiyang/service-kit';

export const unauthenticated = (code = 'AUTH.UNAUTHENTICATED', message = 'Sign in first', messageZh = '请先登录') =>
  new AppError(code, 401, message, { messageZh });

export const forbidden = () => new AppError('AUTH.FORBIDDEN', 403, 'You may not do this', { messageZh: '无权执行此操作' });

export const routeNotFound = () => new AppError('GATEWAY.ROUTE_NOT_FOUND', 404, 'No such API route', { messageZh: '接口不存在' });

/** Codes and messages for errors raised by Fastify itself or by plugins (they carry only a status). */
export const STATUS_PROBLEMS: Record<number, { code: string; message: string; messageZh: string }> = {
  400: { code: 'VALIDATION.INVALID_INPUT', message: 'The request is malformed', messageZh: '请求格式错误' },
  401: { code: 'AUTH.UNAUTHENTICATED', message: 'Sign in first', messageZh: '请先登录' },
  403: { code: 'AUTH.FORBIDDEN', message: 'You may not do this', messageZh: '无权执行此操作' },
  404: { code: 'GATEWAY.ROUTE_NOT_FOUND', message: 'No such API route', messageZh: '接口不存在' },
  405: { code: 'GATEWAY.METHOD_NOT_ALLOWED', message: 'Method not allowed', messageZh: '不支持该请求方法' },
  406: { code: 'GATEWAY.NOT_ACCEPTABLE', message: 'Not acceptable', messageZh: '无法提供所请求的格式' },
  414: { code: 'VALIDATION.URI_TOO_LONG', message: 'The address is too long', messageZh: '请求地址过长' },
  413: { code: 'VALIDATION.BODY_TOO_LARGE', message: 'The request body is too large', messageZh: '请求体过大' },
  415: { code: 'VALIDATION.UNSUPPORTED_MEDIA_TYPE', message: 'Send application/json', messageZh: '仅支持 application/json 请求体' },
  429: { code: 'GATEWAY.RATE_LIMITED', message: 'Too many requests; try again later', messageZh: '请求过于频繁，请稍后再试' },
  500: { code: 'INTERNAL', message: 'Internal error', messageZh: '服务器内部错误' },
  502: { code: 'GATEWAY.BAD_UPSTREAM_RESPONSE', message: 'A service answered badly', messageZh: '后端服务响应异常' },
  503: { code: 'GATEWAY.SERVICE_UNAVAILABLE', message: 'The service is unavailable; try again shortly', messageZh: '服务暂时不可用，请稍后再试' },
  504: { code: 'GATEWAY.UPSTREAM_TIMEOUT', message: 'The service did not answer in time', messageZh: '服务响应超时' },
};

export type Language = 'zh' | 'en';

/**
 * `Accept-Language` → the language of error messages. zh-CN unless the caller prefers English
 * (q-values honoured); absent or unrecognised → zh-CN, the product's language.
 */
export function languageOf(header: string | string[] | undefined): Language {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return 'zh';
  let best: { lang: Language; q: number } | undefined;
  for (const part of value.split(',').slice(0, 20)) {
    const [tag, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.find((p) => p.trim().startsWith('q='));
    const q = qParam ? Number(qParam.trim().slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    const lang: Language | undefined = tag.startsWith('zh') ? 'zh' : tag.startsWith('en') ? 'en' : undefined;
    if (lang && (!best || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'zh';
}

export interface PublicError {
  code: string;
  message: string;
  field?: string;
  details?: Record<string, unknown>;
  correlationId: string;
}

/**
 * Any error body (a service's `{code, message, messageZh?, field?, details?}`, Nest's, Fastify's
 * `{statusCode, error, message}`) → the public shape `{code, message, field?, correlationId}` in the
 * caller's language. Internal 5xx detail never leaves the gateway.
 */
export function toPublicError(status: number, body: unknown, lang: Language, correlationId: string): PublicError {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const fallback = STATUS_PROBLEMS[status] ?? (status >= 500 ? STATUS_PROBLEMS[500] : STATUS_PROBLEMS[400]);
  let code = typeof b['code'] === 'string' && /^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+$/.test(b['code']) ? b['code'] : undefined;
  if (code && /^HTTP\.\d{3}$/.test(code)) code = undefined; // a bare status: give it a real code
  if (!code || (status >= 500 && code === 'INTERNAL')) {
    return { code: fallback.code, message: lang === 'zh' ? fallback.messageZh : fallback.message, correlationId, ...fieldOf(b) };
  }
  const en = typeof b['message'] === 'string' ? b['message'] : fallback.message;
  const zh = typeof b['messageZh'] === 'string' ? b['messageZh'] : undefined;
  const out: PublicError = { code, message: lang === 'zh' ? (zh ?? en) : en, correlationId, ...fieldOf(b) };
  if (b['details'] && typeof b['details'] === 'object' && !Array.isArray(b['details'])) out.details = b['details'] as Record<string, unknown>;
  return out;
}

function fieldOf(b: Record<string, unknown>): { field?: string } {
  return typeof b['field'] === 'string' && b['field'] ? { field: b['field'] } : {};
}

export const uploadTooLarge = (limit: number) =>
  new AppError('VALIDATION.BODY_TOO_LARGE', 413, `The upload is larger than ${limit} bytes`, { messageZh: '上传文件过大' });
