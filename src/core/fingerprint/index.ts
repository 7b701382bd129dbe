export * from './spec';
export * from './dictionary';
export * from './canonical-meta';
export * from './pixel';
export * from './merkle';
export * from './compare';
