/** Everything the console needs to tell a person what went wrong, in plain words. */
export interface ApiErrorBody {
  code?: string;
  message?: string;
  messageZh?: string;
  field?: string;
  correlationId?: string;
  details?: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message ?? `HTTP ${status}`);
  }
  get code(): string {
    return this.body.code ?? `HTTP_${this.status}`;
  }
}

const BY_CODE: Record<string, { zh: string; en: string }> = {
  'AUTH.INVALID_CREDENTIALS': { zh: '用户名或密码不正确，请重新输入。', en: 'Wrong user name or password.' },
  'AUTH.ACCOUNT_LOCKED': { zh: '该账号因多次输错密码已被暂时锁定，请稍后再试或联系管理员。', en: 'This account is locked for a while after too many wrong passwords.' },
  'AUTH.FORBIDDEN': { zh: '您没有权限进行此操作或查看此内容。', en: 'You are not allowed to do or see this.' },
  'AUTH.TOKEN_EXPIRED': { zh: '登录已过期，请重新登录。', en: 'Your session has expired; please sign in again.' },
  'AUTH.UNAUTHENTICATED': { zh: '请先登录。', en: 'Please sign in first.' },
  'AUTH.SESSION_REVOKED': { zh: '您的登录已失效（可能在其他地方退出或修改了密码），请重新登录。', en: 'Your session was ended elsewhere; please sign in again.' },
  'AUTH.REFRESH_TOKEN_REUSED': { zh: '为保护账号安全，登录已失效，请重新登录。', en: 'For your safety the session was ended; please sign in again.' },
  'AUTH.REVEAL_FORBIDDEN': { zh: '您的角色不能查看未脱敏的个人信息。', en: 'Your role may not see unmasked personal data.' },
  'GATEWAY.RATE_LIMITED': { zh: '操作太频繁，请稍后再试。', en: 'Too many requests; please wait a moment.' },
};

const BY_STATUS: Record<number, { zh: string; en: string }> = {
  400: { zh: '填写的内容有误，请检查后重试。', en: 'Something in the form is not right; please check it.' },
  401: { zh: '登录已过期，请重新登录。', en: 'Your session has expired; please sign in again.' },
  403: { zh: '您没有权限进行此操作或查看此内容。如需开通，请联系本区民政部门管理员。', en: 'You are not allowed to do or see this. Ask your civil-affairs administrator for access.' },
  404: { zh: '没有找到相关记录，可能已被删除或不在您的管辖范围内。', en: 'Not found — it may have been removed or be outside your area.' },
  409: { zh: '数据已被他人修改，请刷新后重试。', en: 'Someone else changed this meanwhile; reload and try again.' },
  413: { zh: '上传的文件太大。', en: 'The file is too large.' },
  415: { zh: '文件格式不支持。', en: 'This file type is not supported.' },
  422: { zh: '这项操作当前无法进行，请检查相关信息。', en: 'This cannot be done right now; please check the details.' },
  423: { zh: '账号已被锁定，请稍后再试。', en: 'The account is locked; try again later.' },
  429: { zh: '操作太频繁，请稍后再试。', en: 'Too many requests; please wait a moment.' },
  502: { zh: '服务暂时不可用，请稍后再试。', en: 'The service is temporarily unavailable.' },
  503: { zh: '服务正在启动或维护中，请稍后再试。', en: 'The service is starting or under maintenance.' },
  504: { zh: '服务响应超时，请稍后再试。', en: 'The service took too long to answer.' },
};

const NETWORK = { zh: '无法连接服务器，请检查网络后重试。', en: 'Cannot reach the server; check the network and retry.' };
const UNKNOWN = { zh: '系统出现问题，请稍后再试。如问题持续，请联系技术支持。', en: 'Something went wrong; please try again later.' };

/**
 * The sentence to show: the service's own zh-CN wording when it gave one (it names the field and
 * the reason), else a plain sentence for the code or the status. Never a stack trace or raw JSON.
 */
export function plainMessage(error: unknown, lang: 'zh-CN' | 'en' = 'zh-CN'): string {
  if (error instanceof ApiError) {
    const known = BY_CODE[error.code];
    if (known) return lang === 'en' ? known.en : known.zh;
    if (error.status !== 403 && error.status < 500) {
      if (lang === 'zh-CN' && error.body.messageZh) return error.body.messageZh;
      if (lang === 'en' && error.body.message) return error.body.message;
    }
    const byStatus = BY_STATUS[error.status] ?? (error.status >= 500 ? UNKNOWN : BY_STATUS[400]);
    return lang === 'en' ? byStatus.en : byStatus.zh;
  }
  if (error instanceof TypeError) return lang === 'en' ? NETWORK.en : NETWORK.zh;
  return lang === 'en' ? UNKNOWN.en : UNKNOWN.zh;
}

export const isForbidden = (error: unknown): boolean => error instanceof ApiError && error.status === 403;
/** A route no service answers yet (not deployed, or the gateway has no route): shown as an empty state, not an error. */
export const isMissingEndpoint = (error: unknown): boolean =>
  error instanceof ApiError &&
  ((error.status === 404 && (!error.body.code || error.body.code === 'HTTP.404' || /ROUTE|NO_SERVICE|UNKNOWN_PATH/.test(error.body.code))) ||
    error.status === 501 ||
    error.status === 502 ||
    error.status === 503);
