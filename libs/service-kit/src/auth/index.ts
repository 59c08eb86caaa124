export * from './principal';
export * from './internal-token';
export * from './guard';
