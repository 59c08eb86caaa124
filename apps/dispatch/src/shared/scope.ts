import { AppError, REGION_ROLES, type Principal } from '@yiyang/service-kit';

export const Actor = (p: Principal) => ({ userId: p.userId, role: p.role });

export function forbidden(what = 'Outside your scope', zh = '超出您的管辖范围'): AppError {
  return new AppError('AUTH.FORBIDDEN', 403, what, { messageZh: zh });
}

/** 404 for a record that does not exist OR is outside the caller's scope: the caller learns nothing. */
export function notFound(code: string, what: string, whatZh: string): AppError {
  return new AppError(code, 404, `${what} not found`, { messageZh: `未找到${whatZh}` });
}

export function isRegionRole(p: Principal): boolean {
  return REGION_ROLES.includes(p.role) && !!p.regionCode;
}

/** Elders and guardians act only for the elders their token names. */
export function actsForElder(p: Principal, elderId: string): boolean {
  return (p.role === 'elder' || p.role === 'guardian') && (p.elderIds ?? []).includes(elderId);
}

export function inRegion(p: Principal, regionPath: readonly string[]): boolean {
  return isRegionRole(p) && regionPath.includes(p.regionCode as string);
}

export function concurrentUpdate(): AppError {
  return new AppError('DISPATCH.CONCURRENT_UPDATE', 409, 'Record changed meanwhile; retry', { messageZh: '数据已被修改，请重试' });
}
