import { canOpen, homeOf, pageOfPath, PAGES, ROLES, safeRedirect, type PageKey } from './roles';

describe('role-based routing', () => {
  it('sends every role home to a page it may open', () => {
    for (const role of ROLES) {
      const page = pageOfPath(homeOf(role));
      expect(page).not.toBeNull();
      expect(canOpen(role, page as PageKey)).toBe(true);
    }
  });

  it('keeps families and caregivers out of the desk and the supervision screen, and staff out of family pages', () => {
    expect(canOpen('guardian', 'dashboard')).toBe(false);
    expect(canOpen('guardian', 'alerts')).toBe(false);
    expect(canOpen('caregiver', 'orders')).toBe(false);
    expect(canOpen('caregiver', 'family')).toBe(false);
    expect(canOpen('provider_operator', 'dashboard')).toBe(false);
    expect(canOpen('provider_operator', 'budgets')).toBe(false);
    expect(canOpen('civil_affairs_admin', 'caregiver')).toBe(false);
    expect(canOpen('civil_affairs_admin', 'family')).toBe(false);
    expect(canOpen(undefined, 'family')).toBe(false);
  });

  it('only the bureau imports rosters and only the bureau and auditors see budgets', () => {
    expect(PAGES.import.roles).toEqual(['civil_affairs_admin']);
    expect([...PAGES.budgets.roles].sort()).toEqual(['auditor', 'civil_affairs_admin']);
  });

  it('finds the page of a nested path by its longest prefix', () => {
    expect(pageOfPath('/desk/elders/abc')).toBe('elders');
    expect(pageOfPath('/family')).toBe('family');
    expect(pageOfPath('/familyx')).toBeNull();
    expect(pageOfPath('/nowhere')).toBeNull();
  });

  it('returns after sign-in only to a page the role may open, never off-site', () => {
    expect(safeRedirect('civil_affairs_admin', '/desk/alerts?x=1')).toBe('/desk/alerts?x=1');
    expect(safeRedirect('guardian', '/supervisor')).toBe('/family');
    expect(safeRedirect('guardian', '//evil.example/')).toBe('/family');
    expect(safeRedirect('caregiver', null)).toBe('/caregiver');
  });
});
