import { Module } from '@nestjs/common';
import { ServiceKitModule } from '@yiyang/service-kit';
import { RegionsModule } from './regions/regions.module';
import { SERVICE } from './service';

@Module({
  imports: [ServiceKitModule.forRoot(SERVICE), RegionsModule],
})
export class AppModule {}
