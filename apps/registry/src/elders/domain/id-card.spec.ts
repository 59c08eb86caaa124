import { advancedAgeFrom, isAdvancedAge } from './age';
import { checkIdCardAgainst, composeIdCard as makeIdCard, parseIdCard } from './id-card';

describe('ID-card number (GB 11643, ISO 7064 MOD 11-2)', () => {
  const today = '2026-06-01';

  it('accepts the standard’s published example and reads birth date and gender from it', () => {
    const parsed = parseIdCard('11010519491231002x', today);
    expect(parsed).toEqual({ ok: true, facts: { number: '11010519491231002X', birthDate: '1949-12-31', gender: 'FEMALE' } });
  });

  it('reads an odd 17th digit as male', () => {
    const parsed = parseIdCard(makeIdCard('130203', '1940-03-05', '011'), today);
    expect(parsed.ok && parsed.facts.gender).toBe('MALE');
  });

  it.each([
    ['too short', '1101051949123100', 'FORMAT'],
    ['letters inside', '11010519491231A02X', 'FORMAT'],
    ['wrong check digit', '110105194912310021', 'CHECKSUM'],
    ['two digits swapped', '11010519491231020X', 'CHECKSUM'],
  ])('refuses %s', (_, number, reason) => {
    const parsed = parseIdCard(number, today);
    expect(parsed.ok ? null : parsed.problem.reason).toBe(reason);
  });

  it('refuses an embedded birth date that does not exist or lies in the future', () => {
    for (const birth of ['1950-02-30', '2027-01-01']) {
      const parsed = parseIdCard(makeIdCard('130203', birth, '012'), today);
      expect(parsed.ok ? null : parsed.problem.reason).toBe('BIRTH_DATE');
    }
  });

  it('cross-checks the birth date and gender entered beside the number', () => {
    const parsed = parseIdCard(makeIdCard('130203', '1940-03-05', '011'), today);
    if (!parsed.ok) throw new Error('fixture');
    expect(checkIdCardAgainst(parsed.facts, { birthDate: '1940-03-05', gender: 'MALE' })).toBeNull();
    expect(checkIdCardAgainst(parsed.facts, { gender: 'MALE' })).toBeNull();
    expect(checkIdCardAgainst(parsed.facts, { birthDate: '1940-03-06', gender: 'MALE' })?.reason).toBe('BIRTH_DATE_MISMATCH');
    expect(checkIdCardAgainst(parsed.facts, { gender: 'FEMALE' })?.reason).toBe('GENDER_MISMATCH');
  });
});

describe('advanced age (高龄, 80+)', () => {
  it('starts on the 80th birthday', () => {
    expect(isAdvancedAge('1946-06-01', '2026-05-31')).toBe(false);
    expect(isAdvancedAge('1946-06-01', '2026-06-01')).toBe(true);
    expect(advancedAgeFrom('1946-06-01')).toBe('2026-06-01');
  });

  it('puts a 29 February birthday on its own day, as 80 years on is again a leap year', () => {
    expect(isAdvancedAge('1944-02-29', '2024-02-28')).toBe(false);
    expect(isAdvancedAge('1944-02-29', '2024-02-29')).toBe(true);
    expect(advancedAgeFrom('1944-02-29')).toBe('2024-02-29');
  });
});
