import { z } from 'zod';

/** The one pagination shape of every list endpoint: `?page=1&pageSize=20` → `{ items, page, pageSize, total }`. */
export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(20),
});
export type PageQuery = z.infer<typeof PageQuery>;

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}
