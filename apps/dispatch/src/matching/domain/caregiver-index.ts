import { gridDiskDistances } from 'h3-js';
import { H3_RES9_CENTRE_SPACING_M, type LatLng } from '@yiyang/geo';

/** What matching needs to know about a worker; kept in memory for every active caregiver. */
export interface CaregiverEntry {
  caregiverId: string;
  providerId: string;
  kind: 'CAREGIVER' | 'VOLUNTEER' | 'SOCIAL_WORKER';
  name: string;
  gender: 'FEMALE' | 'MALE';
  regionCode: string;
  skills: readonly string[];
  /** Latest certification expiry (yyyy-mm-dd), or null when the worker has none. */
  certifiedUntil: string | null;
  home: LatLng;
  cell: string;
  weeklyAvailability: readonly { day: number; from: string; to: string }[];
  active: boolean;
  version: number;
}

/**
 * Caregivers bucketed by the H3 resolution-9 cell of their home base. "Who is near this elder" walks
 * the rings of cells around the elder's home outward and looks only into those buckets — the cost is
 * the number of cells and of workers found in them, never the number of workers registered.
 */
export class CaregiverIndex {
  private readonly byId = new Map<string, CaregiverEntry>();
  private readonly byCell = new Map<string, Map<string, CaregiverEntry>>();

  get size(): number {
    return this.byId.size;
  }

  get(caregiverId: string): CaregiverEntry | undefined {
    return this.byId.get(caregiverId);
  }

  all(): IterableIterator<CaregiverEntry> {
    return this.byId.values();
  }

  /** Replaces the entry if `entry.version` is newer; returns whether it did. */
  upsert(entry: CaregiverEntry): boolean {
    const old = this.byId.get(entry.caregiverId);
    if (old && old.version >= entry.version) return false;
    if (old) this.byCell.get(old.cell)?.delete(old.caregiverId);
    this.byId.set(entry.caregiverId, entry);
    let bucket = this.byCell.get(entry.cell);
    if (!bucket) this.byCell.set(entry.cell, (bucket = new Map()));
    bucket.set(entry.caregiverId, entry);
    return true;
  }

  /**
   * Workers in rings around `cell`, nearest rings first, out to `radiusMeters`. Visiting stops
   * after the ring in which `enough` workers have been yielded (the caller filters and counts).
   */
  *near(cell: string, radiusMeters: number): Generator<{ entry: CaregiverEntry; ring: number }> {
    const rings = Math.ceil(radiusMeters / H3_RES9_CENTRE_SPACING_M) + 1;
    const byRing = gridDiskDistances(cell, rings);
    for (let ring = 0; ring < byRing.length; ring++) {
      for (const c of byRing[ring]) {
        const bucket = this.byCell.get(c);
        if (!bucket) continue;
        for (const entry of bucket.values()) yield { entry, ring };
      }
    }
  }
}
