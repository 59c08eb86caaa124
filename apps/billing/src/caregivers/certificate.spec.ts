import { holdsCertificate } from './caregiver-subsidies.service';

describe('caregiver skill allowance: certificate rule', () => {
  const cert = '养老护理员职业技能等级证书';
  const caregiver = { certifications: [{ name: `${cert}（四级/中级工）`, number: 'HB-1', expiresOn: '2026-06-30' }, { name: '急救员证', number: 'JJ-1', expiresOn: '2030-01-01' }] };

  it('counts a level-qualified title of the named certificate while it is valid', () => {
    expect(holdsCertificate(caregiver, cert, '2026-06-01')).toBe(true);
    expect(holdsCertificate(caregiver, cert, '2026-06-30')).toBe(true);
    expect(holdsCertificate(caregiver, cert, '2026-07-01')).toBe(false); // expired before the month began
  });

  it('needs the named certificate, or any valid one when the policy names none', () => {
    expect(holdsCertificate(caregiver, '健康照护师', '2026-06-01')).toBe(false);
    expect(holdsCertificate(caregiver, undefined, '2029-01-01')).toBe(true);
    expect(holdsCertificate({ certifications: [] }, undefined, '2026-01-01')).toBe(false);
  });
});
