import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ElderFact, ElderFactSchema, FacilityFact, FacilityFactSchema, RegionFact, RegionFactSchema } from './registry-facts.schema';
import { RegistryFacts } from './registry-facts.service';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: ElderFact.name, schema: ElderFactSchema },
      { name: FacilityFact.name, schema: FacilityFactSchema },
      { name: RegionFact.name, schema: RegionFactSchema },
    ]),
  ],
  providers: [RegistryFacts],
  exports: [RegistryFacts],
})
export class RegistryFactsModule {}
