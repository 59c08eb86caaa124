import { distanceMetres, type LatLng } from '@yiyang/geo';

/** Straight-line distance × this ≈ street distance in a Chinese city district. */
export const DETOUR_FACTOR = 1.3;
/** Metres per minute a caregiver covers between homes (≈ 15 km/h, an e-bike in town). */
export const METRES_PER_MINUTE = 250;

export interface RouteStop {
  id: string;
  location: LatLng | null;
  state: string;
  windowFrom: Date;
  windowTo: Date;
  minutes: number;
  /** Already started (checked in) at this instant. */
  startedAt?: Date | null;
  urgent?: boolean;
}

export interface PlannedStop<S extends RouteStop> {
  stop: S;
  legMeters: number;
  travelMinutes: number;
  plannedStart: Date;
  plannedEnd: Date;
  /** The planned start is after the window closes. */
  late: boolean;
}

export function travelMinutes(meters: number): number {
  return meters === 0 ? 0 : Math.max(1, Math.ceil(meters / METRES_PER_MINUTE));
}

/**
 * Orders the day's stops into a route (docs/adr/0007-dispatch.md, "My day"): the visit in progress
 * first, then the stop being travelled to (EN_ROUTE), then, greedily from where the caregiver will
 * be, the stop that can START earliest — arrival time, or the window's opening if later — with
 * URGENT orders before normal ones whose start is not earlier, and ties going to the nearer stop. So
 * open-window (ASAP) work is visited nearest-first and fixed appointments fall into place by time.
 * Street distance is the straight line × 1.3, travelled at 250 m/min.
 */
export function planRoute<S extends RouteStop>(stops: readonly S[], from: LatLng | null, now: Date): PlannedStop<S>[] {
  const out: PlannedStop<S>[] = [];
  let pos = from;
  let t = now;
  const place = (s: S) => {
    const leg = pos && s.location ? Math.round(distanceMetres(pos, s.location) * DETOUR_FACTOR) : 0;
    const travel = travelMinutes(leg);
    const start = s.startedAt ?? new Date(Math.max(t.getTime() + travel * 60_000, s.windowFrom.getTime()));
    const end = new Date(Math.max(start.getTime() + s.minutes * 60_000, s.startedAt ? now.getTime() : 0));
    out.push({ stop: s, legMeters: s.startedAt ? 0 : leg, travelMinutes: s.startedAt ? 0 : travel, plannedStart: start, plannedEnd: end, late: !s.startedAt && start > s.windowTo });
    pos = s.location ?? pos;
    t = end;
  };
  const rest = [...stops];
  const take = (pred: (s: S) => boolean) => {
    for (const s of rest.filter(pred).sort((a, b) => a.windowFrom.getTime() - b.windowFrom.getTime())) {
      rest.splice(rest.indexOf(s), 1);
      place(s);
    }
  };
  take((s) => s.state === 'CHECKED_IN');
  take((s) => s.state === 'EN_ROUTE');
  while (rest.length > 0) {
    let best = 0;
    let bestKey: [number, number, number] | null = null;
    for (let i = 0; i < rest.length; i++) {
      const s = rest[i];
      const leg = pos && s.location ? distanceMetres(pos, s.location) * DETOUR_FACTOR : 0;
      const start = Math.max(t.getTime() + travelMinutes(Math.round(leg)) * 60_000, s.windowFrom.getTime());
      const key: [number, number, number] = [start, s.urgent ? 0 : 1, leg];
      if (!bestKey || key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
        best = i;
        bestKey = key;
      }
    }
    place(rest.splice(best, 1)[0]);
  }
  return out;
}
