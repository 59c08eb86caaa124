import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule, type ServiceKitOptions } from '@yiyang/service-kit';
import { AlertsModule } from './alerts/alerts.module';
import { DashboardsModule } from './dashboards/dashboards.module';
import { DevicesModule } from './devices/devices.module';
import { RegistryFactsModule } from './registry-facts/registry-facts.module';
import { RulesModule } from './rules/rules.module';
import { MonitoringRoleSchema, SERVICE, type MonitoringRole } from './service';
import { TelemetryModule } from './telemetry/telemetry.module';
import { VendorsModule } from './vendors/vendors.module';

export type MonitoringOverrides = Pick<ServiceKitOptions, 'env' | 'groupPrefix' | 'retry' | 'outbox'>;

/** MONITORING_ROLE (overrides first, then the environment); an unknown value stops the boot with the valid ones. */
export function monitoringRole(overrides: MonitoringOverrides = {}): MonitoringRole {
  const raw = overrides.env?.['MONITORING_ROLE'] ?? process.env['MONITORING_ROLE'] ?? 'all';
  const parsed = MonitoringRoleSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`Configuration invalid — MONITORING_ROLE is invalid: "${raw}" (one of ${MonitoringRoleSchema.options.join(', ')})`);
  return parsed.data;
}

@Module({})
export class AppModule {
  /**
   * Tests pass a consumer-group prefix and fast timers; `main.ts` passes nothing. The role
   * (service.ts) picks the feature modules: an `ingest` process has no consumer group at all, so
   * it neither joins the rule engine's group nor takes CPU from it.
   */
  static forRoot(overrides: MonitoringOverrides = {}): DynamicModule {
    const role = monitoringRole(overrides);
    const kit = ServiceKitModule.forRoot({ ...SERVICE, ...overrides });
    if (role === 'ingest') return { module: AppModule, imports: [kit, VendorsModule, TelemetryModule] };
    return {
      module: AppModule,
      imports: [
        kit,
        RegistryFactsModule,
        VendorsModule,
        DevicesModule,
        AlertsModule,
        RulesModule,
        ...(role === 'all' ? [TelemetryModule] : []),
        DashboardsModule,
      ],
    };
  }
}
