import { needsRefresh, REFRESH_MARGIN_MS, toSession } from './session';

describe('session', () => {
  it('refreshes shortly before the access token lapses, not after', () => {
    const s = toSession({ accessToken: 'a', refreshToken: 'r', expiresIn: 900, user: { id: 'u', username: 'x', displayName: 'X', role: 'guardian' } }, 1_000_000);
    expect(s.expiresAt).toBe(1_000_000 + 900_000);
    expect(needsRefresh(s, 1_000_000)).toBe(false);
    expect(needsRefresh(s, s.expiresAt - REFRESH_MARGIN_MS)).toBe(true);
  });
});
