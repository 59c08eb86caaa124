import { planRoute, type RouteStop } from './route';

const now = new Date('2026-11-23T01:00:00Z'); // 09:00 in Shanghai
const at = (min: number) => new Date(now.getTime() + min * 60_000);
const home = { lat: 39.63, lng: 118.18 };
const east = (m: number) => ({ lat: 39.63, lng: 118.18 + m / 85_900 }); // ≈ metres east at this latitude
const stop = (id: string, location: { lat: number; lng: number }, over: Partial<RouteStop> = {}): RouteStop => ({ id, location, state: 'ACCEPTED', windowFrom: at(-60), windowTo: at(240), minutes: 30, ...over });

describe('planRoute', () => {
  it('puts the visit in progress first, then the stop being travelled to, then open-window work nearest first', () => {
    const plan = planRoute(
      [stop('far', east(3000)), stop('near', east(500)), stop('going', east(4000), { state: 'EN_ROUTE' }), stop('here', east(100), { state: 'CHECKED_IN', startedAt: at(-10) })],
      home,
      now,
    );
    expect(plan.map((p) => p.stop.id)).toEqual(['here', 'going', 'far', 'near']);
    expect(plan[0]).toMatchObject({ legMeters: 0, travelMinutes: 0, plannedStart: at(-10), plannedEnd: at(20) });
    // From "going" (4 km east) the 3 km stop is nearer than the 0.5 km one.
    expect(plan[2].legMeters).toBeLessThan(plan[3].legMeters);
  });

  it('lets fixed appointments fall into place by time and marks a stop that cannot be reached in its window', () => {
    const plan = planRoute([stop('afternoon', east(200), { windowFrom: at(300), windowTo: at(360) }), stop('now', east(2000)), stop('tight', east(10_000), { windowFrom: at(-60), windowTo: at(10) })], home, now);
    expect(plan.map((p) => p.stop.id)).toEqual(['now', 'tight', 'afternoon']);
    expect(plan.find((p) => p.stop.id === 'tight')?.late).toBe(true);
    expect(plan[2].plannedStart).toEqual(at(300));
    expect(plan[0].travelMinutes).toBe(Math.ceil((2000 * 1.3) / 250));
  });

  it('prefers an urgent order over a normal one that could start at the same time', () => {
    const plan = planRoute([stop('normal', east(1000)), stop('urgent', east(1000), { urgent: true })], home, now);
    expect(plan[0].stop.id).toBe('urgent');
  });
});
