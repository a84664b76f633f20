// HTTP benchmark of verification in a resource service: what a Tessera-protected route costs
// next to the same route with no auth, with a plain fast-jwt verifier, and with a cookie
// session looked up in SQLite or Redis; and what the Express and Hono adapters add over their
// own no-auth baselines.
//
// Two processes, so the load generator and the servers do not share an event loop:
//   - this process (the driver) signs the tokens and runs autocannon;
//   - a child (`bench/verify.ts --serve`) runs every server, each on its own 127.0.0.1 port:
//     a stand-in issuer (JWKS, an empty revocation feed over SSE, the catch-up endpoint), the
//     example resource service itself (`buildService` from examples/resource-service: Fastify,
//     remote JWKS, SSE revocation feed, the default verified-token cache), the same Fastify
//     route behind fast-jwt (cache off), behind a cookie session in SQLite (@tessera/stores
//     `sessions.get`) and in Redis (one GET), and Express and Hono apps with and without
//     `tesseraAuth`.
//
// Rows (same connections, warm-up and duration each; interleaved, ROUNDS times, the order
// reversed every other round; each row reports the median of its rounds and ratios paired round
// by round, and every round is kept in the JSON):
//   Fastify  no auth (GET /healthz)                   the smallest-possible reference, every row's "vs baseline"
//            no auth, same route and body, no token    the no-auth baseline of the cache-hit target: /whoami
//                                                      answering the same claims, with nothing to verify
//            Tessera, repeated token (cache hit)       target ≥ 85% of that baseline's req/s
//            Tessera, fresh token per request (miss)   target within 5% of fast-jwt (≥ 95% of its req/s)
//            fast-jwt (cache off), fresh token per request
//            cookie session, SQLite / Redis
//   Express  no auth; tesseraAuth (repeated token)
//   Hono     no auth; tesseraAuth (repeated token)
// Every row sends its requests through the same autocannon `setupRequest` hook, cycling
// through its own list of headers (one entry for a repeated token), so the client's cost is
// the same in every row. "Fresh" tokens are TOKENS distinct tokens signed here with the
// issuer's key, handed out from one cursor that runs on across warm-ups, rounds and rows:
// the service's cache holds 10 000, so no token comes round again before it was evicted, and
// every such request is a full verification.
//
// Before the first round, each Tessera service gets PREFILL distinct tokens, so every row
// meets a full verified-token cache (a busy service's steady state) whatever the row order.
// Besides req/s and latency, each row reports the server process's CPU time per answer
// (process.cpuUsage around the measured run, least of the rounds): on a shared machine it
// moves much less than req/s, so it is the figure to compare when req/s is noisy.
//
// Run: npm run bench:verify  (writes bench/results/verify.json)
// Knobs: BENCH_CONNECTIONS (10), BENCH_DURATION_S (5), BENCH_WARMUP_S (1), BENCH_ROUNDS (3), BENCH_TOKENS (200000; at least 52 500),
// BENCH_ROWS (words picking rows, e.g. `hit,Hono`; their baselines always run), BENCH_PIPELINING (1; more makes the
// server, not autocannon, the bottleneck, at the cost of queueing in the latencies), BENCH_PIN (1; 0 leaves both processes unpinned).
// BENCH_RESULTS_DIR (bench/results), BENCH_REDIS_URL (redis://127.0.0.1:6379).
//
// Files: verify/serve.ts with route.ts, sessions.ts and adapters.ts (the child's servers), verify/drive.ts (the load),
// verify/rows.ts (what is measured against what), verify/report.ts (table and JSON).
import { drive } from './verify/drive.js';
import { serve } from './verify/serve.js';

if (process.argv.includes('--serve')) await serve();
else await drive();
