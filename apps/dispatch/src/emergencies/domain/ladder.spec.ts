import { LADDER, nextLevel } from './ladder';

describe('emergency ladder', () => {
  it('climbs responder → guardian → community → emergency services and stays at the top', () => {
    expect(LADDER).toEqual(['RESPONDER', 'GUARDIAN', 'COMMUNITY', 'EMERGENCY_SERVICES']);
    expect(nextLevel('RESPONDER')).toBe('GUARDIAN');
    expect(nextLevel('GUARDIAN')).toBe('COMMUNITY');
    expect(nextLevel('COMMUNITY')).toBe('EMERGENCY_SERVICES');
    expect(nextLevel('EMERGENCY_SERVICES')).toBe('EMERGENCY_SERVICES');
  });
});
