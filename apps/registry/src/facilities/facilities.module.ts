import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ProvidersModule } from '../providers/providers.module';
import { RegionsModule } from '../regions/regions.module';
import { FacilitiesController, FamilyCareBedsController } from './facilities.controller';
import { FacilitiesService } from './facilities.service';
import { FamilyCareBed, FamilyCareBedSchema } from './family-care-bed.schema';
import { FamilyCareBedsService } from './family-care-beds.service';
import { Facility, FacilitySchema } from './facility.schema';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: Facility.name, schema: FacilitySchema },
      { name: FamilyCareBed.name, schema: FamilyCareBedSchema },
    ]),
    RegionsModule,
    ProvidersModule,
  ],
  controllers: [FacilitiesController, FamilyCareBedsController],
  providers: [FacilitiesService, FamilyCareBedsService],
  // Coverage reads the models; service contracts check facilities.
  exports: [FacilitiesService, MongooseModule],
})
export class FacilitiesModule {}
