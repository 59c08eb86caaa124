/** What anomaly detection reads of a charge. */
export interface ChargeFacts {
  visitId: string;
  elderId: string;
  providerId: string;
  serviceDate: string;
  startedAt: string;
  endedAt: string | null;
  grossFen: number;
}

export interface ElderStatusFacts {
  statusHistory: { from: string; to: string; effectiveOn: string }[];
}

export type Anomaly =
  | { type: 'OVERLAPPING_SERVICES'; elderId: string; visitIds: [string, string]; overlapMinutes: number }
  | { type: 'SERVICE_WHILE_DECEASED' | 'SERVICE_WHILE_MOVED_OUT'; elderId: string; visitIds: string[]; since: string }
  | { type: 'SERVICE_WHILE_AWAY' | 'SERVICE_WHILE_IN_HOSPITAL'; elderId: string; absenceId: string; from: string; to: string | null; visitIds: string[] }
  | { type: 'PROVIDER_ABOVE_PEERS'; providerId: string; perElderFen: number; peerMedianFen: number; ratio: number; elders: number; visitIds: string[] };

/** Two charged services for one elder whose times overlap (a visit with no check-out counts as a point). */
export function overlapping(charges: readonly ChargeFacts[]): Anomaly[] {
  const byElder = new Map<string, ChargeFacts[]>();
  for (const c of charges) byElder.set(c.elderId, [...(byElder.get(c.elderId) ?? []), c]);
  const out: Anomaly[] = [];
  for (const [elderId, list] of byElder) {
    const sorted = [...list].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    let open: ChargeFacts | null = null;
    for (const c of sorted) {
      const start = Date.parse(c.startedAt);
      if (open) {
        const openEnd = Date.parse(open.endedAt ?? open.startedAt);
        if (start < openEnd) {
          out.push({ type: 'OVERLAPPING_SERVICES', elderId, visitIds: [open.visitId, c.visitId], overlapMinutes: Math.round((Math.min(openEnd, Date.parse(c.endedAt ?? c.startedAt)) - start) / 60_000) });
        }
      }
      if (!open || Date.parse(c.endedAt ?? c.startedAt) > Date.parse(open.endedAt ?? open.startedAt)) open = c;
    }
  }
  return out;
}

/** The date since which the elder has been deceased or moved out (the latest such change not undone), if any. */
export function inactiveSince(elder: ElderStatusFacts): { status: 'DECEASED' | 'MOVED_OUT'; since: string } | null {
  const history = [...elder.statusHistory].sort((a, b) => (a.effectiveOn < b.effectiveOn ? -1 : 1));
  let current: { status: 'DECEASED' | 'MOVED_OUT'; since: string } | null = null;
  for (const h of history) {
    if (h.to === 'DECEASED' || h.to === 'MOVED_OUT') current = { status: h.to, since: h.effectiveOn };
    else current = null;
  }
  return current;
}

/** Services dated on or after the day the elder died or moved out. */
export function whileInactive(charges: readonly ChargeFacts[], elders: ReadonlyMap<string, ElderStatusFacts>): Anomaly[] {
  const out = new Map<string, Anomaly & { visitIds: string[] }>();
  for (const c of charges) {
    const elder = elders.get(c.elderId);
    const inactive = elder ? inactiveSince(elder) : null;
    if (!inactive || c.serviceDate < inactive.since) continue;
    const key = `${c.elderId}:${inactive.status}`;
    const a = out.get(key) ?? { type: inactive.status === 'DECEASED' ? 'SERVICE_WHILE_DECEASED' : 'SERVICE_WHILE_MOVED_OUT', elderId: c.elderId, visitIds: [], since: inactive.since };
    a.visitIds.push(c.visitId);
    out.set(key, a as never);
  }
  return [...out.values()];
}

export interface AbsenceFacts {
  _id: string;
  elderId: string;
  kind: 'AWAY' | 'IN_HOSPITAL';
  from: string;
  to: string | null;
}

/**
 * Services that started while the elder was recorded away or in hospital: the absence is half-open,
 * [from, to) in UTC instants, and open-ended while `to` is null. One finding per absence.
 */
export function duringAbsence(charges: readonly ChargeFacts[], absences: readonly AbsenceFacts[]): Anomaly[] {
  const byElder = new Map<string, AbsenceFacts[]>();
  for (const a of absences) byElder.set(a.elderId, [...(byElder.get(a.elderId) ?? []), a]);
  const out = new Map<string, Anomaly & { visitIds: string[] }>();
  for (const c of charges) {
    const start = Date.parse(c.startedAt);
    for (const a of byElder.get(c.elderId) ?? []) {
      if (start < Date.parse(a.from) || (a.to !== null && start >= Date.parse(a.to))) continue;
      const found = out.get(a._id) ?? { type: a.kind === 'IN_HOSPITAL' ? 'SERVICE_WHILE_IN_HOSPITAL' : 'SERVICE_WHILE_AWAY', elderId: c.elderId, absenceId: a._id, from: a.from, to: a.to, visitIds: [] };
      found.visitIds.push(c.visitId);
      out.set(a._id, found as never);
    }
  }
  return [...out.values()];
}

/**
 * Providers whose billing per elder served is far above their peers': more than `factor` × the
 * median of the other providers (needs at least `minPeers` peers to mean anything).
 */
export function abovePeers(charges: readonly ChargeFacts[], factor = 2, minPeers = 3): Anomaly[] {
  const byProvider = new Map<string, { gross: number; elders: Set<string>; visits: ChargeFacts[] }>();
  for (const c of charges) {
    const p = byProvider.get(c.providerId) ?? { gross: 0, elders: new Set<string>(), visits: [] };
    p.gross += c.grossFen;
    p.elders.add(c.elderId);
    p.visits.push(c);
    byProvider.set(c.providerId, p);
  }
  const perElder = new Map([...byProvider].map(([id, p]) => [id, Math.round(p.gross / p.elders.size)]));
  const out: Anomaly[] = [];
  for (const [providerId, value] of perElder) {
    const peers = [...perElder].filter(([id]) => id !== providerId).map(([, v]) => v).sort((a, b) => a - b);
    if (peers.length < minPeers) continue;
    const mid = Math.floor(peers.length / 2);
    const median = peers.length % 2 ? peers[mid] : Math.round((peers[mid - 1] + peers[mid]) / 2);
    if (median > 0 && value > factor * median) {
      const p = byProvider.get(providerId)!;
      const top = [...p.visits].sort((a, b) => b.grossFen - a.grossFen).slice(0, 20).map((v) => v.visitId);
      out.push({ type: 'PROVIDER_ABOVE_PEERS', providerId, perElderFen: value, peerMedianFen: median, ratio: Math.round((value / median) * 100) / 100, elders: p.elders.size, visitIds: top });
    }
  }
  return out;
}
