import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule, type ServiceKitOptions } from '@yiyang/service-kit';
import { OrdersModule } from './orders/orders.module';
import { ReadModelsModule } from './read-models/read-models.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { SERVICE } from './service';
import { ComplaintsModule } from './complaints/complaints.service';
import { MyDayModule } from './my-day/my-day.controller';
import { PlansModule } from './plans/plans.service';
import { RoundsModule } from './rounds/rounds.service';
import { EmergenciesModule } from './emergencies/emergencies.controller';
import { VisitsModule } from './visits/visits.module';

const FEATURES = [ReadModelsModule, SchedulerModule, OrdersModule, VisitsModule, EmergenciesModule, PlansModule, RoundsModule, ComplaintsModule, MyDayModule];

/** The dispatch service; `forRoot` takes test overrides (consumer-group prefix, env). */
@Module({})
export class DispatchModule {
  static forRoot(options: Partial<Pick<ServiceKitOptions, 'groupPrefix' | 'env' | 'retry'>> = {}): DynamicModule {
    return { module: DispatchModule, imports: [ServiceKitModule.forRoot({ ...SERVICE, ...options }), ...FEATURES] };
  }
}

@Module({ imports: [DispatchModule.forRoot()] })
export class AppModule {}
