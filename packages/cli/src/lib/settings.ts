import { type Command, Option } from 'commander';
import { UsageError } from './errors.js';

/**
 * A command-line flag that sets one of the server's environment variables (DESIGN
 * "Configuration"). The variable's own loader validates the value, so a flag and its variable
 * can never disagree about what is valid.
 */
export interface Setting {
  /** Commander flag spec, e.g. `--port <number>`; a flag without a value sets `true`. */
  flag: string;
  variable: string;
  description: string;
}

/**
 * Where the data lives: taken by every command that opens the stores. `TESSERA_KEK` has no flag
 * on purpose: a command line is visible in `ps` and kept in shell history.
 */
export const STORE_SETTINGS: readonly Setting[] = [
  {
    flag: '--database-url <url>',
    variable: 'TESSERA_DATABASE_URL',
    description: 'sqlite:<path>, postgres://… or memory: (default sqlite:./data/tessera.db)',
  },
  {
    flag: '--redis-url <url>',
    variable: 'TESSERA_REDIS_URL',
    description: 'redis:// or rediss:// URL: sessions, rate limits, revocation pub/sub',
  },
  { flag: '--redis-prefix <prefix>', variable: 'TESSERA_REDIS_PREFIX', description: 'prefix of every Redis key (default tessera:)' },
  { flag: '--session-store <store>', variable: 'TESSERA_SESSION_STORE', description: 'database or redis (default database)' },
  {
    flag: '--database-pool-size <n>',
    variable: 'TESSERA_DATABASE_POOL_SIZE',
    description: 'PostgreSQL connections per process (default 10)',
  },
];

/** Signing settings, also read by the key commands (rotation creates a key of this algorithm). */
export const KEY_SETTINGS: readonly Setting[] = [
  { flag: '--signing-alg <alg>', variable: 'TESSERA_SIGNING_ALG', description: 'ES256, EdDSA, RS256, PS256 or HS256 (default ES256)' },
  {
    flag: '--allow-shared-secret',
    variable: 'TESSERA_ALLOW_SHARED_SECRET',
    description: 'acknowledge HS256: only holders of the secret can verify',
  },
  {
    flag: '--key-rotation-interval <seconds>',
    variable: 'TESSERA_KEY_ROTATION_INTERVAL',
    description: 'how long a key signs before rotation (default 30 days)',
  },
  { flag: '--access-token-ttl <seconds>', variable: 'TESSERA_ACCESS_TOKEN_TTL', description: 'access token lifetime (default 600)' },
];

