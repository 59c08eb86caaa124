import type { EscalationLevel } from '@yiyang/contracts';

/**
 * The emergency escalation ladder (docs/adr/0007-dispatch.md). On raise, the nearest available
 * responder, the guardians and the community duty worker are all notified at once (level RESPONDER).
 * Each level has an acknowledgement deadline; when it passes unacknowledged the ladder climbs and
 * notifies the next circle again, up to emergency services, and then keeps reminding at the top
 * until someone acknowledges. Nobody is ever "done" with an unacknowledged emergency.
 */
export const LADDER: readonly EscalationLevel[] = ['RESPONDER', 'GUARDIAN', 'COMMUNITY_WORKER', 'EMERGENCY_SERVICES'];

export function nextLevel(level: EscalationLevel): EscalationLevel {
  const i = LADDER.indexOf(level);
  return LADDER[Math.min(i + 1, LADDER.length - 1)];
}
