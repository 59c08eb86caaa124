/** Roles exactly as the gateway issues them. */
export const ROLES = ['civil_affairs_admin', 'provider_operator', 'caregiver', 'elder', 'guardian', 'assessor', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, { zh: string; en: string }> = {
  civil_affairs_admin: { zh: '民政管理员', en: 'Civil-affairs administrator' },
  provider_operator: { zh: '服务机构操作员', en: 'Provider operator' },
  caregiver: { zh: '护理员', en: 'Caregiver' },
  elder: { zh: '老年人', en: 'Elder' },
  guardian: { zh: '家属（监护人）', en: 'Family (guardian)' },
  assessor: { zh: '评估员', en: 'Assessor' },
  auditor: { zh: '审计员', en: 'Auditor' },
};

/**
 * Every page of the console and who may open it. The API enforces the same rules (and more: the
 * region or provider scope); the console hides and guards pages so nobody lands on one that can
 * only answer 403.
 */
export const PAGES = {
  dashboard: { path: '/supervisor', roles: ['civil_affairs_admin', 'auditor'] },
  elders: { path: '/desk/elders', roles: ['civil_affairs_admin', 'assessor', 'auditor'] },
  import: { path: '/desk/import', roles: ['civil_affairs_admin'] },
  orders: { path: '/desk/orders', roles: ['civil_affairs_admin', 'provider_operator', 'auditor'] },
  alerts: { path: '/desk/alerts', roles: ['civil_affairs_admin', 'provider_operator'] },
  visits: { path: '/desk/visits', roles: ['civil_affairs_admin', 'provider_operator', 'auditor'] },
  policies: { path: '/desk/policies', roles: ['civil_affairs_admin', 'provider_operator', 'auditor'] },
  settlements: { path: '/desk/settlements', roles: ['civil_affairs_admin', 'provider_operator', 'auditor'] },
  budgets: { path: '/desk/budgets', roles: ['civil_affairs_admin', 'auditor'] },
  family: { path: '/family', roles: ['guardian', 'elder'] },
  caregiver: { path: '/caregiver', roles: ['caregiver'] },
} as const satisfies Record<string, { path: string; roles: readonly Role[] }>;

export type PageKey = keyof typeof PAGES;

export const canOpen = (role: Role | undefined, page: PageKey): boolean => !!role && (PAGES[page].roles as readonly Role[]).includes(role);

/** The page a role lands on after signing in. */
export function homeOf(role: Role): string {
  switch (role) {
    case 'civil_affairs_admin':
    case 'auditor':
      return PAGES.dashboard.path;
    case 'provider_operator':
      return PAGES.orders.path;
    case 'assessor':
      return PAGES.elders.path;
    case 'guardian':
    case 'elder':
      return PAGES.family.path;
    case 'caregiver':
      return PAGES.caregiver.path;
  }
}

/** Which page a location belongs to (longest matching prefix), or null for public or unknown paths. */
export function pageOfPath(pathname: string): PageKey | null {
  let best: PageKey | null = null;
  let bestLen = -1;
  for (const [key, page] of Object.entries(PAGES) as [PageKey, { path: string }][]) {
    if ((pathname === page.path || pathname.startsWith(`${page.path}/`)) && page.path.length > bestLen) {
      best = key;
      bestLen = page.path.length;
    }
  }
  return best;
}

/** Where a signed-in person may go back to after signing in again: only a page their role may open. */
export function safeRedirect(role: Role, from: string | null | undefined): string {
  if (!from || !from.startsWith('/') || from.startsWith('//')) return homeOf(role);
  const page = pageOfPath(from.split('?')[0]);
  return page && canOpen(role, page) ? from : homeOf(role);
}
