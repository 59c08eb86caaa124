import type { VisitFlag } from '@yiyang/contracts';
import { distanceMetres, type LatLng } from '@yiyang/geo';

/**
 * Electronic visit verification rules (docs/adr/0007-dispatch.md). A visit is verified only when
 * none of these holds; otherwise it is flagged and not billable until an operator approves it.
 */
export const EVV_RULES = {
  /** GPS fixes are noisy: up to this much of the reported accuracy is forgiven at the geofence. */
  maxAccuracyAllowanceMeters: 50,
  /** Faster than this between the end of one visit and the start of the next is impossible in a city. */
  maxTravelKmh: 60,
  /** Below this distance, "travel" is GPS jitter, never impossible. */
  minTravelMeters: 1_000,
  /** A visit shorter than this share of the booked duration is flagged. */
  minShareOfBooked: 0.5,
  /** Without a check-out this long after the booked end, the visit is flagged MISSING_CHECK_OUT. */
  checkOutGraceMinutes: 120,
} as const;

export interface Punch {
  at: Date;
  location: LatLng;
  accuracyMeters: number | null;
}

export interface OtherVisit {
  visitId: string;
  startedAt: Date;
  /** null while in progress / never checked out: treated as lasting its booked minutes. */
  endedAt: Date | null;
  bookedMinutes: number;
  startLocation: LatLng;
  endLocation: LatLng | null;
}

export interface EvvInput {
  home: LatLng;
  geofenceMeters: number;
  bookedMinutes: number;
  checkIn: Punch;
  checkOut: Punch;
  /** The same caregiver's other recent visits. */
  others: readonly OtherVisit[];
}

export function outsideGeofence(home: LatLng, punch: Punch, geofenceMeters: number): { distance: number; outside: boolean } {
  const distance = distanceMetres(home, punch.location);
  const allowance = Math.min(punch.accuracyMeters ?? 0, EVV_RULES.maxAccuracyAllowanceMeters);
  return { distance, outside: distance - allowance > geofenceMeters };
}

export function evaluateVisit(input: EvvInput): { flags: VisitFlag[]; details: string[] } {
  const flags = new Set<VisitFlag>();
  const details: string[] = [];
  for (const [name, punch] of [['check-in', input.checkIn], ['check-out', input.checkOut]] as const) {
    const g = outsideGeofence(input.home, punch, input.geofenceMeters);
    if (g.outside) {
      flags.add('OUTSIDE_GEOFENCE');
      details.push(`${name} ${Math.round(g.distance)} m from home (geofence ${input.geofenceMeters} m)`);
    }
  }
  const start = input.checkIn.at.getTime();
  const end = input.checkOut.at.getTime();
  for (const o of input.others) {
    const oStart = o.startedAt.getTime();
    const oEnd = (o.endedAt ?? new Date(oStart + o.bookedMinutes * 60_000)).getTime();
    if (oStart < end && start < oEnd) {
      flags.add('OVERLAP');
      details.push(`overlaps visit ${o.visitId}`);
      continue;
    }
    // Travel from a visit that ended before this one began.
    if (oEnd <= start) {
      const from = o.endLocation ?? o.startLocation;
      const metres = distanceMetres(from, input.checkIn.location);
      const hours = Math.max((start - oEnd) / 3_600_000, 1 / 3600);
      if (metres >= EVV_RULES.minTravelMeters && metres / 1000 / hours > EVV_RULES.maxTravelKmh) {
        flags.add('IMPOSSIBLE_TRAVEL');
        details.push(`${(metres / 1000).toFixed(1)} km from visit ${o.visitId} in ${Math.round(hours * 60)} min`);
      }
    }
  }
  const actualMinutes = (end - start) / 60_000;
  if (actualMinutes < input.bookedMinutes * EVV_RULES.minShareOfBooked) {
    flags.add('TOO_SHORT');
    details.push(`${Math.round(actualMinutes)} min of ${input.bookedMinutes} booked`);
  }
  return { flags: [...flags], details };
}

/** Units billed per the item's unit: hours in quarter hours (capped at the booked hours); otherwise as ordered. */
export function billableQuantity(unit: string, orderedQuantity: number, actualMinutes: number, bookedMinutes: number): number {
  if (unit === 'PER_HOUR') return Math.floor(Math.min(actualMinutes, bookedMinutes) / 15) / 4;
  if (unit === 'PER_VISIT') return 1;
  return orderedQuantity;
}
