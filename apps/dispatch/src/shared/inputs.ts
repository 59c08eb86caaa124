import { z } from 'zod';

export const ChinaLatLng = z.object({ lat: z.number().min(3).max(54), lng: z.number().min(73).max(136) });
export const Reason = z.string().trim().min(2).max(500);
export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(20),
});
export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}
