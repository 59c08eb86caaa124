export * from './topics';
export * from './vocabulary';
export * from './events';
