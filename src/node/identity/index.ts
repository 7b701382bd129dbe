export { IdentityService, scryptNFromEnv, type IdentityOptions, type IdentityDeps } from './identities';
