import { billableQuantity, evaluateVisit, type EvvInput } from './evv';

const home = { lat: 39.641, lng: 118.171 };
const at = (hhmm: string) => new Date(`2026-06-01T${hhmm}:00+08:00`);
const base = (over: Partial<EvvInput> = {}): EvvInput => ({
  home,
  geofenceMeters: 100,
  bookedMinutes: 60,
  checkIn: { at: at('09:00'), location: { lat: home.lat + 0.0002, lng: home.lng }, accuracyMeters: 10 },
  checkOut: { at: at('10:00'), location: home, accuracyMeters: 10 },
  others: [],
  ...over,
});

describe('EVV rules', () => {
  it('verifies a visit at the door for its booked time', () => {
    expect(evaluateVisit(base()).flags).toEqual([]);
  });

  it('flags a check-in outside the geofence, forgiving at most 50 m of GPS accuracy', () => {
    const far = { at: at('09:00'), location: { lat: home.lat + 0.0015, lng: home.lng }, accuracyMeters: 10 }; // ~167 m
    expect(evaluateVisit(base({ checkIn: far })).flags).toEqual(['OUTSIDE_GEOFENCE']);
    expect(evaluateVisit(base({ checkIn: far, geofenceMeters: 200 })).flags).toEqual([]);
    const fuzzy = { ...far, accuracyMeters: 500 };
    expect(evaluateVisit(base({ checkIn: fuzzy })).flags).toEqual(['OUTSIDE_GEOFENCE']);
  });

  it('flags overlapping visits of one caregiver', () => {
    const other = { visitId: 'v0', startedAt: at('09:30'), endedAt: at('10:30'), bookedMinutes: 60, startLocation: home, endLocation: home };
    expect(evaluateVisit(base({ others: [other] })).flags).toEqual(['OVERLAP']);
  });

  it('flags impossible travel between visits, ignores jitter and plausible trips', () => {
    const tenKmAway = { lat: home.lat + 0.09, lng: home.lng };
    const before = (end: string, where = tenKmAway) => ({ visitId: 'v0', startedAt: at('07:00'), endedAt: at(end), bookedMinutes: 60, startLocation: where, endLocation: where });
    expect(evaluateVisit(base({ others: [before('08:55')] })).flags).toEqual(['IMPOSSIBLE_TRAVEL']); // 10 km in 5 min
    expect(evaluateVisit(base({ others: [before('08:30')] })).flags).toEqual([]); // 10 km in 30 min
    expect(evaluateVisit(base({ others: [before('08:59', { lat: home.lat + 0.005, lng: home.lng })] })).flags).toEqual([]); // 550 m
  });

  it('flags a visit far shorter than booked', () => {
    const r = evaluateVisit(base({ checkOut: { at: at('09:20'), location: home, accuracyMeters: 5 } }));
    expect(r.flags).toEqual(['TOO_SHORT']);
    expect(r.details[0]).toContain('20 min of 60');
  });

  it('bills hours in quarter hours capped at the booked time', () => {
    expect(billableQuantity('PER_HOUR', 2, 100, 120)).toBe(1.5);
    expect(billableQuantity('PER_HOUR', 2, 200, 120)).toBe(2);
    expect(billableQuantity('PER_VISIT', 1, 30, 60)).toBe(1);
    expect(billableQuantity('PER_MEAL', 2, 10, 20)).toBe(2);
  });
});
