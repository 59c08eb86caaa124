import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { parseInput, REGION_ROLES, type Principal } from '@yiyang/service-kit';
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import type { Journal } from '../ledger/journal';
import { RegistryView, type ElderFacts } from '../registry-view/registry-view.service';
import { MonthRegex } from '../shared/dates';
import { forbidden } from '../shared/scope';
import { abovePeers, duringAbsence, overlapping, whileInactive, type AbsenceFacts, type Anomaly, type ChargeFacts } from './domain/detect';

const Query = z.object({ month: z.string().regex(MonthRegex, 'must be a month yyyy-mm'), factor: z.coerce.number().min(1.1).max(20).default(2) });

/**
 * Audit listing for a month: overlapping charged services of one elder, services charged on or
 * after the elder died or moved out, services that started while the elder was recorded away or in
 * hospital (the registry's absences), and providers billing far above their peers per elder. Each
 * finding links to the visits (dispatch) and the charges (ledger). Charges already reversed are
 * left out — they have been corrected.
 */
@Injectable()
export class AnomaliesService {
  private readonly ledger: Collection<Journal>;
  constructor(
    @InjectConnection() connection: Connection,
    private readonly view: RegistryView,
  ) {
    this.ledger = connection.collection('ledger') as never;
  }

  async list(principal: Principal, query: unknown) {
    const { month, factor } = parseInput(Query, query);
    if (!REGION_ROLES.includes(principal.role) || !principal.regionCode) throw forbidden();
    const charges: ChargeFacts[] = [];
    const reversed = new Set<string>();
    const cursor = this.ledger.find(
      { regionPath: principal.regionCode, kind: { $in: ['CHARGE', 'REVERSAL'] }, serviceMonth: month },
      { projection: { kind: 1, visitId: 1, elderId: 1, providerId: 1, serviceDate: 1, startedAt: 1, endedAt: 1, grossFen: 1 } },
    );
    for await (const j of cursor) {
      if (j.kind === 'REVERSAL') reversed.add(j.visitId as string);
      else charges.push({ visitId: j.visitId!, elderId: j.elderId, providerId: j.providerId!, serviceDate: j.serviceDate!, startedAt: j.startedAt!, endedAt: j.endedAt ?? null, grossFen: j.grossFen ?? 0 });
    }
    const live = charges.filter((c) => !reversed.has(c.visitId));
    const elderIds = [...new Set(live.map((c) => c.elderId))];
    const elders = new Map<string, ElderFacts>();
    const absences: AbsenceFacts[] = [];
    for (let i = 0; i < elderIds.length; i += 500) {
      const ids = elderIds.slice(i, i + 500);
      for (const e of await this.view.elders.find({ _id: { $in: ids } }, { projection: { statusHistory: 1 } }).toArray()) elders.set(e._id, e);
      absences.push(...(await this.view.absences.find({ elderId: { $in: ids } }).toArray()));
    }
    const found: Anomaly[] = [...overlapping(live), ...whileInactive(live, elders), ...duringAbsence(live, absences), ...abovePeers(live, factor)];
    return {
      month,
      regionCode: principal.regionCode,
      count: found.length,
      items: found.map((a) => ({
        ...a,
        links: a.visitIds.map((v) => ({ visitId: v, visit: `/api/v1/visits/${v}`, charge: `/api/v1/ledger/charges/${v}` })),
      })),
    };
  }
}
