export * from './config';
export * from './errors';
export * from './bootstrap';
export * from './service-kit.module';
export * from './health.controller';
export * from './metrics.controller';
export * from './correlation';
export * from './auth';
