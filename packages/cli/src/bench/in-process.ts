// The in-process rows of the bench: an uncached verification per algorithm, a cache hit (the
// revocation check included: the verifier follows the auth server's feed), and a cookie-session
// lookup in each store the run can reach, all timed side by side by `timeOperations`.
import type { SigningKey } from '@tessera/core';
import { createVerifier } from '@tessera/verify';
import { lookupStore, type Operation, timeOperations } from './micro.js';
import { BACKEND_NAMES, BACKENDS, type Backend, BENCH_ALGS, type BenchAlg, type MicroRow } from './types.js';

/** Where a store's lookup runs: a database URL (with Redis sessions for the Redis row), or why it cannot. */
export type LookupAt = { url: string; redis?: { url: string; prefix: string } } | { skipped: string };

/** What the in-process rows need from the run. */
export interface InProcessInput {
  issuer: string;
  audience: string;
  keys: ReadonlyMap<BenchAlg, SigningKey>;
  /** One token per algorithm, signed with `keys`. */
  tokens: ReadonlyMap<BenchAlg, string>;
  /** The resource server's feed credentials, for the cached verifier's revocation feed. */
  feedCredentials: { id: string; secret: string };
  stores: Record<Backend, LookupAt>;
  plan: { sliceMs: number; rounds: number; inFlight: number };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] as string;

/** Times every operation; what it opens is closed by functions pushed on `cleanups`. */
export async function inProcessRows(input: InProcessInput, cleanups: (() => Promise<void>)[], tick: () => void): Promise<MicroRow[]> {
  const { issuer, audience } = input;
  const operations: Operation[] = [];
  for (const alg of BENCH_ALGS) {
    const token = input.tokens.get(alg) as string;
    const verifier = createVerifier({ issuer, audience, keys: [input.keys.get(alg) as SigningKey], algorithms: [alg], cache: false });
    verifier.verifyNow(token);
    operations.push({
      row: { id: `verify-${alg}`, label: `verify ${alg}, uncached`, kind: 'verify', alg },
      op: () => verifier.verifyNow(token),
      async: false,
    });
  }
  const es256 = input.tokens.get('ES256') as string;
  const cached = createVerifier({
    issuer,
    audience,
    keys: [input.keys.get('ES256') as SigningKey],
    algorithms: ['ES256'],
    revocations: { credentials: input.feedCredentials },
  });
  cleanups.push(async () => cached.close());
  await cached.ready();
  cached.verifyNow(es256);
  operations.push({
    row: { id: 'verify-cached', label: 'verify ES256, cached (repeat token)', kind: 'verify-cached', alg: 'ES256' },
    op: () => cached.verifyNow(es256),
    async: false,
  });
  const skipped: MicroRow[] = [];
  for (const backend of BACKENDS) {
    const row: MicroRow = { id: `lookup-${backend}`, label: `session lookup, ${BACKEND_NAMES[backend]}`, kind: 'lookup', backend };
    const at = input.stores[backend];
    if ('skipped' in at) {
      skipped.push({ ...row, skipped: at.skipped });
      continue;
    }
    try {
      const store = await lookupStore(backend, at.url, at.redis);
      cleanups.push(() => store.stores.close());
      operations.push({ row, op: store.lookup, async: true });
    } catch (err) {
      skipped.push({ ...row, skipped: message(err) });
    }
  }
  const timed = await timeOperations(operations, input.plan, tick);
  cached.close();
  return [...timed, ...skipped].sort((a, b) => order(a) - order(b));
}

/** Table order: verifications by algorithm, the cache hit, then lookups by store. */
function order(r: MicroRow): number {
  if (r.kind === 'verify') return BENCH_ALGS.indexOf(r.alg as BenchAlg);
  if (r.kind === 'verify-cached') return 10;
  return 20 + BACKENDS.indexOf(r.backend as Backend);
}
