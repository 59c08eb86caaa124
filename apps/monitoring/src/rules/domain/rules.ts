import type { AlertKind, AlertSeverity, DeviceKind, TelemetryReading, Vitals } from '@yiyang/contracts';

/**
 * The alert rules, as pure functions over a small per-device state (no I/O here: the consumer
 * keeps the state in memory and decides what to persist when — see rules.consumer.ts).
 *
 * Ordering and duplicates: every decision uses the time the device MEASURED (`at`), never the
 * arrival order, and every alert is named by the episode that caused it (the `at` of its first
 * triggering reading). A duplicate or a replay therefore names the same alert again — which the
 * store refuses — instead of raising a second one.
 */

/** Per-elder thresholds (where it matters); the platform default applies where an elder has none. */
export interface Thresholds {
  hrMin: number;
  hrMax: number;
  spo2Min: number;
  sysMin: number;
  sysMax: number;
  diaMax: number;
  gluMin: number;
  gluMax: number;
  /** Out-of-range readings in a row before a VITALS alert. */
  consecutive: number;
  /** Hours without any activity at home before an INACTIVITY alert (people living alone). */
  inactivityHours: number;
  lowBatteryPct: number;
}

/** Defaults from common clinical alarm limits for older adults (WS/T 2018-style home monitoring practice). */
export const DEFAULT_THRESHOLDS: Thresholds = {
  hrMin: 45,
  hrMax: 120,
  spo2Min: 90,
  sysMin: 90,
  sysMax: 180,
  diaMax: 110,
  gluMin: 3.9,
  gluMax: 16.7,
  consecutive: 3,
  inactivityHours: 12,
  lowBatteryPct: 15,
};

/** Readings of one instant rule closer than this to the last trigger belong to the same incident. */
export const DEDUPE_WINDOW_MS = 10 * 60_000;
/** Battery must climb this far above the threshold before a low-battery condition clears (hysteresis). */
export const BATTERY_HYSTERESIS = 10;
const RECENT_KEYS = 64;

export interface VitalsSample {
  at: number;
  vitals: Vitals;
  /** Why it is out of range, or null when in range. */
  out: string | null;
}

export interface DeviceRuleState {
  /** Latest measurement time seen (max, so a late reading never moves it back). */
  lastSeenAt: number;
  battery: number | null;
  batteryAt: number;
  /** `at` of the first low reading of the open low-battery episode; null when the battery is fine. */
  lowBatterySince: number | null;
  /** Recent vitals by `at`, ascending; bounded. */
  vitals: VitalsSample[];
  /** Episode (`at` of the run's first reading) of the last VITALS alert, so one run alerts once. */
  vitalsEpisode: number | null;
  /** `at` of the last reading that triggered each instant rule (SOS, FALL, SMOKE, GAS). */
  lastTrigger: Partial<Record<AlertKind, number>>;
  /** lastSeenAt at which a DEVICE_SILENT alert was raised and is still open; null otherwise. */
  silentSince: number | null;
  /**
   * The last RECENT_KEYS readings seen, as a ring: (at, kind, seq) of each, so an exact duplicate is
   * dropped without looking further.
   */
  recent: RecentRing;
}

/**
 * (at, seq or -1, kind code) of each remembered reading side by side in one Float64Array (allocated
 * on the device's first reading). Numbers rather than a `kind:at:seq` string per reading: building
 * and comparing those strings was the largest part of `applyReading` in the engine's CPU profile.
 * A typed array rather than three JS arrays: those were a quarter of the engine's heap at 20,000
 * devices (1.5 KB each, 128 traced slots), and every full collection walked them — its pauses were
 * the tail of the SOS latency (bench/telemetry README, fifth round). A typed array's contents are
 * not traced.
 */
export interface RecentRing {
  keys: Float64Array;
  /** Slots in use (≤ RECENT_KEYS). */
  size: number;
  /** Next slot to overwrite. */
  next: number;
}

const NO_KEYS = new Float64Array(0);

export function emptyRing(): RecentRing {
  return { keys: NO_KEYS, size: 0, next: 0 };
}

/** A small number per reading kind, assigned on first sight (the kinds are a closed list, validated at ingestion). */
const kindCodes = new Map<string, number>();
function kindCode(kind: string): number {
  let code = kindCodes.get(kind);
  if (code === undefined) kindCodes.set(kind, (code = kindCodes.size));
  return code;
}

