import { Module } from '@nestjs/common';
import { ServiceKitModule } from '@yiyang/service-kit';
import { AbsencesModule } from './absences/absences.module';
import { AssessmentsModule } from './assessments/assessments.module';
import { AuditModule } from './audit/audit.module';
import { EldersModule } from './elders/elders.module';
import { RegionsModule } from './regions/regions.module';
import { CaregiversModule } from './caregivers/caregivers.module';
import { CatalogueModule } from './catalogue/catalogue.module';
import { PricesModule } from './catalogue/prices.module';
import { CoverageModule } from './coverage/coverage.module';
import { FacilitiesModule } from './facilities/facilities.module';
import { ContractsModule } from './providers/contracts.module';
import { ProvidersModule } from './providers/providers.module';
import { RosterImportModule } from './roster-import/roster-import.module';
import { SERVICE } from './service';

@Module({
  imports: [
    ServiceKitModule.forRoot(SERVICE),
    RegionsModule,
    CatalogueModule,
    PricesModule,
    ProvidersModule,
    ContractsModule,
    CaregiversModule,
    FacilitiesModule,
    CoverageModule,
    EldersModule,
    AssessmentsModule,
    AbsencesModule,
    AuditModule,
    RosterImportModule,
  ],
})
export class AppModule {}
