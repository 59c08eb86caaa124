/**
 * Valid 18-digit resident ID numbers (GB 11643-1999): 6-digit area of first registration, birth
 * date, a 3-digit sequence whose last digit is odd for men and even for women, and an ISO 7064
 * MOD 11-2 check character. Demo and benchmark data only — generated numbers belong to nobody we know.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

export function idCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

/**
 * Hands out unique numbers: the sequence is a counter per (area, birth date, gender), so a
 * 400,000-elder roster never collides (random sequences would, by the birthday paradox).
 */
export class IdCardFactory {
  private readonly used = new Map<string, number>();

  next(area: string, birthDate: string, gender: 'FEMALE' | 'MALE'): string {
    const key = `${area}${birthDate}${gender}`;
    const n = this.used.get(key) ?? 0;
    if (n >= 500) throw new Error(`sequence space exhausted for ${key}`);
    this.used.set(key, n + 1);
    const seq = String(n * 2 + (gender === 'MALE' ? 1 : 0)).padStart(3, '0');
    const first17 = `${area}${birthDate.replace(/-/g, '')}${seq}`;
    return first17 + idCheckChar(first17);
  }
}

/** The same number with a wrong check character — for tests of the checksum rule. */
export function withBadChecksum(id: string): string {
  const good = id[17];
  const bad = CHECK[(CHECK.indexOf(good) + 1) % 11];
  return id.slice(0, 17) + bad;
}