export function emptyState(seenAt: number): DeviceRuleState {
  return { lastSeenAt: seenAt, battery: null, batteryAt: 0, lowBatterySince: null, vitals: [], vitalsEpisode: null, lastTrigger: {}, silentSince: null, recent: emptyRing() };
}

export type Effect =
  | { type: 'raise'; kind: AlertKind; severity: AlertSeverity; episode: number; evidence: TelemetryReading[]; reason: string }
  | { type: 'clear'; kind: AlertKind; reason: string };

export interface ReadingOutcome {
  effects: Effect[];
  /** The change must be stored before the reading counts as handled (rare: out-of-range vitals, triggers, transitions). */
  durable: boolean;
  /** The reading shows someone moving about at home (feeds the inactivity rule). */
  activityAt: number | null;
  duplicate: boolean;
}

export const SEVERITY: Record<AlertKind, AlertSeverity> = {
  SOS: 'CRITICAL',
  FALL: 'CRITICAL',
  SMOKE: 'CRITICAL',
  GAS: 'CRITICAL',
  VITALS: 'HIGH',
  INACTIVITY: 'HIGH',
  DEVICE_SILENT: 'MEDIUM',
  LOW_BATTERY: 'LOW',
};

const INSTANT: Partial<Record<TelemetryReading['kind'], AlertKind>> = { SOS: 'SOS', FALL: 'FALL', SMOKE: 'SMOKE', GAS: 'GAS' };
const ACTIVITY_SENSORS: ReadonlySet<DeviceKind> = new Set(['DOOR_SENSOR', 'MOTION_SENSOR', 'BED_SENSOR']);
const MANUAL_METERS: ReadonlySet<DeviceKind> = new Set(['BP_METER', 'GLUCOSE_METER']);

export function isActivitySensor(kind: DeviceKind): boolean {
  return ACTIVITY_SENSORS.has(kind);
}

/** Why the vitals are out of range, or null. */
export function vitalsOutOfRange(v: Vitals, t: Thresholds): string | null {
  // Nearly every reading is in range: decide that first, without building anything.
  const { hr, spo2, sys, dia, glu } = v;
  if (
    (hr === undefined || (hr >= t.hrMin && hr <= t.hrMax)) &&
    (spo2 === undefined || spo2 >= t.spo2Min) &&
    (sys === undefined || (sys >= t.sysMin && sys <= t.sysMax)) &&
    (dia === undefined || dia <= t.diaMax) &&
    (glu === undefined || (glu >= t.gluMin && glu <= t.gluMax))
  ) {
    return null;
  }
  const out: string[] = [];
  if (v.hr !== undefined && (v.hr < t.hrMin || v.hr > t.hrMax)) out.push(`heart rate ${v.hr} outside ${t.hrMin}–${t.hrMax}`);
  if (v.spo2 !== undefined && v.spo2 < t.spo2Min) out.push(`SpO2 ${v.spo2}% below ${t.spo2Min}%`);
  if (v.sys !== undefined && (v.sys < t.sysMin || v.sys > t.sysMax)) out.push(`systolic ${v.sys} outside ${t.sysMin}–${t.sysMax} mmHg`);
  if (v.dia !== undefined && v.dia > t.diaMax) out.push(`diastolic ${v.dia} above ${t.diaMax} mmHg`);
  if (v.glu !== undefined && (v.glu < t.gluMin || v.glu > t.gluMax)) out.push(`glucose ${v.glu} outside ${t.gluMin}–${t.gluMax} mmol/L`);
  return out.length ? out.join('; ') : null;
}

/** True when (kind, at, seq) is among the device's recent readings; remembers it otherwise. */
function seenRecently(ring: RecentRing, r: TelemetryReading): boolean {
  const seq = r.seq ?? -1;
  const kind = kindCode(r.kind);
  let keys = ring.keys;
  for (let i = 0, end = ring.size * 3; i < end; i += 3) {
    if (keys[i] === r.at && keys[i + 1] === seq && keys[i + 2] === kind) return true;
  }
  if (keys.length === 0) keys = ring.keys = new Float64Array(RECENT_KEYS * 3);
  const o = ring.next * 3;
  keys[o] = r.at;
  keys[o + 1] = seq;
  keys[o + 2] = kind;
  ring.next = (ring.next + 1) % RECENT_KEYS;
  if (ring.size < RECENT_KEYS) ring.size++;
  return false;
}

const DUPLICATE: ReadingOutcome = Object.freeze({ effects: Object.freeze([]) as unknown as Effect[], durable: false, activityAt: null, duplicate: true });

