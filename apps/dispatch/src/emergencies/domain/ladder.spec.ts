import { LADDER, nextLevel } from './ladder';

describe('emergency ladder', () => {
  it('climbs responder → guardian → community → emergency services and stays at the top', () => {
    expect(LADDER).toEqual(['RESPONDER', 'GUARDIAN', 'COMMUNITY_WORKER', 'EMERGENCY_SERVICES']);
    expect(nextLevel('RESPONDER')).toBe('GUARDIAN');
    expect(nextLevel('GUARDIAN')).toBe('COMMUNITY_WORKER');
    expect(nextLevel('COMMUNITY_WORKER')).toBe('EMERGENCY_SERVICES');
    expect(nextLevel('EMERGENCY_SERVICES')).toBe('EMERGENCY_SERVICES');
  });
});
