// The load shape of bench:verify, read once from the environment by both of its processes (the
// server child reads the same values, so the two always agree). Defaults are those of the
// committed bench/results/verify.json.

/** Connections autocannon keeps open per row (BENCH_CONNECTIONS, 10). */
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
/** Measured seconds per row and round (BENCH_DURATION_S, 5). */
export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
/** Warm-up seconds before each measured run (BENCH_WARMUP_S, 1; 0 skips it). */
export const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 1);
/** Interleaved rounds (BENCH_ROUNDS, 3). */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Distinct tokens signed for the "fresh token" rows (BENCH_TOKENS, 200 000). */
export const TOKENS = Number(process.env.BENCH_TOKENS ?? 200_000);
/** Requests in flight per connection (BENCH_PIPELINING, 1). */
export const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 1);
/** The audience every token is issued for and every verifier expects. */
export const AUDIENCE = 'bench-api';
/** Cookie sessions created in each session store; requests cycle through them. */
export const SESSIONS = 1_000;
/** Distinct tokens sent to each Tessera service before measuring: more than its cache holds (10 000 by default). */
export const PREFILL = 10_500;
// The prefills take 3 × PREFILL fresh tokens; with fewer than this, a "fresh" token could come round while still cached.
if (TOKENS < 5 * PREFILL) throw new Error(`BENCH_TOKENS must be at least ${5 * PREFILL}, so a fresh token never meets the cache`);
/** The session cookie's name, as the servers parse it. */
export const SESSION_COOKIE = 'sid';
/** Where the Redis session row looks (BENCH_REDIS_URL); unreachable means the row is skipped, not failed. */
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
