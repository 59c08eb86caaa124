import 'reflect-metadata';
import { EnvelopeSchema, TelemetryReadings, type TelemetryReading } from '@yiyang/contracts';
import fc from 'fast-check';
import { AlertsModule } from '../alerts/alerts.module';
import { AppModule, monitoringRole } from '../app.module';
import { RulesModule } from '../rules/rules.module';
import { TelemetryModule } from './telemetry.module';
import { TelemetryEnvelopeWriter } from './ingestion.service';

// Ingestion serialises telemetry envelopes from shared parts (TelemetryEnvelopeWriter): the bytes
// must be exactly JSON.stringify of the envelope the service always wrote.

const text = fc.string({ maxLength: 40 });
const reading: fc.Arbitrary<TelemetryReading> = fc.record(
  {
    kind: fc.constantFrom('HEARTBEAT', 'SOS', 'FALL', 'VITALS', 'ACTIVITY', 'LOCATION', 'SMOKE', 'GAS'),
    at: fc.integer({ min: 1, max: 4e12 }),
    seq: fc.nat(),
    battery: fc.integer({ min: 0, max: 100 }),
    vitals: fc.record({ hr: fc.integer({ min: 0, max: 300 }), spo2: fc.integer({ min: 0, max: 100 }), glu: fc.double({ min: 0, max: 50, noNaN: true }) }, { requiredKeys: [] }),
    loc: fc.record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), lng: fc.double({ min: -180, max: 180, noNaN: true }) }),
    level: fc.integer({ min: 0, max: 100 }),
  },
  { requiredKeys: ['kind', 'at'] },
) as fc.Arbitrary<TelemetryReading>;

describe('TelemetryEnvelopeWriter', () => {
  it('writes exactly JSON.stringify of the telemetry envelope, for any ids and readings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4e12 }), text, text, text, fc.uuid(), fc.array(reading, { minLength: 1, maxLength: 5 }), (receivedAt, vendorId, correlationId, deviceId, eventId, readings) => {
        const payload = { deviceId, vendorId, receivedAt, readings };
        const envelope = {
          eventId,
          type: TelemetryReadings.type,
          version: TelemetryReadings.version,
          occurredAt: new Date(receivedAt).toISOString(),
          producer: 'monitoring',
          key: deviceId,
          correlationId,
          causationId: null,
          payload,
        };
        expect(new TelemetryEnvelopeWriter(receivedAt, vendorId, correlationId).write(eventId, payload)).toBe(JSON.stringify(envelope));
      }),
      { numRuns: 300 },
    );
  });

  it('is a valid platform envelope', () => {
    const at = Date.UTC(2026, 10, 23, 4);
    const json = new TelemetryEnvelopeWriter(at, 'v1', 'corr-1').write('0193a0f0-0000-7000-8000-000000000001', { deviceId: 'd1', readings: [{ kind: 'SOS', at }] });
    const parsed = EnvelopeSchema.safeParse(JSON.parse(json));
    expect(parsed.success).toBe(true);
  });
});

describe('MONITORING_ROLE', () => {
  const imports = (role: string) => (AppModule.forRoot({ env: { MONITORING_ROLE: role } }).imports ?? []) as unknown[];

  it('an ingest process has the ingestion endpoint and no rule engine or alert lifecycle (no consumer group)', () => {
    expect(imports('ingest')).toContain(TelemetryModule);
    expect(imports('ingest')).not.toContain(RulesModule);
    expect(imports('ingest')).not.toContain(AlertsModule);
  });

  it('an engine process has the rules and alerts but not the ingestion endpoint; all has both', () => {
    expect(imports('engine')).toEqual(expect.arrayContaining([RulesModule, AlertsModule]));
    expect(imports('engine')).not.toContain(TelemetryModule);
    expect(imports('all')).toEqual(expect.arrayContaining([RulesModule, AlertsModule, TelemetryModule]));
  });

  it('an unknown role stops the boot with the valid ones', () => {
    expect(() => monitoringRole({ env: { MONITORING_ROLE: 'ingestion' } })).toThrow(/all, ingest, engine/);
  });
});
