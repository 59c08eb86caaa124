export * from './region-code';
export * from './geo';
