import { ReadingKinds } from './events';

// A precompiled check of the telemetry payload (`TelemetryReadings.payload`), for the rule engine's
// consumer (libs/messaging `payloadGuard`). The telemetry topic is monitoring's own: ingestion
// validated every reading before writing it, and one record is one reading, so the zod walk (and
// the copy it returns) on the consumer side was a fifth of the engine's CPU for a check already
// made. This guard is the same check written out: it must accept ONLY what the zod schema accepts
// — the property test in telemetry-guard.spec.ts holds it to that — and whatever it refuses goes
// to zod, which dead-letters garbage with its usual message. Keep it in step with events.ts.

const KINDS: ReadonlySet<unknown> = new Set(ReadingKinds.codes);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** `z.number().int()` with bounds (zod 4: a safe integer). */
const intIn = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
/** `z.number()` with bounds (finite). */
const numIn = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const str = (v: unknown, max: number) => typeof v === 'string' && v.length >= 1 && v.length <= max;

function isVitals(v: unknown): boolean {
  if (!isObject(v)) return false;
  return (
    (v['hr'] === undefined || intIn(v['hr'], 0, 300)) &&
    (v['spo2'] === undefined || intIn(v['spo2'], 0, 100)) &&
    (v['sys'] === undefined || intIn(v['sys'], 0, 300)) &&
    (v['dia'] === undefined || intIn(v['dia'], 0, 250)) &&
    (v['glu'] === undefined || numIn(v['glu'], 0, 50))
  );
}

/** True only for a reading `TelemetryReadingSchema` accepts (nested objects may carry extra keys, which zod would strip). */
export function isTelemetryReading(r: unknown): boolean {
  if (!isObject(r)) return false;
  if (!KINDS.has(r['kind']) || !intIn(r['at'], 1, Number.MAX_SAFE_INTEGER)) return false;
  if (r['seq'] !== undefined && !intIn(r['seq'], 0, Number.MAX_SAFE_INTEGER)) return false;
  if (r['battery'] !== undefined && !intIn(r['battery'], 0, 100)) return false;
  if (r['vitals'] !== undefined && !isVitals(r['vitals'])) return false;
  const loc = r['loc'];
  if (loc !== undefined && !(isObject(loc) && numIn(loc['lat'], -90, 90) && numIn(loc['lng'], -180, 180))) return false;
  if (r['level'] !== undefined && !numIn(r['level'], 0, 100)) return false;
  return true;
}

/** True only for a payload `TelemetryReadings.payload` accepts (false ⇒ let zod decide and explain). */
export function isTelemetryReadingsPayload(p: unknown): boolean {
  if (!isObject(p)) return false;
  if (!str(p['deviceId'], 64) || !str(p['vendorId'], 64) || !intIn(p['receivedAt'], 1, Number.MAX_SAFE_INTEGER)) return false;
  const readings = p['readings'];
  if (!Array.isArray(readings) || readings.length < 1 || readings.length > 500) return false;
  for (let i = 0; i < readings.length; i++) if (!isTelemetryReading(readings[i])) return false;
  return true;
}
