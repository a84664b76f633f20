export { type AppOptions, buildApp, REDACT } from './app.js';
export { type Config, ConfigError, loadConfig } from './config.js';
export type { Tessera } from './context.js';
export { cleanUp } from './lib/clean-up.js';
export { dataDirOf, loadKek } from './lib/kek.js';
export { KeyManager } from './lib/key-manager.js';
export { BLOCKLIST_SIZE, normalizeEmail, passwordProblem } from './lib/passwords.js';
export { ServerSecrets } from './lib/secrets.js';
export { migrate, startServer } from './start.js';