function hasVitals(v: Vitals | undefined): v is Vitals {
  if (!v) return false;
  for (const _ in v) return true;
  return false;
}

function anyOut(list: VitalsSample[]): boolean {
  for (let i = 0; i < list.length; i++) if (list[i].out !== null) return true;
  return false;
}

/** Applies one reading to the device's state; returns what must happen. Mutates `state`. */
export function applyReading(state: DeviceRuleState, deviceKind: DeviceKind, t: Thresholds, r: TelemetryReading): ReadingOutcome {
  if (seenRecently(state.recent, r)) return DUPLICATE;

  const effects: Effect[] = [];
  let durable = false;
  if (r.at > state.lastSeenAt) state.lastSeenAt = r.at;

  // A device that speaks again is no longer silent.
  if (state.silentSince !== null && r.at > state.silentSince) {
    state.silentSince = null;
    effects.push({ type: 'clear', kind: 'DEVICE_SILENT', reason: 'the device reported again' });
    durable = true;
  }

  // Instant rules: one incident per device and rule within the dedupe window.
  const instant = INSTANT[r.kind];
  if (instant) {
    const last = state.lastTrigger[instant];
    if (last === undefined || Math.abs(r.at - last) >= DEDUPE_WINDOW_MS) {
      effects.push({ type: 'raise', kind: instant, severity: SEVERITY[instant], episode: r.at, evidence: [r], reason: instantReason(r) });
    }
    if (last === undefined || r.at > last) state.lastTrigger[instant] = r.at;
    durable = true;
  }

  if (hasVitals(r.vitals)) {
    const hadOut = anyOut(state.vitals);
    const outcome = applyVitals(state, t, r);
    if (outcome) effects.push(outcome);
    // Out-of-range samples in the window must survive a restart (the count toward K), and so must
    // the end of a run. A reading that only lengthens a run already alerted — stored when it
    // alerted, with its episode — changes no decision a restart could make differently (the
    // stored window still ends in that run, so replaying resumes it under the same episode): not
    // stored, or every reading of an elder whose vitals stay out of range for hours is a write.
    const lengthensAlertedRun = outcome === null && vitalsSampleOut(state, r.at) && inAlertedRun(state, t);
    durable ||= !lengthensAlertedRun && (hadOut || anyOut(state.vitals));
  }

  if (r.battery !== undefined && r.at >= state.batteryAt) {
    state.battery = r.battery;
    state.batteryAt = r.at;
    if (state.lowBatterySince === null && r.battery <= t.lowBatteryPct) {
      state.lowBatterySince = r.at;
      effects.push({ type: 'raise', kind: 'LOW_BATTERY', severity: SEVERITY.LOW_BATTERY, episode: r.at, evidence: [r], reason: `battery ${r.battery}% ≤ ${t.lowBatteryPct}%` });
      durable = true;
    } else if (state.lowBatterySince !== null && r.battery >= t.lowBatteryPct + BATTERY_HYSTERESIS) {
      state.lowBatterySince = null;
      effects.push({ type: 'clear', kind: 'LOW_BATTERY', reason: `battery back at ${r.battery}%` });
      durable = true;
    }
  }

  const activity =
    r.kind === 'ACTIVITY' || r.kind === 'SOS' || (r.kind === 'VITALS' && MANUAL_METERS.has(deviceKind)) ? r.at : null;
  return { effects, durable, activityAt: activity, duplicate: false };
}

function instantReason(r: TelemetryReading): string {
  switch (r.kind) {
    case 'SOS':
      return 'SOS button pressed';
    case 'FALL':
      return 'fall detected';
    case 'SMOKE':
      return r.level !== undefined ? `smoke detected (${r.level} %/m)` : 'smoke detected';
    default:
      return r.level !== undefined ? `gas detected (${r.level} % LEL)` : 'gas detected';
  }
}

/** The sample measured at `at` is in the window and out of range. */
function vitalsSampleOut(state: DeviceRuleState, at: number): boolean {
  for (let i = state.vitals.length - 1; i >= 0; i--) if (state.vitals[i].at === at) return state.vitals[i].out !== null;
  return false;
}

/** Where the run of out-of-range samples at the end of the window starts (the window's length: none). */
function runStart(list: readonly VitalsSample[]): number {
  let start = list.length;
  while (start > 0 && list[start - 1].out !== null) start--;
  return start;
}

/**
 * The window ends in a run of K or more that has alerted: its first sample is the stored episode,
 * or the run fills the whole (trimmed) window and began no later than its first sample — a run
 * reaches K while its start is still in the window (K ≤ half the window), and alerts then.
 */
