import { ApiError, isForbidden, isMissingEndpoint, plainMessage } from './errors';

describe('errors in plain words', () => {
  it('explains a 403 in zh-CN without technical words, whatever the service said', () => {
    const e = new ApiError(403, { code: 'AUTH.ROLE', message: 'role guardian may not GET dashboards' });
    const text = plainMessage(e);
    expect(text).toContain('没有权限');
    expect(text).not.toMatch(/guardian|GET|403/);
    expect(isForbidden(e)).toBe(true);
  });

  it("uses the service's own zh-CN sentence for a bad field", () => {
    const e = new ApiError(400, { code: 'REGISTRY.ELDER_DUPLICATE', message: 'dup', messageZh: '该身份证号码的老人已登记', field: 'idCardNumber' });
    expect(plainMessage(e)).toBe('该身份证号码的老人已登记');
    expect(plainMessage(e, 'en')).toBe('dup');
  });

  it('knows the sign-in failures by code', () => {
    expect(plainMessage(new ApiError(401, { code: 'AUTH.INVALID_CREDENTIALS' }))).toBe('用户名或密码不正确，请重新输入。');
    expect(plainMessage(new ApiError(423, { code: 'AUTH.ACCOUNT_LOCKED' }))).toContain('锁定');
  });

  it('never shows a server stack or message for a 5xx, and explains a dropped network', () => {
    expect(plainMessage(new ApiError(500, { message: 'TypeError: x is undefined at ...' }))).toBe('系统出现问题，请稍后再试。如问题持续，请联系技术支持。');
    expect(plainMessage(new TypeError('Failed to fetch'))).toContain('无法连接服务器');
  });

  it('tells a missing route from a missing record', () => {
    expect(isMissingEndpoint(new ApiError(404, { code: 'HTTP.404' }))).toBe(true);
    expect(isMissingEndpoint(new ApiError(502, {}))).toBe(true);
    expect(isMissingEndpoint(new ApiError(404, { code: 'REGISTRY.ELDER_NOT_FOUND' }))).toBe(false);
  });
});
