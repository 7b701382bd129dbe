export * from './audit-log';
export { canonicalJson } from './canonical';
