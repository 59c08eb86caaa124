import { AppError, REGION_ROLES, type Principal } from '@yiyang/service-kit';

/**
 * Object-level authorisation (same rule as the registry): records carry `regionPath`; a bureau
 * principal sees a record when its scope root is on that path. Applied inside every query.
 */
export function regionScopeFilter(principal: Principal): Record<string, unknown> {
  if (REGION_ROLES.includes(principal.role) && principal.regionCode) return { regionPath: principal.regionCode };
  throw forbidden();
}

export function inRegionScope(principal: Principal, regionPath: readonly string[]): boolean {
  return REGION_ROLES.includes(principal.role) && !!principal.regionCode && regionPath.includes(principal.regionCode);
}

export function forbidden(): AppError {
  return new AppError('AUTH.FORBIDDEN', 403, 'Outside your scope', { messageZh: '超出您的管辖范围' });
}

/** 404 for a record that does not exist OR is outside the caller's scope: the caller learns nothing. */
export function notFound(code: string, what: string, whatZh: string): AppError {
  return new AppError(code, 404, `${what} not found`, { messageZh: `未找到${whatZh}` });
}
