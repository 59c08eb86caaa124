import 'reflect-metadata';
import { itBootsReady } from '@yiyang/service-kit/testing';
import { AppModule } from './app.module';
import { SERVICE } from './service';

itBootsReady(AppModule, SERVICE);
