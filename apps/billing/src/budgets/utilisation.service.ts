import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { parseInput, REGION_ROLES, type Principal } from '@yiyang/service-kit';
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import type { Journal } from '../ledger/journal';
import { forbidden } from '../shared/scope';

const Query = z.object({ year: z.coerce.number().int().min(2000).max(2100) });

type Row = { paidFen: number; heldFen: number; charges: number };

/**
 * Utilisation per fund source, policy and region for a year, summed from charge, reversal and
 * caregiver-subsidy journals in one streaming pass (net of reversals). Regions are the elder's (or
 * caregiver's) county and street.
 */
@Injectable()
export class UtilisationService {
  private readonly ledger: Collection<Journal>;
  constructor(@InjectConnection() connection: Connection) {
    this.ledger = connection.collection('ledger') as never;
  }

  async report(principal: Principal, query: unknown) {
    const { year } = parseInput(Query, query);
    if (!REGION_ROLES.includes(principal.role) || !principal.regionCode) throw forbidden();
    const byFund = new Map<string, Row>();
    const byPolicy = new Map<string, Row>();
    const byRegion = new Map<string, Row>();
    const add = (m: Map<string, Row>, k: string, paid: number, held: number, n: number) => {
      const r = m.get(k) ?? { paidFen: 0, heldFen: 0, charges: 0 };
      r.paidFen += paid;
      r.heldFen += held;
      r.charges += n;
      m.set(k, r);
    };
    const cursor = this.ledger.find(
      { regionPath: principal.regionCode, kind: { $in: ['CHARGE', 'REVERSAL', 'CAREGIVER_SUBSIDY'] } },
      { projection: { kind: 1, parts: 1, regionPath: 1, serviceDate: 1 } },
    );
    for await (const j of cursor) {
      if (!j.serviceDate?.startsWith(String(year))) continue;
      const sign = j.kind === 'REVERSAL' ? -1 : 1;
      for (const p of j.parts ?? []) {
        const paid = p.held ? 0 : sign * p.amountFen;
        const held = p.held ? sign * p.amountFen : 0;
        add(byFund, p.fundSource, paid, held, sign);
        add(byPolicy, p.policyCode, paid, held, sign);
        add(byRegion, j.regionPath[3] ?? j.regionPath[j.regionPath.length - 1], paid, held, sign);
      }
    }
    const rows = (m: Map<string, Row>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, r]) => ({ key, ...r }));
    return { year, regionCode: principal.regionCode, byFund: rows(byFund), byPolicy: rows(byPolicy), byRegion: rows(byRegion) };
  }
}
