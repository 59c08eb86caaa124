import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule, type ServiceKitOptions } from '@yiyang/service-kit';
import { AlertsModule } from './alerts/alerts.module';
import { DashboardsModule } from './dashboards/dashboards.module';
import { DevicesModule } from './devices/devices.module';
import { RegistryFactsModule } from './registry-facts/registry-facts.module';
import { RulesModule } from './rules/rules.module';
import { SERVICE } from './service';
import { TelemetryModule } from './telemetry/telemetry.module';
import { VendorsModule } from './vendors/vendors.module';

export type MonitoringOverrides = Pick<ServiceKitOptions, 'env' | 'groupPrefix' | 'retry' | 'outbox'>;

@Module({})
export class AppModule {
  /** Tests pass a consumer-group prefix and fast timers; `main.ts` passes nothing. */
  static forRoot(overrides: MonitoringOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({ ...SERVICE, ...overrides }),
        RegistryFactsModule,
        VendorsModule,
        DevicesModule,
        AlertsModule,
        RulesModule,
        TelemetryModule,
        DashboardsModule,
      ],
    };
  }
}
