/**
 * The server's own tests import the test app from here; its code lives in `testing.ts`, which
 * the build compiles and publishes as `@tessera/server/testing` (this file's `test-*` name
 * keeps it out of the build).
 */
export * from './testing.js';
