import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ProvidersModule } from '../providers/providers.module';
import { RegionsModule } from '../regions/regions.module';
import { Caregiver, CaregiverSchema } from './caregiver.schema';
import { CaregiversController } from './caregivers.controller';
import { CaregiversService } from './caregivers.service';

@Module({
  imports: [MongooseModule.forFeature([{ name: Caregiver.name, schema: CaregiverSchema }]), RegionsModule, ProvidersModule],
  controllers: [CaregiversController],
  providers: [CaregiversService],
})
export class CaregiversModule {}
