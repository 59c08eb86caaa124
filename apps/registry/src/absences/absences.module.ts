import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditModule } from '../audit/audit.module';
import { Elder, ElderSchema } from '../elders/elder.schema';
import { EldersModule } from '../elders/elders.module';
import { AbsencesController } from './absences.controller';
import { AbsencesService } from './absences.service';

@Module({
  imports: [MongooseModule.forFeature([{ name: Elder.name, schema: ElderSchema }]), EldersModule, AuditModule],
  controllers: [AbsencesController],
  providers: [AbsencesService],
})
export class AbsencesModule {}
