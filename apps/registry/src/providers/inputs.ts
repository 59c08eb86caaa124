import { AppError } from '@yiyang/service-kit';
import { z } from 'zod';

// Input pieces shared by the provider, caregiver and facility slices. They live beside the
// providers because those are the root of the other two; nothing here knows about storage.

/** A point inside China's bounding box: catches swapped lat/lng and (0,0) before they reach H3. */
export const ChinaLatLng = z.object({ lat: z.number().min(3).max(54), lng: z.number().min(73).max(136) });

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
/** `24:00` may close a slot, so "until midnight" needs no 23:59 hack. */
const CLOCK_OR_MIDNIGHT = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

const Slot = z
  .object({
    day: z.number().int().min(1).max(7),
    from: z.string().regex(CLOCK, 'must be HH:MM'),
    to: z.string().regex(CLOCK_OR_MIDNIGHT, 'must be HH:MM'),
  })
  .refine((s) => s.from < s.to, { path: ['to'], message: 'must be later than from' });

/**
 * Weekly slots (ISO weekday 1 = Monday). Overlapping slots on one day are refused: they would make
 * "is this worker free at 10:00 on Tuesday" ambiguous for the matcher, and they are always a typo.
 */
export const WeeklySlots = z
  .array(Slot)
  .max(50)
  .superRefine((slots, ctx) => {
    slots.forEach((slot, i) => {
      const clash = slots.findIndex((o, j) => j < i && o.day === slot.day && o.from < slot.to && slot.from < o.to);
      if (clash >= 0) ctx.addIssue({ code: 'custom', path: [i], message: `overlaps slot ${clash} on the same day` });
    });
  });

export const IsoDate = z.iso.date();

/** `true` / `false` in a query string. */
export const QueryBool = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Today's calendar date where the platform runs (prices and contracts are dated in local time). */
export function todayInChina(now = new Date()): string {
  return new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

export function concurrentUpdate(): AppError {
  return new AppError('REGISTRY.CONCURRENT_UPDATE', 409, 'Record changed meanwhile; retry', { messageZh: '数据已被修改，请重试' });
}

/** The first duplicate in a list, so a 400 can name the repeated element. */
export function uniqueList<T extends z.ZodType<string>>(item: T, max: number) {
  return z
    .array(item)
    .max(max)
    .superRefine((list, ctx) => {
      list.forEach((v, i) => {
        if (list.indexOf(v) !== i) ctx.addIssue({ code: 'custom', path: [i], message: 'is listed twice' });
      });
    });
}
