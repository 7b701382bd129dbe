export * from './audit-log';
export * from './access';
export { canonicalJson } from './canonical';
