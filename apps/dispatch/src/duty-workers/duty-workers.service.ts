import { Body, Controller, Get, Injectable, Module, Param, Put, Query, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RegionCodeSchema } from '@yiyang/contracts';
import { regionLevel, regionPath } from '@yiyang/geo';
import { AllowRoles, CurrentPrincipal, parseInput, type Principal } from '@yiyang/service-kit';
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import { forbidden, inRegion } from '../shared/scope';

export interface DutyWorker {
  _id: string;
  regionCode: string;
  regionPath: string[];
  name: string;
  phone: string;
  /** When the duty worker is also a registry worker (social worker/volunteer) who can log in. */
  caregiverId: string | null;
  active: boolean;
  version: number;
}

const DutyWorkerInput = z.object({
  regionCode: RegionCodeSchema.refine((c) => regionLevel(c) === 'COMMUNITY', 'must be a community code'),
  name: z.string().trim().min(1).max(60),
  phone: z.string().regex(/^[0-9+\-() ]{5,20}$/, 'must be a phone number'),
  caregiverId: z.string().min(1).nullable().default(null),
  active: z.boolean().default(true),
});

/** Community duty workers (社区值班人员): the third rung of the emergency ladder, and round assignees. */
@Injectable()
export class DutyWorkersService implements OnModuleInit {
  readonly col: Collection<DutyWorker>;
  constructor(@InjectConnection() connection: Connection) {
    this.col = connection.collection<DutyWorker>('duty_workers') as never;
  }
  async onModuleInit(): Promise<void> {
    await this.col.createIndex({ regionCode: 1 });
  }

  async put(principal: Principal, id: string, body: unknown) {
    const input = parseInput(DutyWorkerInput, body);
    const path = regionPath(input.regionCode);
    if (!inRegion(principal, path)) throw forbidden();
    const existing = await this.col.findOne({ _id: id });
    if (existing && !inRegion(principal, existing.regionPath)) throw forbidden();
    const doc = { ...input, regionPath: path, version: (existing?.version ?? 0) + 1 };
    await this.col.updateOne({ _id: id }, { $set: doc }, { upsert: true });
    return { dutyWorkerId: id, ...doc };
  }

  async list(principal: Principal, regionCode?: string) {
    if (!principal.regionCode) throw forbidden();
    const filter: Record<string, unknown> = { regionPath: principal.regionCode };
    if (regionCode) filter['regionCode'] = parseInput(RegionCodeSchema, regionCode);
    const items = await this.col.find(filter).sort({ _id: 1 }).limit(500).toArray();
    return { items: items.map(({ _id, ...d }) => ({ dutyWorkerId: _id, ...d })) };
  }

  /** Active duty workers of a community (falling back to its street). */
  async forCommunity(path: readonly string[]): Promise<DutyWorker[]> {
    for (const code of [...path].reverse().slice(0, 2)) {
      const found = await this.col.find({ regionCode: code, active: true }).toArray();
      if (found.length) return found;
    }
    return [];
  }
}

@ApiTags('duty-workers 社区值班')
@ApiBearerAuth()
@Controller('duty-workers')
export class DutyWorkersController {
  constructor(private readonly duty: DutyWorkersService) {}

  @Put(':dutyWorkerId')
  @AllowRoles('civil_affairs_admin')
  put(@CurrentPrincipal() p: Principal, @Param('dutyWorkerId') id: string, @Body() body: unknown) {
    return this.duty.put(p, id, body);
  }

  @Get()
  @AllowRoles('civil_affairs_admin', 'auditor')
  list(@CurrentPrincipal() p: Principal, @Query('regionCode') regionCode?: string) {
    return this.duty.list(p, regionCode);
  }
}

@Module({ controllers: [DutyWorkersController], providers: [DutyWorkersService], exports: [DutyWorkersService] })
export class DutyWorkersModule {}
