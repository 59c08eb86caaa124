import { h3Cell } from '@yiyang/geo';
import { CaregiverIndex, type CaregiverEntry } from './caregiver-index';
import { nearestResponders, scoreCandidate, SCORE_WEIGHTS, selectCandidates, type MatchRequest } from './match';

const HOME = { lat: 39.641, lng: 118.171 };
const TUESDAY_10AM = new Date('2026-06-02T10:00:00+08:00');
let n = 0;
function worker(over: Partial<CaregiverEntry> & { dLat?: number } = {}): CaregiverEntry {
  const home = over.home ?? { lat: HOME.lat + (over.dLat ?? 0.002), lng: HOME.lng };
  return {
    caregiverId: `c${n++}`,
    providerId: 'p1',
    kind: 'CAREGIVER',
    name: 'w',
    gender: 'FEMALE',
    regionCode: '130203001001',
    skills: ['BATHING_ASSIST'],
    certifiedUntil: '2030-01-01',
    home,
    cell: h3Cell(home),
    weeklyAvailability: [{ day: 2, from: '08:00', to: '12:00' }],
    active: true,
    version: 1,
    ...over,
  };
}
const request = (over: Partial<MatchRequest> = {}): MatchRequest => ({
  elder: { home: HOME, homeCell: h3Cell(HOME), preferredGender: null, servedBy: [] },
  itemCode: 'BATHING_ASSIST',
  startAt: TUESDAY_10AM,
  eligibleProviders: new Set(['p1']),
  radiusMeters: 5000,
  limit: 5,
  workload: () => 0,
  ...over,
});

describe('matching', () => {
  it('applies the hard filters: skill, certificate, availability, contracted provider, active, radius', () => {
    const index = new CaregiverIndex();
    const ok = worker();
    for (const w of [
      ok,
      worker({ skills: ['MEAL_DELIVERY'] }),
      worker({ certifiedUntil: '2026-06-01' }),
      worker({ certifiedUntil: null }),
      worker({ weeklyAvailability: [{ day: 2, from: '13:00', to: '17:00' }] }),
      worker({ providerId: 'p-not-contracted' }),
      worker({ active: false }),
      worker({ dLat: 0.07 }), // ~7.8 km
    ]) index.upsert(w);
    expect(selectCandidates(index, request()).map((c) => c.caregiverId)).toEqual([ok.caregiverId]);
  });

  it('ranks by the documented score: distance, continuity, workload, gender preference', () => {
    expect(scoreCandidate(1000, false, 0, 'FEMALE', null)).toBe(SCORE_WEIGHTS.base - SCORE_WEIGHTS.perKm);
    expect(scoreCandidate(2000, true, 0, 'FEMALE', null)).toBeGreaterThan(scoreCandidate(200, false, 0, 'FEMALE', null));
    expect(scoreCandidate(200, false, 3, 'FEMALE', null)).toBeLessThan(scoreCandidate(1500, false, 0, 'FEMALE', null));
    expect(scoreCandidate(200, false, 0, 'MALE', 'FEMALE')).toBeLessThan(scoreCandidate(1500, false, 0, 'FEMALE', 'FEMALE'));

    const index = new CaregiverIndex();
    const near = worker({ dLat: 0.001 });
    const farButKnown = worker({ dLat: 0.015 }); // ~1.7 km, served the elder before
    index.upsert(near);
    index.upsert(farButKnown);
    const ranked = selectCandidates(index, request({ elder: { home: HOME, homeCell: h3Cell(HOME), preferredGender: null, servedBy: [farButKnown.caregiverId] } }));
    expect(ranked.map((c) => c.caregiverId)).toEqual([farButKnown.caregiverId, near.caregiverId]);
    const busy = selectCandidates(index, request({ workload: (id) => (id === near.caregiverId ? 4 : 0) }));
    expect(busy[0].caregiverId).toBe(farButKnown.caregiverId);
  });

  it('excludes workers who declined and keeps a newer snapshot only', () => {
    const index = new CaregiverIndex();
    const a = worker({ dLat: 0.001 });
    const b = worker({ dLat: 0.003 });
    index.upsert(a);
    index.upsert(b);
    expect(selectCandidates(index, request({ excluded: new Set([a.caregiverId]) })).map((c) => c.caregiverId)).toEqual([b.caregiverId]);
    expect(index.upsert({ ...a, active: false, version: 1 })).toBe(false);
    expect(index.upsert({ ...a, active: false, version: 2 })).toBe(true);
    expect(selectCandidates(index, request()).map((c) => c.caregiverId)).toEqual([b.caregiverId]);
    // Moving home moves the worker between cells.
    index.upsert({ ...b, home: { lat: HOME.lat + 0.2, lng: HOME.lng }, cell: h3Cell({ lat: HOME.lat + 0.2, lng: HOME.lng }), version: 2 });
    expect(selectCandidates(index, request())).toEqual([]);
  });

  it('finds the nearest available responders for an emergency, whatever their skills', () => {
    const index = new CaregiverIndex();
    const near = worker({ dLat: 0.001, skills: [] });
    const far = worker({ dLat: 0.01, skills: [] });
    index.upsert(far);
    index.upsert(near);
    expect(nearestResponders(index, HOME, h3Cell(HOME), TUESDAY_10AM, 3000, 2).map((c) => c.caregiverId)).toEqual([near.caregiverId, far.caregiverId]);
  });
});