function inAlertedRun(state: DeviceRuleState, t: Thresholds): boolean {
  const list = state.vitals;
  const start = runStart(list);
  if (list.length - start < t.consecutive || state.vitalsEpisode === null) return false;
  return list[start].at === state.vitalsEpisode || (start === 0 && list.length >= vitalsWindow(t) && state.vitalsEpisode <= list[0].at);
}

const vitalsWindow = (t: Thresholds) => Math.max(2 * t.consecutive, 6);

function applyVitals(state: DeviceRuleState, t: Thresholds, r: TelemetryReading): Effect | null {
  const vitals = r.vitals as Vitals;
  const sample: VitalsSample = { at: r.at, vitals, out: vitalsOutOfRange(vitals, t) };
  // Insert by measurement time; the same instant again replaces (a duplicate cannot count twice).
  const list = state.vitals;
  let i = list.length;
  while (i > 0 && list[i - 1].at > sample.at) i--;
  if (i > 0 && list[i - 1].at === sample.at) list[i - 1] = sample;
  else list.splice(i, 0, sample);
  const keep = vitalsWindow(t);
  if (list.length > keep) list.splice(0, list.length - keep);

  // The run of out-of-range readings at the end (by measurement time).
  const start = runStart(list);
  const run = list.length - start;
  if (run < t.consecutive) return null;
  const episode = list[start].at;
  if (state.vitalsEpisode === episode) return null; // this run already alerted
  // A run longer than the window: its start was trimmed, so `episode` moved with the window; the
  // run alerted when it reached K (under an episode no later than the window's first sample).
  if (inAlertedRun(state, t)) return null;
  // A run that began before an earlier alerted run ended is the same episode seen late.
  if (state.vitalsEpisode !== null && episode < state.vitalsEpisode) return null;
  state.vitalsEpisode = episode;
  const evidence = list.slice(start).map((s) => ({ kind: 'VITALS' as const, at: s.at, vitals: s.vitals }));
  const last = list[list.length - 1];
  return {
    type: 'raise',
    kind: 'VITALS',
    severity: SEVERITY.VITALS,
    episode,
    evidence,
    reason: `${last.out} (${run} readings in a row)`,
  };
}

/** Time-based rule: silent for 3× the expected heartbeat interval. Mutates `state` when it fires. */
export function checkSilence(state: DeviceRuleState, heartbeatIntervalSec: number, now: number): Effect | null {
  if (state.silentSince !== null) return null;
  if (now - state.lastSeenAt <= 3 * heartbeatIntervalSec * 1000) return null;
  state.silentSince = state.lastSeenAt;
  const minutes = Math.round((now - state.lastSeenAt) / 60_000);
  return {
    type: 'raise',
    kind: 'DEVICE_SILENT',
    severity: SEVERITY.DEVICE_SILENT,
    episode: state.lastSeenAt,
    evidence: [],
    reason: `no reading for ${minutes} min (expected every ${Math.round(heartbeatIntervalSec / 60)} min)`,
  };
}

export interface ElderActivityState {
  /** Latest activity at home (max). */
  lastActivityAt: number;
  /** lastActivityAt for which an INACTIVITY alert was raised and the person has not moved since. */
  inactiveSince: number | null;
}

/** Time-based rule: no activity at home for N hours, for someone living alone. */
export function checkInactivity(state: ElderActivityState, t: Thresholds, now: number): Effect | null {
  if (state.inactiveSince !== null) return null;
  const quietMs = now - state.lastActivityAt;
  if (quietMs <= t.inactivityHours * 3_600_000) return null;
  state.inactiveSince = state.lastActivityAt;
  return {
    type: 'raise',
    kind: 'INACTIVITY',
    severity: SEVERITY.INACTIVITY,
    episode: state.lastActivityAt,
    evidence: [],
    reason: `no activity at home for ${(quietMs / 3_600_000).toFixed(1)} h (limit ${t.inactivityHours} h), lives alone`,
  };
}

/** Activity at home: the quiet period ends. Returns a clear effect when an inactivity alert was open. */
export function applyActivity(state: ElderActivityState, at: number): Effect | null {
  if (at > state.lastActivityAt) state.lastActivityAt = at;
  if (state.inactiveSince !== null && at > state.inactiveSince) {
    state.inactiveSince = null;
    return { type: 'clear', kind: 'INACTIVITY', reason: 'activity at home again' };
  }
  return null;
}
