// Packages without TypeScript declarations that the fingerprint code imports.
declare module 'dcmjs';
