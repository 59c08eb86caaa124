import type { TelemetryReading } from '@yiyang/contracts';
import {
  applyActivity,
  applyReading,
  checkInactivity,
  checkSilence,
  DEDUPE_WINDOW_MS,
  DEFAULT_THRESHOLDS,
  emptyState,
  vitalsOutOfRange,
  type Effect,
} from './rules';

const T0 = Date.UTC(2026, 10, 23, 1, 0, 0);
const t = { ...DEFAULT_THRESHOLDS, consecutive: 3 };
const hr = (at: number, value: number): TelemetryReading => ({ kind: 'VITALS', at, vitals: { hr: value } });
const raises = (effects: Effect[]) => effects.filter((e) => e.type === 'raise');

describe('exact duplicates', () => {
  it('drops the same (kind, at, seq) again, keeps a different kind or seq at the same instant, remembers the last 64', () => {
    const s = emptyState(T0);
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 1, seq: 7 }).duplicate).toBe(false);
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 1, seq: 7 }).duplicate).toBe(true);
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 1, seq: 8 }).duplicate).toBe(false);
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 1 }).duplicate).toBe(false);
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 1 }).duplicate).toBe(true);
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'LOCATION', at: T0 + 1, seq: 7 }).duplicate).toBe(false);
    for (let i = 0; i < 64; i++) applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 100 + i });
    // Pushed out of the memory by 64 newer readings: no longer recognised as an exact duplicate.
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 1, seq: 7 }).duplicate).toBe(false);
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 163 }).duplicate).toBe(true);
  });
});

describe('instant rules (SOS, fall, smoke, gas)', () => {
  it('raises once per incident: a duplicate and a second press inside the window merge', () => {
    const s = emptyState(T0);
    const first = applyReading(s, 'SOS_BUTTON', t, { kind: 'SOS', at: T0 + 1000 });
    expect(raises(first.effects)).toMatchObject([{ kind: 'SOS', severity: 'CRITICAL', episode: T0 + 1000 }]);
    expect(first.durable).toBe(true);
    expect(applyReading(s, 'SOS_BUTTON', t, { kind: 'SOS', at: T0 + 1000 }).duplicate).toBe(true);
    expect(raises(applyReading(s, 'SOS_BUTTON', t, { kind: 'SOS', at: T0 + 30_000 }).effects)).toEqual([]);
    // A late, out-of-order press from before the first one, inside the window: same incident.
    expect(raises(applyReading(s, 'SOS_BUTTON', t, { kind: 'SOS', at: T0 - 5_000 }).effects)).toEqual([]);
    const later = applyReading(s, 'SOS_BUTTON', t, { kind: 'SOS', at: T0 + 1000 + DEDUPE_WINDOW_MS + 30_000 });
    expect(raises(later.effects)).toHaveLength(1);
  });

  it('a replayed trigger (state rebuilt without the dedupe memory) names the same episode', () => {
    const a = applyReading(emptyState(T0), 'FALL_DETECTOR', t, { kind: 'FALL', at: T0 + 5 });
    const b = applyReading(emptyState(T0), 'FALL_DETECTOR', t, { kind: 'FALL', at: T0 + 5 });
    expect(raises(a.effects)[0]).toMatchObject({ kind: 'FALL', episode: T0 + 5 });
    expect(raises(b.effects)[0]).toMatchObject({ kind: 'FALL', episode: T0 + 5 });
  });
});

