import 'reflect-metadata';
import { runService } from '@yiyang/service-kit';
import { AppModule } from './app.module';
import { SERVICE } from './service';

void runService(AppModule.forRoot(), SERVICE);
