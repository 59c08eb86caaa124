import { isTelemetryReadingsPayload, TelemetryReadings } from '@yiyang/contracts';
import fc from 'fast-check';

// The rule engine's consumer trusts `isTelemetryReadingsPayload` instead of walking the zod schema
// (libs/messaging payloadGuard): it must never accept what the schema refuses.

const edgeNumber = fc.oneof(
  fc.integer({ min: -5, max: 400 }),
  fc.double({ min: -200, max: 400, noNaN: false }),
  fc.constantFrom(0, -0, 1, 50, 90, 100, 250, 300, 500, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, Infinity, -Infinity, NaN, 1.5),
);
const junk = fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}), edgeNumber);
const mostly = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ arbitrary: arb, weight: 6 }, { arbitrary: junk, weight: 1 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(fc.oneof({ arbitrary: arb, weight: 8 }, { arbitrary: junk, weight: 1 }), { nil: undefined, freq: 2 });
const ranged = (max: number) => fc.oneof({ arbitrary: fc.integer({ min: 0, max }), weight: 3 }, { arbitrary: edgeNumber, weight: 1 });
const vitals = fc.record({ hr: maybe(ranged(300)), spo2: maybe(ranged(100)), sys: maybe(ranged(300)), dia: maybe(ranged(250)), glu: maybe(ranged(50)) }, { requiredKeys: [] });
const reading = fc.record(
  {
    kind: fc.oneof({ arbitrary: fc.constantFrom('HEARTBEAT', 'SOS', 'FALL', 'VITALS', 'ACTIVITY', 'LOCATION', 'SMOKE', 'GAS'), weight: 6 }, { arbitrary: fc.constantFrom('sos', 'FIRE', ''), weight: 1 }),
    at: mostly(fc.integer({ min: 1, max: 2e12 })),
    seq: maybe(fc.oneof(fc.nat(), edgeNumber)),
    battery: maybe(ranged(100)),
    vitals: maybe(vitals),
    loc: maybe(fc.record({ lat: fc.oneof(fc.double({ min: -90, max: 90, noNaN: true }), edgeNumber), lng: fc.oneof(fc.double({ min: -180, max: 180, noNaN: true }), edgeNumber) })),
    level: maybe(fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), edgeNumber)),
  },
  { requiredKeys: ['kind', 'at'] },
);
const payload = fc.record(
  {
    deviceId: mostly(fc.string({ minLength: 1, maxLength: 66 })),
    vendorId: mostly(fc.string({ minLength: 1, maxLength: 10 })),
    receivedAt: mostly(fc.integer({ min: 1, max: 2e12 })),
    readings: mostly(fc.array(reading, { minLength: 0, maxLength: 3 })),
  },
  { requiredKeys: ['deviceId', 'vendorId', 'receivedAt', 'readings'] },
);

describe('isTelemetryReadingsPayload', () => {
  it('never accepts a payload the zod schema refuses, and agrees on most it accepts', () => {
    let zodAccepted = 0;
    let bothAccepted = 0;
    fc.assert(
      fc.property(payload, (p) => {
        const zod = TelemetryReadings.payload.safeParse(p).success;
        const guard = isTelemetryReadingsPayload(p);
        if (guard) expect(zod).toBe(true);
        if (zod) zodAccepted++;
        if (zod && guard) bothAccepted++;
      }),
      { numRuns: 5_000 },
    );
    // The generator reaches valid payloads, and the guard takes them (else the zod walk remains).
    expect(zodAccepted).toBeGreaterThan(50);
    expect(bothAccepted).toBe(zodAccepted);
  });

  it('accepts what ingestion writes (so the consumer really skips the zod walk)', () => {
    const ok = { deviceId: 'dev-1', vendorId: 'v1', receivedAt: Date.now(), readings: [{ kind: 'VITALS', at: Date.now(), seq: 3, battery: 80, vitals: { hr: 72, spo2: 97 }, loc: { lat: 39.64, lng: 118.17 } }] };
    expect(isTelemetryReadingsPayload(ok)).toBe(true);
    expect(isTelemetryReadingsPayload({ ...ok, readings: [{ kind: 'SMOKE', at: 1, level: 12.5 }, { kind: 'HEARTBEAT', at: 2 }] })).toBe(true);
    expect(isTelemetryReadingsPayload({ ...ok, readings: [] })).toBe(false);
    expect(isTelemetryReadingsPayload({ ...ok, readings: [{ kind: 'VITALS', at: 1, vitals: { hr: 72.5 } }] })).toBe(false);
    expect(isTelemetryReadingsPayload({ ...ok, deviceId: 'x'.repeat(65) })).toBe(false);
  });
});