/** The rest of what `tessera serve` reads. */
export const SERVE_SETTINGS: readonly Setting[] = [
  { flag: '--port <number>', variable: 'PORT', description: 'port to listen on (default 3000)' },
  { flag: '--host <address>', variable: 'HOST', description: 'address to listen on (default 0.0.0.0)' },
  {
    flag: '--issuer <url>',
    variable: 'TESSERA_ISSUER',
    description: 'public origin, the exact iss of tokens (default http://localhost:$PORT)',
  },
  { flag: '--audience <list>', variable: 'TESSERA_AUDIENCE', description: 'comma list: aud of access tokens (default the issuer)' },
  { flag: '--workers <n>', variable: 'TESSERA_WORKERS', description: 'server processes on this host (default 1)' },
  ...STORE_SETTINGS,
  ...KEY_SETTINGS,
  {
    flag: '--refresh-token-ttl <seconds>',
    variable: 'TESSERA_REFRESH_TOKEN_TTL',
    description: 'absolute lifetime of a refresh family (default 30 days)',
  },
  {
    flag: '--refresh-grace <seconds>',
    variable: 'TESSERA_REFRESH_GRACE',
    description: 'window in which a rotated refresh token yields the same successor (default 10)',
  },
  {
    flag: '--session-idle-ttl <seconds>',
    variable: 'TESSERA_SESSION_IDLE_TTL',
    description: 'cookie session idle lifetime (default 1 day)',
  },
  {
    flag: '--session-absolute-ttl <seconds>',
    variable: 'TESSERA_SESSION_ABSOLUTE_TTL',
    description: 'cookie session absolute lifetime (default 7 days)',
  },
  {
    flag: '--rotate-now',
    variable: 'TESSERA_ROTATE_NOW',
    description: 'switch to a new signing algorithm at start instead of after publication',
  },
  {
    flag: '--cors-origins <list>',
    variable: 'TESSERA_CORS_ORIGINS',
    description: 'comma list of origins allowed for CORS and cookie requests',
  },
  {
    flag: '--trust-proxy <value>',
    variable: 'TESSERA_TRUST_PROXY',
    description: 'true, false, a hop count, or a comma list of addresses/CIDRs',
  },
  {
    flag: '--scopes <list>',
    variable: 'TESSERA_SCOPES',
    description: 'scopes a token may carry (default "openid profile email offline_access")',
  },
  {
    flag: '--scope-roles <list>',
    variable: 'TESSERA_SCOPE_ROLES',
    description: 'scope=role|role,…: scopes granted only to holders of a role',
  },
  { flag: '--admin-role <role>', variable: 'TESSERA_ADMIN_ROLE', description: 'role the admin HTTP API requires (default admin)' },
  { flag: '--max-sessions-per-user <n>', variable: 'TESSERA_MAX_SESSIONS_PER_USER', description: 'live sessions per user (default 100)' },
  {
    flag: '--signups-per-hour <n>',
    variable: 'TESSERA_SIGNUPS_PER_HOUR',
    description: 'accounts one address may create per hour (default 20)',
  },
  { flag: '--request-timeout <seconds>', variable: 'TESSERA_REQUEST_TIMEOUT', description: 'time to send a whole request (default 30)' },
  { flag: '--connection-timeout <seconds>', variable: 'TESSERA_CONNECTION_TIMEOUT', description: 'idle connection timeout (default 120)' },
  { flag: '--keep-alive-timeout <seconds>', variable: 'TESSERA_KEEP_ALIVE_TIMEOUT', description: 'keep-alive idle timeout (default 5)' },
  {
    flag: '--max-connections-per-ip <n>',
    variable: 'TESSERA_MAX_CONNECTIONS_PER_IP',
    description: 'open connections per client address, 0 for no cap (default 256)',
  },
  {
    flag: '--redis-profile-ttl <seconds>',
    variable: 'TESSERA_REDIS_PROFILE_TTL',
    description: 'with Redis sessions, how long a profile copy is kept beside them (default 30)',
  },
  {
    flag: '--redis-channel <name>',
    variable: 'TESSERA_REDIS_CHANNEL',
    description: 'Redis revocation channel (default tessera:revocations)',
  },
  {
    flag: '--log-level <level>',
    variable: 'TESSERA_LOG_LEVEL',
    description: 'trace, debug, info, warn, error, fatal or silent (default info)',
  },
];

/** Adds `settings` to `command` as options, each description starting with its variable (one word, so help never splits it). */
export function addSettings(command: Command, settings: readonly Setting[]): Command {
  for (const s of settings) command.addOption(new Option(s.flag, `[${s.variable}] ${s.description}`));
  return command;
}

/** The option key commander uses for a flag: `--database-url <url>` → `databaseUrl`. */
function keyOf(flag: string): string {
  const name = flag.split(/\s/)[0]?.replace(/^--/, '') ?? '';
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The flag name alone: `--port <number>` → `--port`. */
export const flagName = (s: Setting): string => s.flag.split(/\s/)[0] ?? s.flag;

/**
 * The environment with the given flags applied over it: a flag wins over its variable. An
 * empty value is refused here (it would silently mean "the default").
 */
export function applySettings(
  base: Readonly<Record<string, string | undefined>>,
  options: Record<string, unknown>,
  settings: readonly Setting[],
): Record<string, string | undefined> {
  const env = { ...base };
  for (const s of settings) {
    const value = options[keyOf(s.flag)];
    if (value === undefined) continue;
    if (value === true) env[s.variable] = 'true';
    else if (typeof value === 'string') {
      if (value.trim() === '') throw new UsageError(`${flagName(s)}: must not be empty`);
      env[s.variable] = value;
    }
  }
  return env;
}

/**
 * A configuration error's message (`VARIABLE: why`) with the flag in front when the value came
 * from one, so the operator fixes the right thing: `--port (PORT): must be an integer, …`.
 */
export function nameTheFlag(message: string, options: Record<string, unknown>, settings: readonly Setting[]): string {
  for (const s of settings) {
    if (options[keyOf(s.flag)] !== undefined && message.startsWith(`${s.variable}:`)) {
      return `${flagName(s)} (${s.variable})${message.slice(s.variable.length)}`;
    }
  }
  return message;
}
