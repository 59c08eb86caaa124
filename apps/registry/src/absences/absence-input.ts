import { AbsenceKindSchema } from '@yiyang/contracts';
import { AppError } from '@yiyang/service-kit';
import { z } from 'zod';

/**
 * When: an instant with an offset (`2026-11-20T14:30:00+08:00`) or a calendar date (`2026-11-20`) read
 * in China Standard Time. A date as `from` means the start of that day; a date as `to` means the
 * absence covers that whole day (it ends at the start of the next). Stored and published as UTC
 * instants of the half-open period [from, to).
 */
const When = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const AbsenceInput = z.strictObject({
  kind: AbsenceKindSchema,
  from: When,
  to: When.nullable().optional(),
  note: z.string().trim().max(500).optional(),
});

export const AbsenceEnd = z.strictObject({
  /** When the elder came back; defaults to now. */
  to: When.optional(),
  note: z.string().trim().max(500).optional(),
});

export const AbsenceListQuery = z.object({
  /** `true`: only absences not over at the time of the request (open-ended, or ending later). */
  current: z.enum(['true', 'false']).optional(),
});

const REASONS_ZH: Record<string, string> = {
  kind: '类型须为 AWAY（外出）或 IN_HOSPITAL（住院）',
  from: '开始时间须为日期（YYYY-MM-DD）或带时区的时间（ISO 8601）',
  to: '结束时间须为日期（YYYY-MM-DD）或带时区的时间（ISO 8601），或为空',
  note: '备注最多 500 字',
};

/** zod's first issue as a 400 naming the field, with a zh-CN reason people can act on. */
export function parseAbsenceBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.') || undefined;
  const known = field ? REASONS_ZH[field] : undefined;
  const reason = issue.code === 'unrecognized_keys' ? `unknown field "${field}"` : issue.message;
  return invalid(field ?? 'body', `${field ?? 'body'}: ${reason}`, issue.code === 'unrecognized_keys' ? `未知字段 ${field}` : (known ?? `输入无效：${reason}`));
}

export function invalid(field: string, message: string, messageZh: string): never {
  throw new AppError('VALIDATION.INVALID_INPUT', 400, message, { field, messageZh });
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The UTC instant a `When` stands for; `endOfDay` reads a bare date as the end of that CST day. */
export function toInstant(when: string, endOfDay: boolean): Date {
  if (DATE_ONLY.test(when)) {
    const start = new Date(`${when}T00:00:00+08:00`);
    return endOfDay ? new Date(start.getTime() + DAY_MS) : start;
  }
  return new Date(when);
}
