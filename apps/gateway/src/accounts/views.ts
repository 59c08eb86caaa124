import { REGION_ROLES, type Principal } from '@yiyang/service-kit';
import type { User } from './user.schema';

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  role: User['role'];
  regionCode?: string;
  providerId?: string;
  caregiverId?: string;
  elderIds?: string[];
  active: boolean;
  locked: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

/** The principal a user acts as: only the scope fields that mean something for the role. */
export function principalOf(user: Pick<User, '_id' | 'role' | 'regionCode' | 'providerId' | 'caregiverId' | 'elderIds'>): Principal {
  const p: Principal = { userId: user._id, role: user.role };
  if (REGION_ROLES.includes(user.role)) p.regionCode = user.regionCode;
  if (user.role === 'provider_operator' || (user.role === 'caregiver' && user.providerId)) p.providerId = user.providerId ?? undefined;
  if (user.role === 'caregiver') p.caregiverId = user.caregiverId ?? undefined;
  if (user.role === 'elder' || user.role === 'guardian') p.elderIds = user.elderIds;
  return p;
}

export function userView(user: User, now = Date.now()): UserView {
  const p = principalOf(user);
  return {
    id: user._id,
    username: user._id,
    displayName: user.displayName,
    role: user.role,
    regionCode: user.regionCode,
    ...(p.providerId ? { providerId: p.providerId } : {}),
    ...(p.caregiverId ? { caregiverId: p.caregiverId } : {}),
    ...(p.elderIds ? { elderIds: p.elderIds } : {}),
    active: user.active,
    locked: !!user.lockedUntil && user.lockedUntil.getTime() > now,
    createdAt: user.createdAt.toISOString(),
    lastLoginAt: user.lastLoginAt ? user.lastLoginAt.toISOString() : null,
  };
}