describe('vitals out of range for K consecutive readings', () => {
  it('needs K in a row by measurement time, whatever the arrival order, and alerts once per run', () => {
    const s = emptyState(T0);
    expect(raises(applyReading(s, 'SMART_WATCH', t, hr(T0 + 3000, 140)).effects)).toEqual([]);
    expect(raises(applyReading(s, 'SMART_WATCH', t, hr(T0 + 1000, 150)).effects)).toEqual([]);
    const third = applyReading(s, 'SMART_WATCH', t, hr(T0 + 2000, 145));
    expect(raises(third.effects)).toMatchObject([{ kind: 'VITALS', severity: 'HIGH', episode: T0 + 1000 }]);
    expect((raises(third.effects)[0] as { evidence: unknown[] }).evidence).toHaveLength(3);
    expect(raises(applyReading(s, 'SMART_WATCH', t, hr(T0 + 4000, 150)).effects)).toEqual([]);
    // A duplicate of a reading in the run does not count twice and does not re-raise.
    expect(applyReading(s, 'SMART_WATCH', t, hr(T0 + 2000, 145)).duplicate).toBe(true);
  });

  it('an in-range reading in between breaks the run', () => {
    const s = emptyState(T0);
    applyReading(s, 'SMART_WATCH', t, hr(T0 + 1000, 150));
    applyReading(s, 'SMART_WATCH', t, hr(T0 + 2000, 80));
    const r = applyReading(s, 'SMART_WATCH', t, hr(T0 + 3000, 150));
    expect(raises(r.effects)).toEqual([]);
    expect(r.durable).toBe(true); // out-of-range samples in the window must survive a restart
  });

  it('a run longer than the window alerts once, and only its start, its alert and its end are stored', () => {
    const s = emptyState(T0);
    const outcomes = Array.from({ length: 20 }, (_, i) => applyReading(s, 'SMART_WATCH', t, hr(T0 + (i + 1) * 1000, 140)));
    expect(outcomes.flatMap((o) => raises(o.effects))).toMatchObject([{ kind: 'VITALS', episode: T0 + 1000 }]);
    // Building toward K and the alert itself: stored. Lengthening the alerted run: not.
    expect(outcomes.map((o) => o.durable)).toEqual([true, true, true, ...Array.from({ length: 17 }, () => false)]);
    // The run ends: stored (a restart must not resume the old run into a new one's place).
    expect(applyReading(s, 'SMART_WATCH', t, hr(T0 + 30_000, 80)).durable).toBe(true);
    // A new run after the break is a new episode and alerts again.
    const again = [31, 32, 33].map((k) => applyReading(s, 'SMART_WATCH', t, hr(T0 + k * 1000, 150)));
    expect(again.flatMap((o) => raises(o.effects))).toMatchObject([{ kind: 'VITALS', episode: T0 + 31_000 }]);
  });

  it('after a restart from the state stored at the alert, the same run does not alert again', () => {
    const s = emptyState(T0);
    for (let i = 1; i <= 3; i++) applyReading(s, 'SMART_WATCH', t, hr(T0 + i * 1000, 140)); // alerted, stored
    const stored = structuredClone({ ...s, recent: undefined });
    for (let i = 4; i <= 12; i++) applyReading(s, 'SMART_WATCH', t, hr(T0 + i * 1000, 140)); // not stored
    const restarted = { ...emptyState(T0), ...stored, recent: emptyState(T0).recent };
    const next = applyReading(restarted, 'SMART_WATCH', t, hr(T0 + 13_000, 140));
    expect(raises(next.effects)).toEqual([]);
  });

  it('in-range readings of a healthy device need no write', () => {
    const s = emptyState(T0);
    expect(applyReading(s, 'SMART_WATCH', t, hr(T0 + 1000, 72)).durable).toBe(false);
  });

  it('uses the elder’s own thresholds', () => {
    expect(vitalsOutOfRange({ hr: 110 }, DEFAULT_THRESHOLDS)).toBeNull();
    expect(vitalsOutOfRange({ hr: 110 }, { ...DEFAULT_THRESHOLDS, hrMax: 100 })).toMatch(/heart rate 110/);
    expect(vitalsOutOfRange({ spo2: 86, sys: 190 }, DEFAULT_THRESHOLDS)).toMatch(/SpO2 86%.*systolic 190/);
    expect(vitalsOutOfRange({ glu: 2.8 }, DEFAULT_THRESHOLDS)).toMatch(/glucose 2.8/);
  });
});

describe('battery, silence and inactivity', () => {
  it('raises low battery once and clears it with hysteresis', () => {
    const s = emptyState(T0);
    expect(raises(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 1, battery: 12 }).effects)).toMatchObject([{ kind: 'LOW_BATTERY' }]);
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 2, battery: 11 }).effects).toEqual([]);
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 3, battery: 20 }).effects).toEqual([]);
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 4, battery: 90 }).effects).toMatchObject([{ type: 'clear', kind: 'LOW_BATTERY' }]);
    // An older reading arriving late does not bring the low battery back.
    expect(applyReading(s, 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 2, battery: 10, seq: 9 }).effects).toEqual([]);
  });

  it('silent after 3× the heartbeat interval; speaking again clears it', () => {
    const s = emptyState(T0);
    expect(checkSilence(s, 60, T0 + 180_000)).toBeNull();
    expect(checkSilence(s, 60, T0 + 180_001)).toMatchObject({ kind: 'DEVICE_SILENT', episode: T0 });
    expect(checkSilence(s, 60, T0 + 400_000)).toBeNull(); // one alert per silence
    const back = applyReading(s, 'DOOR_SENSOR', t, { kind: 'HEARTBEAT', at: T0 + 401_000 });
    expect(back.effects).toMatchObject([{ type: 'clear', kind: 'DEVICE_SILENT' }]);
  });

  it('inactivity after N hours at home; activity clears it; a late old reading does not', () => {
    const s = { lastActivityAt: T0, inactiveSince: null as number | null };
    const th = { ...t, inactivityHours: 2 };
    expect(checkInactivity(s, th, T0 + 2 * 3_600_000)).toBeNull();
    expect(checkInactivity(s, th, T0 + 2 * 3_600_000 + 1)).toMatchObject({ kind: 'INACTIVITY', episode: T0 });
    expect(applyActivity(s, T0 - 10)).toBeNull();
    expect(applyActivity(s, T0 + 3 * 3_600_000)).toMatchObject({ type: 'clear', kind: 'INACTIVITY' });
  });

  it('door, motion and bed readings count as activity; a watch heartbeat does not', () => {
    expect(applyReading(emptyState(T0), 'DOOR_SENSOR', t, { kind: 'ACTIVITY', at: T0 + 1 }).activityAt).toBe(T0 + 1);
    expect(applyReading(emptyState(T0), 'SMART_WATCH', t, { kind: 'HEARTBEAT', at: T0 + 1 }).activityAt).toBeNull();
    expect(applyReading(emptyState(T0), 'BP_METER', t, { kind: 'VITALS', at: T0 + 1, vitals: { sys: 120, dia: 80 } }).activityAt).toBe(T0 + 1);
  });
});
