import { z } from 'zod';

export const ChinaLatLng = z.object({ lat: z.number().min(3).max(54), lng: z.number().min(73).max(136) });
export const Reason = z.string().trim().min(2).max(500);
// The platform's one pagination shape (service-kit), re-exported beside dispatch's other input pieces.
export { PageQuery, type Page } from '@yiyang/service-kit';
