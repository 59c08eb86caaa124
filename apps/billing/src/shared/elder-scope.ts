import { REGION_ROLES, type Principal } from '@yiyang/service-kit';
import { forbidden } from './scope';

/** May this principal see this elder's benefits and charges? Bureau staff by region, elders and guardians by link. */
export function canSeeElder(principal: Principal, elder: { _id: string; regionPath: string[] }): boolean {
  if (REGION_ROLES.includes(principal.role)) return !!principal.regionCode && elder.regionPath.includes(principal.regionCode);
  if (principal.role === 'elder' || principal.role === 'guardian') return (principal.elderIds ?? []).includes(elder._id);
  return false;
}

/** A query filter on documents that carry `elderId` and `regionPath`, applied inside every read. */
export function elderScopeFilter(principal: Principal): Record<string, unknown> {
  if (REGION_ROLES.includes(principal.role) && principal.regionCode) return { regionPath: principal.regionCode };
  if ((principal.role === 'elder' || principal.role === 'guardian') && principal.elderIds?.length) return { elderId: { $in: principal.elderIds } };
  if (principal.role === 'provider_operator' && principal.providerId) return { providerId: principal.providerId };
  throw forbidden();
}
