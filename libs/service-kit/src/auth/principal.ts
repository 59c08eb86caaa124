import { z } from 'zod';

/** Who may act, as the gateway vouches for them in the internal token (design.md, "Requests and identity"). */
export const ROLES = [
  'civil_affairs_admin',
  'provider_operator',
  'caregiver',
  'elder',
  'guardian',
  'assessor',
  'auditor',
] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, { zh: string; en: string }> = {
  civil_affairs_admin: { zh: '民政管理员', en: 'Civil-affairs administrator' },
  provider_operator: { zh: '服务机构操作员', en: 'Provider operator' },
  caregiver: { zh: '护理员', en: 'Caregiver' },
  elder: { zh: '老年人', en: 'Elder' },
  guardian: { zh: '监护人/子女', en: 'Guardian' },
  assessor: { zh: '评估员', en: 'Assessor' },
  auditor: { zh: '审计员', en: 'Auditor' },
};

export const PrincipalSchema = z
  .object({
    userId: z.string().min(1),
    role: z.enum(ROLES),
    /** Root of the region subtree the principal may see (bureau staff, assessors, auditors). */
    regionCode: z.string().regex(/^\d{12}$/).optional(),
    providerId: z.string().min(1).optional(),
    caregiverId: z.string().min(1).optional(),
    /** The elder themself, or the elders a guardian is linked to. */
    elderIds: z.array(z.string().min(1)).max(20).optional(),
  })
  .superRefine((p, ctx) => {
    const needs: Partial<Record<Role, keyof typeof p>> = {
      civil_affairs_admin: 'regionCode',
      assessor: 'regionCode',
      auditor: 'regionCode',
      provider_operator: 'providerId',
      caregiver: 'caregiverId',
      elder: 'elderIds',
      guardian: 'elderIds',
    };
    const field = needs[p.role];
    if (field && p[field] === undefined) {
      ctx.addIssue({ code: 'custom', path: [field], message: `a ${p.role} principal must carry ${field}` });
    }
  });

export type Principal = z.infer<typeof PrincipalSchema>;

/** Roles whose scope is a region subtree. */
export const REGION_ROLES: readonly Role[] = ['civil_affairs_admin', 'assessor', 'auditor'];
