export * from './topic';
export * from './envelope';
export * from './catalogue';
export * from './registry';
export * from './dispatch';
export * from './billing';
export * from './monitoring';
