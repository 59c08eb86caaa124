import { distanceMetres, type LatLng } from '@yiyang/geo';
import { chinaClock, chinaDate } from '../../shared/time';
import type { CaregiverEntry, CaregiverIndex } from './caregiver-index';

/**
 * The matching score (higher is better). Documented in docs/adr/0007-dispatch.md:
 *
 *   score = 100
 *         − 10 × travel distance in km                (travel: nearer is better, 5 km costs 50)
 *         + 30 if the worker served this elder before  (continuity of care)
 *         −  8 × orders the worker currently holds     (workload fairness)
 *         ± 15 when the elder states a caregiver gender preference (match / mismatch)
 *
 * Hard filters come first: active, the catalogue item among the worker's skills, a certification
 * valid on the service date, the window's start inside the worker's weekly availability, and the
 * worker's provider active, offering the item and contracted for the elder's community or street.
 */
export const SCORE_WEIGHTS = {
  base: 100,
  perKm: 10,
  continuity: 30,
  perOpenOrder: 8,
  genderPreference: 15,
} as const;

export interface MatchElder {
  home: LatLng;
  homeCell: string;
  preferredGender: 'FEMALE' | 'MALE' | null;
  /** Caregivers who served this elder before. */
  servedBy: readonly string[];
}

export interface MatchRequest {
  elder: MatchElder;
  itemCode: string;
  /** When the service starts (ASAP: now). */
  startAt: Date;
  /** Providers contracted (and active, offering the item) for the elder's community on the service date. */
  eligibleProviders: ReadonlySet<string>;
  /** Workers not to offer again (declined or timed out on this order). */
  excluded?: ReadonlySet<string>;
  radiusMeters: number;
  /** How many ranked candidates to return. */
  limit: number;
  /** Open orders each worker currently holds. */
  workload: (caregiverId: string) => number;
}

export interface Candidate {
  caregiverId: string;
  providerId: string;
  score: number;
  distanceMeters: number;
}

export function availableAt(entry: Pick<CaregiverEntry, 'weeklyAvailability'>, at: Date): boolean {
  const { day, time } = chinaClock(at);
  return entry.weeklyAvailability.some((s) => s.day === day && s.from <= time && time < s.to);
}

export function certifiedOn(entry: Pick<CaregiverEntry, 'certifiedUntil'>, date: string): boolean {
  return entry.certifiedUntil !== null && entry.certifiedUntil >= date;
}

export function scoreCandidate(
  distanceMeters: number,
  servedBefore: boolean,
  openOrders: number,
  gender: 'FEMALE' | 'MALE',
  preferred: 'FEMALE' | 'MALE' | null,
): number {
  const w = SCORE_WEIGHTS;
  let score = w.base - (w.perKm * distanceMeters) / 1000 - w.perOpenOrder * openOrders;
  if (servedBefore) score += w.continuity;
  if (preferred) score += gender === preferred ? w.genderPreference : -w.genderPreference;
  return Math.round(score * 100) / 100;
}

/** Ranked candidates for one order, from the H3 rings around the elder's home (no full scan). */
export function selectCandidates(index: CaregiverIndex, req: MatchRequest): Candidate[] {
  const date = chinaDate(req.startAt);
  const found: Candidate[] = [];
  // Walk rings outward; once `limit × 3` eligible workers are in hand, finish that ring and stop:
  // farther rings can only score lower on distance, and the rest of the score is bounded.
  let stopAfterRing = Number.POSITIVE_INFINITY;
  for (const { entry, ring } of index.near(req.elder.homeCell, req.radiusMeters)) {
    if (ring > stopAfterRing) break;
    if (!entry.active || !req.eligibleProviders.has(entry.providerId)) continue;
    if (req.excluded?.has(entry.caregiverId)) continue;
    if (!entry.skills.includes(req.itemCode) || !certifiedOn(entry, date) || !availableAt(entry, req.startAt)) continue;
    const distance = distanceMetres(req.elder.home, entry.home);
    if (distance > req.radiusMeters) continue;
    found.push({
      caregiverId: entry.caregiverId,
      providerId: entry.providerId,
      distanceMeters: Math.round(distance),
      score: scoreCandidate(distance, req.elder.servedBy.includes(entry.caregiverId), req.workload(entry.caregiverId), entry.gender, req.elder.preferredGender),
    });
    if (found.length >= req.limit * 3 && stopAfterRing === Number.POSITIVE_INFINITY) stopAfterRing = ring + 1;
  }
  return found.sort((a, b) => b.score - a.score || a.distanceMeters - b.distanceMeters || a.caregiverId.localeCompare(b.caregiverId)).slice(0, req.limit);
}

/** The nearest active worker of any kind within the radius (emergency responder: no skill filter). */
export function nearestResponders(index: CaregiverIndex, home: LatLng, homeCell: string, at: Date, radiusMeters: number, limit: number, excluded: ReadonlySet<string> = new Set()): Candidate[] {
  const found: Candidate[] = [];
  for (const { entry } of index.near(homeCell, radiusMeters)) {
    if (!entry.active || excluded.has(entry.caregiverId) || !availableAt(entry, at)) continue;
    const distance = distanceMetres(home, entry.home);
    if (distance > radiusMeters) continue;
    found.push({ caregiverId: entry.caregiverId, providerId: entry.providerId, distanceMeters: Math.round(distance), score: -distance });
  }
  return found.sort((a, b) => a.distanceMeters - b.distanceMeters).slice(0, limit);
}
