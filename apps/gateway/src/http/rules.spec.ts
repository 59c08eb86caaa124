import { passwordProblem } from '../accounts/passwords';
import { newRefreshToken, secretMatches, signAccessToken, splitRefreshToken, verifyAccessToken } from '../access/access-token';
import { jsonShapeProblem } from './json-limits';
import { languageOf, toPublicError } from './problems';

describe('password rules', () => {
  it.each([
    ['Short1!', 'AUTH.PASSWORD_TOO_SHORT'],
    ['alllowercaseletters', 'AUTH.PASSWORD_TOO_SIMPLE'],
    ['loweranddigits123', 'AUTH.PASSWORD_TOO_SIMPLE'],
    ['Zhangwei-2026!', 'AUTH.PASSWORD_CONTAINS_USERNAME'],
    ['P@ssw0rd', 'AUTH.PASSWORD_TOO_SHORT'],
    ['x'.repeat(129), 'AUTH.PASSWORD_TOO_LONG'],
  ])('%s → %s', (password, code) => {
    expect(passwordProblem(password, 'zhangwei')?.code).toBe(code);
  });

  it('accepts a long password mixing three classes', () => {
    expect(passwordProblem('Lubei-care-2026', 'zhangwei')).toBeUndefined();
    expect(passwordProblem('长城长城Abc12345', 'zhangwei')).toBeUndefined();
  });
});

describe('tokens', () => {
  const secret = 'test-secret-test-secret-test-secret-1234';
  const principal = { userId: 'u1', role: 'civil_affairs_admin' as const, regionCode: '130203000000' };

  it('round-trips the principal and refuses a token signed with another key or of another kind', () => {
    const token = signAccessToken(secret, 60, 's1', principal, '130203000000');
    expect(verifyAccessToken(secret, token)).toMatchObject({ userId: 'u1', sessionId: 's1', principal, homeRegion: '130203000000' });
    expect(verifyAccessToken(`${secret}x`, token)).toBe('AUTH.INVALID_TOKEN');
    expect(verifyAccessToken(secret, `${token}x`)).toBe('AUTH.INVALID_TOKEN');
    const alg = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(verifyAccessToken(secret, `${alg}.${token.split('.')[1]}.`)).toBe('AUTH.INVALID_TOKEN');
  });

  it('reports expiry distinctly', () => {
    const token = signAccessToken(secret, -10, 's1', principal, '130203000000');
    expect(verifyAccessToken(secret, token)).toBe('AUTH.TOKEN_EXPIRED');
  });

  it('stores only a hash of the refresh secret and compares in constant time', () => {
    const t = newRefreshToken();
    const parts = splitRefreshToken(t.token)!;
    expect(parts.id).toBe(t.id);
    expect(t.secretHash).not.toContain(t.secret);
    expect(secretMatches(parts.secret, t.secretHash)).toBe(true);
    expect(secretMatches(`${parts.secret.slice(0, -1)}A`, t.secretHash)).toBe(parts.secret.endsWith('A'));
    expect(splitRefreshToken('nonsense')).toBeUndefined();
  });
});

describe('error shape and language', () => {
  it('picks the language by Accept-Language with q-values, zh-CN by default', () => {
    expect(languageOf(undefined)).toBe('zh');
    expect(languageOf('en')).toBe('en');
    expect(languageOf('en-US,en;q=0.9')).toBe('en');
    expect(languageOf('en;q=0.5, zh-CN;q=0.8')).toBe('zh');
    expect(languageOf('fr')).toBe('zh');
  });

  it('turns a service error into {code, message, field?, correlationId} in that language', () => {
    const body = { code: 'REGISTRY.ELDER_NOT_FOUND', message: 'Elder not found', messageZh: '未找到老人', field: 'id' };
    expect(toPublicError(404, body, 'zh', 'c1')).toEqual({ code: 'REGISTRY.ELDER_NOT_FOUND', message: '未找到老人', field: 'id', correlationId: 'c1' });
    expect(toPublicError(404, body, 'en', 'c1')).toEqual({ code: 'REGISTRY.ELDER_NOT_FOUND', message: 'Elder not found', field: 'id', correlationId: 'c1' });
  });

  it('gives bare statuses and internal errors a stable code and hides internals', () => {
    expect(toPublicError(413, { statusCode: 413, error: 'Payload Too Large', message: 'x' }, 'en', 'c')).toMatchObject({ code: 'VALIDATION.BODY_TOO_LARGE' });
    expect(toPublicError(429, { code: 'HTTP.429', message: 'slow down' }, 'en', 'c')).toMatchObject({ code: 'GATEWAY.RATE_LIMITED' });
    expect(toPublicError(500, { code: 'INTERNAL', message: 'stack trace here' }, 'en', 'c')).toEqual({ code: 'INTERNAL', message: 'Internal error', correlationId: 'c' });
  });
});

describe('JSON shape limits', () => {
  it('refuses long arrays and deep nesting, naming the field', () => {
    expect(jsonShapeProblem({ a: [1, 2, 3] }, 3, 10)).toBeUndefined();
    expect(jsonShapeProblem({ a: { b: [1, 2, 3, 4] } }, 3, 10)).toMatchObject({ code: 'VALIDATION.ARRAY_TOO_LONG', options: { field: 'a.b' } });
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expect(jsonShapeProblem(deep, 1000, 32)).toMatchObject({ code: 'VALIDATION.TOO_DEEP' });
  });
});
