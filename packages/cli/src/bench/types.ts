// The shape of results.json: everything a run measured, in one object, from which the Markdown
// and HTML reports (and every sentence in them) are derived. Times in the unit their name ends
// with; a row that could not run carries `skipped` (the reason) and no figures.

/** The four JWS algorithms the bench compares. */
export type BenchAlg = 'HS256' | 'ES256' | 'EdDSA' | 'RS256';
export const BENCH_ALGS: readonly BenchAlg[] = ['HS256', 'ES256', 'EdDSA', 'RS256'];

/** Where cookie sessions live. */
export type Backend = 'memory' | 'sqlite' | 'redis' | 'postgres';
export const BACKENDS: readonly Backend[] = ['memory', 'sqlite', 'redis', 'postgres'];
export const BACKEND_NAMES: Readonly<Record<Backend, string>> = {
  memory: 'memory',
  sqlite: 'SQLite',
  redis: 'Redis',
  postgres: 'PostgreSQL',
};

/** What the run executed on. */
export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  /** 1-minute load average before and after the run: other processes share these cores. */
  loadBefore: number;
  loadAfter: number;
}

/** The load shape of the run. */
export interface Settings {
  quick: boolean;
  connections: number;
  warmupS: number;
  durationS: number;
  rounds: number;
  loginWorkers: number;
  revocationSamples: number;
  outageRequests: number;
  /** Wall time each in-process operation gets per round, ms. */
  microSliceMs: number;
  microRounds: number;
}

/** An external store and whether the run could use it. */
export interface Service {
  /** Where it was looked for, without credentials. */
  where: string;
  /** Null when reachable; else why the rows that need it were skipped. */
  skipped: string | null;
}

/** One HTTP row: a route under autocannon. */
export interface HttpRow {
  id: string;
  label: string;
  kind: 'baseline' | 'cookie' | 'jwt';
  /** The server the row ran against: `auth` (the Tessera server) or `resource` (a service using @tessera/verify). */
  server: 'auth' | 'resource';
  backend?: Backend;
  alg?: BenchAlg;
  cached?: boolean;
  /** The id of the no-auth row on the same server, measured in the same rounds. */
  baseline: string;
  skipped?: string;
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** req/s of each round, in order (the figures the median and the paired ratio come from). */
  roundsRps?: number[];
  /** This row's req/s over its baseline's, paired per round. */
  ratio?: number;
  /** CPU time of the server process per answered request, µs. */
  serverCpuUs?: number;
  /** CPU time of the PostgreSQL and Redis processes per answered request, µs (every user of them counts). */
  storeCpuUs?: number;
  /** Server and store CPU per request of each round, in order, µs (the spread the report's uncertainties come from). */
  roundsCpuUs?: number[];
}

/** One in-process operation timed in a loop. */
export interface MicroRow {
  id: string;
  label: string;
  kind: 'verify' | 'verify-cached' | 'lookup';
  alg?: BenchAlg;
  backend?: Backend;
  skipped?: string;
  /** Wall time per operation, µs: for a store, the mean latency of one lookup (its round trip included). */
  wallUs?: number;
  /** CPU time of this process per operation, µs. */
  cpuUs?: number;
  /** CPU time of the PostgreSQL and Redis processes per operation, µs. */
  storeCpuUs?: number;
  /** Wall time per operation of each round, in order, µs. */
  roundsWallUs?: number[];
  /** CPU per operation of each round (this process and the store server), in order, µs. */
  roundsCpuUs?: number[];
}

/** Revocation latency to one verifier: logout sent → the service refuses the token. */
export interface RevocationRow {
  id: string;
  label: string;
  feed: 'sse' | 'redis';
  skipped?: string;
  samples?: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
}

/** Cookie sessions after a logout: the very next request with the cookie. */
export interface CookieRevocation {
  samples: number;
  /** How many of those next requests were still accepted. */
  acceptedAfterLogout: number;
}

/** A credential's size against the budgets. */
export interface SizeRow {
  id: string;
  label: string;
  kind: 'cookie' | 'jwt' | 'jwe';
  alg?: BenchAlg;
  /** With `email` and `roles` claims. */
  withProfile?: boolean;
  /** The credential's bytes (the cookie's name=value; the token). */
  bytes: number;
  /** Bytes of the request header carrying it (`Authorization: Bearer …` or `Cookie: …`). */
  headerBytes: number;
}

/** Login or refresh throughput on one backend. */
export interface ThroughputRow {
  id: string;
  label: string;
  op: 'login' | 'refresh';
  backend: Backend;
  skipped?: string;
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
}

/** The auth server killed: what still works. */
export interface Outage {
  requests: number;
  /** Bearer requests to a resource service (tokens issued before the kill) that succeeded. */
  jwtOk: number;
  /** Cookie requests to the auth server that succeeded. */
  cookieOk: number;
}

/** A sentence of the report, generated from the figures. */
export interface Verdict {
  topic: 'noise' | 'route' | 'cpu' | 'revocation' | 'size' | 'outage' | 'refresh' | 'backends';
  text: string;
}

/** A line of the headline table. */
export interface HeadlineRow {
  question: string;
  sessions: string;
  jwt: string;
  winner: 'sessions' | 'JWT' | 'tie' | '—';
  margin: string;
}

/** Everything measured: results.json. */
export interface BenchResults {
  schema: 1;
  startedAt: string;
  elapsedS: number;
  command: string;
  machine: Machine;
  settings: Settings;
  services: { postgres: Service; redis: Service };
  budgets: { headerBytes: number; cookieBytes: number; revocationP99Ms: number };
  http: HttpRow[];
  micro: MicroRow[];
  revocation: RevocationRow[];
  cookieRevocation: CookieRevocation | null;
  sizes: SizeRow[];
  throughput: ThroughputRow[];
  outage: Outage | null;
  headline: HeadlineRow[];
  verdicts: Verdict[];
}

/** The figures alone, before the headline and verdicts are derived from them. */
export type Measured = Omit<BenchResults, 'headline' | 'verdicts'>;
