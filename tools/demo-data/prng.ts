/**
 * A seeded PRNG (mulberry32): every run of the generator builds the same district, so demo
 * screenshots, bug reports and benchmark inputs are reproducible. Not for anything secret.
 */
export class Prng {
  private state: number;

  constructor(seed: number | string) {
    this.state = typeof seed === 'number' ? seed >>> 0 : hashSeed(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** `k` distinct items in their original order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const idx = items.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx
      .slice(0, Math.min(k, items.length))
      .sort((a, b) => a - b)
      .map((i) => items[i]);
  }

  /** A point within `metres` of `centre` (uniform over the disc). */
  near(centre: { lat: number; lng: number }, metres: number): { lat: number; lng: number } {
    const r = metres * Math.sqrt(this.next());
    const theta = 2 * Math.PI * this.next();
    const dLat = (r * Math.cos(theta)) / 111_320;
    const dLng = (r * Math.sin(theta)) / (111_320 * Math.cos((centre.lat * Math.PI) / 180));
    return { lat: round6(centre.lat + dLat), lng: round6(centre.lng + dLng) };
  }
}

export const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

function hashSeed(text: string): number {
  let h = 2_166_136_261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16_777_619);
  return h >>> 0;
}
