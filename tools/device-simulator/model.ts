/**
 * A realistic stream of device readings for the monitoring service (no I/O here; run.ts sends it).
 *
 * Each simulated device follows its kind: watches report heart rate and SpO2 every few minutes
 * with a slow random walk (and now and then an elder whose heart rate runs high for a while), BP
 * and glucose meters report when someone measures (mornings and evenings), door/motion/bed sensors
 * report activity in waking hours, every device sends heartbeats at its interval with a slowly
 * draining battery, and rare events happen at plausible rates: SOS presses, falls, smoke, gas, and
 * devices that go silent for a while (flat battery, unplugged gateway).
 */
import { DEFAULT_HEARTBEAT_SEC, type DeviceKind } from '@yiyang/contracts';
export type SimKind = DeviceKind;

export interface SimReading {
  externalId: string;
  kind: 'HEARTBEAT' | 'SOS' | 'FALL' | 'VITALS' | 'ACTIVITY' | 'LOCATION' | 'SMOKE' | 'GAS';
  at: number;
  seq: number;
  battery?: number;
  vitals?: { hr?: number; spo2?: number; sys?: number; dia?: number; glu?: number };
  loc?: { lat: number; lng: number };
  level?: number;
}

/** Per-device probabilities of the rare events, per simulated hour. */
export interface EventRates {
  sosPerHour: number;
  fallPerHour: number;
  smokePerHour: number;
  gasPerHour: number;
  /** Chance per hour that a device falls silent (for 1–6 hours). */
  silencePerHour: number;
  /** Chance per hour that a watch wearer's heart rate runs high for ~30 min. */
  tachycardiaPerHour: number;
}

export const DEFAULT_RATES: EventRates = {
  sosPerHour: 1 / (24 * 30), // about one press a month per button
  fallPerHour: 1 / (24 * 90),
  smokePerHour: 1 / (24 * 365),
  gasPerHour: 1 / (24 * 365),
  silencePerHour: 1 / (24 * 14),
  tachycardiaPerHour: 1 / (24 * 20),
};

/** Small deterministic PRNG (mulberry32) so a run can be repeated. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class SimDevice {
  private seq = 0;
  private battery: number;
  private nextHeartbeat: number;
  private silentUntil = 0;
  private hr: number;
  private tachyUntil = 0;
  private readonly rnd: () => number;

  constructor(
    readonly externalId: string,
    readonly kind: SimKind,
    readonly home: { lat: number; lng: number },
    seed: number,
    now: number,
    private readonly rates: EventRates = DEFAULT_RATES,
    /** Overrides the kind's heartbeat (a bench drives every device at one reading per N seconds). */
    readonly intervalSec: number = DEFAULT_HEARTBEAT_SEC[kind],
  ) {
    this.rnd = prng(seed);
    this.battery = 40 + Math.floor(this.rnd() * 60);
    this.nextHeartbeat = now + Math.floor(this.rnd() * intervalSec * 1000);
    this.hr = 62 + Math.floor(this.rnd() * 20);
  }

  /** Readings due between the previous call and `now` (call every second or so). */
  tick(now: number, elapsedSec: number): SimReading[] {
    const out: SimReading[] = [];
    if (now < this.silentUntil) return out;
    const hours = elapsedSec / 3_600;
    const chance = (perHour: number) => this.rnd() < perHour * hours;
    if (chance(this.rates.silencePerHour)) {
      this.silentUntil = now + (1 + this.rnd() * 5) * 3_600_000;
      return out;
    }
    const base = { externalId: this.externalId, at: now };
    if (this.kind === 'SOS_BUTTON' || this.kind === 'SOS_WATCH' || this.kind === 'SMART_WATCH') {
      if (chance(this.rates.sosPerHour)) out.push({ ...base, kind: 'SOS', seq: ++this.seq, loc: this.jitter() });
    }
    if (this.kind === 'FALL_DETECTOR' || this.kind === 'SMART_WATCH' || this.kind === 'SOS_WATCH') {
      if (chance(this.rates.fallPerHour)) out.push({ ...base, kind: 'FALL', seq: ++this.seq });
    }
    if (this.kind === 'SMOKE_DETECTOR' && chance(this.rates.smokePerHour)) out.push({ ...base, kind: 'SMOKE', seq: ++this.seq, level: 8 + Math.round(this.rnd() * 20) });
    if (this.kind === 'GAS_DETECTOR' && chance(this.rates.gasPerHour)) out.push({ ...base, kind: 'GAS', seq: ++this.seq, level: 20 + Math.round(this.rnd() * 40) });

    if (now >= this.nextHeartbeat) {
      this.nextHeartbeat = now + this.intervalSec * 1000;
      this.battery = Math.max(0, this.battery - (this.rnd() < 0.02 ? 1 : 0));
      if (this.battery <= 3) this.battery = 100; // someone charged it
      out.push(this.periodic(now));
    }
    return out;
  }

  /** The device's periodic reading (heartbeat, vitals or activity) at `now`. */
  periodic(now: number): SimReading {
    // Object literals of one shape per kind (no spread), and the local hour only where it matters:
    // the bench calls this for every reading it sends, on the same 2 cores as the service.
    const seq = ++this.seq;
    switch (this.kind) {
      case 'SMART_WATCH': {
        if (now > this.tachyUntil && this.rnd() < this.rates.tachycardiaPerHour * (this.intervalSec / 3_600)) this.tachyUntil = now + 30 * 60_000;
        const target = now < this.tachyUntil ? 135 : 72;
        this.hr = Math.round(this.hr + (target - this.hr) * 0.3 + (this.rnd() - 0.5) * 6);
        const vitals = { hr: this.hr, spo2: 94 + Math.floor(this.rnd() * 5) };
        return { externalId: this.externalId, at: now, seq, battery: this.battery, kind: 'VITALS', vitals, loc: this.jitter() };
      }
      case 'BP_METER': {
        const vitals = { sys: 118 + Math.round(this.rnd() * 40), dia: 70 + Math.round(this.rnd() * 20), hr: 60 + Math.round(this.rnd() * 25) };
        return { externalId: this.externalId, at: now, seq, battery: this.battery, kind: 'VITALS', vitals };
      }
      case 'GLUCOSE_METER':
        return { externalId: this.externalId, at: now, seq, battery: this.battery, kind: 'VITALS', vitals: { glu: Math.round((4.5 + this.rnd() * 5) * 10) / 10 } };
      case 'DOOR_SENSOR':
      case 'MOTION_SENSOR':
      case 'BED_SENSOR': {
        const hour = new Date(now + 8 * 3_600_000).getUTCHours();
        return { externalId: this.externalId, at: now, seq, battery: this.battery, kind: hour >= 6 && hour <= 22 ? 'ACTIVITY' : 'HEARTBEAT' };
      }
      default:
        return { externalId: this.externalId, at: now, seq, battery: this.battery, kind: 'HEARTBEAT' };
    }
  }

  private jitter() {
    return { lat: Math.round((this.home.lat + (this.rnd() - 0.5) * 0.002) * 1e6) / 1e6, lng: Math.round((this.home.lng + (this.rnd() - 0.5) * 0.002) * 1e6) / 1e6 };
  }
}
