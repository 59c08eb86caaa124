import { abovePeers, duringAbsence, inactiveSince, overlapping, whileInactive, type ChargeFacts } from './detect';

const c = (visitId: string, elderId: string, startedAt: string, endedAt: string | null, providerId = 'p1', grossFen = 5000): ChargeFacts => ({
  visitId, elderId, providerId, serviceDate: startedAt.slice(0, 10), startedAt, endedAt, grossFen,
});

describe('anomaly rules', () => {
  it('finds overlapping services of one elder, not back-to-back ones or other elders', () => {
    const found = overlapping([
      c('v1', 'e1', '2026-02-01T01:00:00Z', '2026-02-01T02:00:00Z'),
      c('v2', 'e1', '2026-02-01T01:30:00Z', '2026-02-01T02:30:00Z'),
      c('v3', 'e1', '2026-02-01T02:30:00Z', '2026-02-01T03:00:00Z'),
      c('v4', 'e2', '2026-02-01T01:30:00Z', '2026-02-01T02:30:00Z'),
    ]);
    expect(found).toEqual([{ type: 'OVERLAPPING_SERVICES', elderId: 'e1', visitIds: ['v1', 'v2'], overlapMinutes: 30 }]);
  });

  it('flags services on or after the day of death or moving out; a return to active clears it', () => {
    expect(inactiveSince({ statusHistory: [{ from: 'ACTIVE', to: 'MOVED_OUT', effectiveOn: '2026-01-10' }, { from: 'MOVED_OUT', to: 'ACTIVE', effectiveOn: '2026-01-20' }] })).toBeNull();
    const elders = new Map([['e1', { statusHistory: [{ from: 'ACTIVE', to: 'DECEASED', effectiveOn: '2026-02-05' }] }]]);
    const found = whileInactive([c('v1', 'e1', '2026-02-04T01:00:00Z', null), c('v2', 'e1', '2026-02-05T01:00:00Z', null), c('v3', 'e1', '2026-02-09T01:00:00Z', null)], elders);
    expect(found).toEqual([{ type: 'SERVICE_WHILE_DECEASED', elderId: 'e1', visitIds: ['v2', 'v3'], since: '2026-02-05' }]);
  });

  it('flags services that started while the elder was away or in hospital ([from, to), open-ended while not back)', () => {
    const absences = [
      { _id: 'a1', elderId: 'e1', kind: 'IN_HOSPITAL' as const, from: '2026-03-10T02:00:00Z', to: '2026-03-15T00:00:00Z' },
      { _id: 'a2', elderId: 'e1', kind: 'AWAY' as const, from: '2026-03-20T00:00:00Z', to: null },
    ];
    const found = duringAbsence(
      [
        c('before', 'e1', '2026-03-10T01:59:00Z', '2026-03-10T02:30:00Z'), // started before admission
        c('in1', 'e1', '2026-03-10T02:00:00Z', null),
        c('in2', 'e1', '2026-03-14T23:59:00Z', null),
        c('back', 'e1', '2026-03-15T00:00:00Z', null), // the end instant is outside
        c('away', 'e1', '2026-03-28T01:00:00Z', null),
        c('other', 'e2', '2026-03-12T01:00:00Z', null),
      ],
      absences,
    );
    expect(found).toEqual([
      { type: 'SERVICE_WHILE_IN_HOSPITAL', elderId: 'e1', absenceId: 'a1', from: '2026-03-10T02:00:00Z', to: '2026-03-15T00:00:00Z', visitIds: ['in1', 'in2'] },
      { type: 'SERVICE_WHILE_AWAY', elderId: 'e1', absenceId: 'a2', from: '2026-03-20T00:00:00Z', to: null, visitIds: ['away'] },
    ]);
  });

  it('flags a provider billing more than twice the peer median per elder', () => {
    const charges = [
      ...['p1', 'p2', 'p3'].flatMap((p) => [c(`${p}a`, `${p}-e1`, '2026-02-01T01:00:00Z', null, p, 10_000), c(`${p}b`, `${p}-e2`, '2026-02-01T01:00:00Z', null, p, 10_000)]),
      c('x1', 'x-e1', '2026-02-01T01:00:00Z', null, 'px', 30_000),
      c('x2', 'x-e1', '2026-02-02T01:00:00Z', null, 'px', 20_000),
    ];
    const found = abovePeers(charges);
    expect(found).toEqual([expect.objectContaining({ type: 'PROVIDER_ABOVE_PEERS', providerId: 'px', perElderFen: 50_000, peerMedianFen: 10_000, ratio: 5, visitIds: ['x1', 'x2'] })]);
    expect(abovePeers(charges.slice(0, 4))).toEqual([]); // too few peers to judge
  });
});
