import { AppError, REGION_ROLES, type Principal } from '@yiyang/service-kit';

/**
 * Object-level authorisation for region-owned records (elders, facilities, caregivers…). Records
 * store `regionPath` (every ancestor code); a principal scoped to a subtree sees a record when its
 * root is on that path — one indexed equality match, applied INSIDE every query, so a record
 * outside the scope is never even read (design.md: defence in depth against broken object-level
 * authorisation).
 */
export function regionScopeFilter(principal: Principal): Record<string, unknown> {
  if (REGION_ROLES.includes(principal.role) && principal.regionCode) return { regionPath: principal.regionCode };
  throw forbidden();
}

export function assertRegionInScope(principal: Principal, regionPath: readonly string[]): void {
  if (!REGION_ROLES.includes(principal.role) || !principal.regionCode || !regionPath.includes(principal.regionCode)) {
    throw forbidden();
  }
}

export function forbidden(): AppError {
  return new AppError('AUTH.FORBIDDEN', 403, 'Outside your scope', { messageZh: '超出您的管辖范围' });
}

/** 404 for a record that does not exist OR is outside the caller's scope: the caller learns nothing. */
export function notFound(code: string, what: string, whatZh: string): AppError {
  return new AppError(code, 404, `${what} not found`, { messageZh: `未找到${whatZh}` });
}
