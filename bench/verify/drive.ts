// The load-generating side of bench:verify: starts the server child, signs the tokens, checks
// every row answers, pre-fills the Tessera caches, then runs the rows interleaved round after
// round and hands what it measured to the report.
import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createIssuer, exportPublicJwk, generateSigningKey } from '@tessera/core';
import { runLoad } from '../../packages/cli/src/bench/lib/load.js';
import { pinApart } from '../../packages/cli/src/bench/lib/machine.js';
import { AUDIENCE, CONNECTIONS, DURATION_S, PIPELINING, PREFILL, ROUNDS, TOKENS, WARMUP_S } from './knobs.js';
import type { Ready } from './protocol.js';
import { type Measure, report } from './report.js';
import { type Row, selectRows, verifyRows } from './rows.js';

/** The entry file, forked with `--serve` to run the servers. */
const ENTRY = fileURLToPath(new URL('../verify.ts', import.meta.url));

/** Runs the whole benchmark from this process; the servers run in a child it starts and stops. */
export async function drive(): Promise<void> {
  const key = await generateSigningKey('ES256');
  const jwk = await exportPublicJwk(key);
  const child: ChildProcess = fork(ENTRY, ['--serve'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_JWK: JSON.stringify(jwk) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pinned = pinApart(child.pid);
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ready));
    child.once('exit', (code) => reject(new Error(`the server process exited (${code}) before it was ready`)));
  });
  const serverCpu = () =>
    new Promise<number>((resolve) => {
      const onMessage = (m: { type?: string; us?: number }) => {
        if (m?.type !== 'cpu') return;
        child.off('message', onMessage);
        resolve(m.us as number);
      };
      child.on('message', onMessage);
      child.send({ type: 'cpu' });
    });
  const stopChild = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.send({ type: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  process.on('SIGINT', () => {
    child.kill('SIGKILL');
    process.exit(130);
  });

  try {
    // --- tokens, signed here with the issuer's key
    const issuer = createIssuer({ issuer: ready.issuer, audience: AUDIENCE, signingKey: key, ttl: 3_600 });
    const claims = { client_id: 'bench', scope: 'orders:read' };
    const repeated = issuer.issue({ sub: 'user-0', sid: 'session-0', ...claims }).token;
    const t0 = performance.now();
    const fresh: Record<string, string>[] = new Array(TOKENS);
    for (let i = 0; i < TOKENS; i++)
      fresh[i] = { authorization: `Bearer ${issuer.issue({ sub: `user-${i % 1000}`, sid: `session-${i}`, ...claims }).token}` };
    process.stderr.write(`signed ${TOKENS} distinct tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const one = [{ authorization: `Bearer ${repeated}` }];
    await new Promise<void>((resolve) => {
      const onMessage = (m: { type?: string }) => {
        if (m?.type !== 'control-body-set') return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      const payload = JSON.parse(Buffer.from(repeated.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
      child.send({ type: 'control-body', claims: payload });
    });

    const rows = verifyRows(ready, { one, fresh });
    const { wanted, active, partial } = selectRows(rows);

    // --- every row answers what it should before it is timed
    for (const row of active) {
      const res = await fetch(`${row.url}${row.path}`, { headers: row.headers[0] });
      const body = (await res.json()) as { sub?: string; status?: string };
      if (res.status !== 200 || !(row.path === '/healthz' ? body.status === 'ok' : typeof body.sub === 'string')) {
        throw new Error(`${row.name}: answered ${res.status} ${JSON.stringify(body)}`);
      }
    }

    // --- measuring
    // One cursor per header list, kept across runs: a warm-up never hands the measured run tokens it just cached.
    const cursors = new Map<Record<string, string>[], number>();
    async function cannon(row: Row, run: { seconds: number } | { amount: number }): Promise<Measure> {
      const list = row.headers;
      let next = cursors.get(list) ?? 0;
      try {
        const { ok, latency, elapsed } = await runLoad(
          {
            url: row.url as string,
            connections: CONNECTIONS,
            pipelining: PIPELINING,
            ...('seconds' in run ? { duration: run.seconds } : { amount: run.amount }),
            requests: [
              {
                method: 'GET',
                path: row.path,
                setupRequest: (req) => {
                  Object.assign(req.headers ?? {}, list[next++ % list.length]);
                  return req;
                },
              },
            ],
          },
          row.name,
        );
        return { rps: ok / elapsed, p50: latency.percentile(50) / 1000, p99: latency.percentile(99) / 1000, count: ok, cpuUs: Number.NaN };
      } finally {
        cursors.set(list, next % list.length);
      }
    }

    // A busy service's steady state: every Tessera verifier's cache full of other tokens, whatever the row order.
    for (const url of new Set([ready.urls.fastify, ready.urls.express, ready.urls.hono])) {
      const t = performance.now();
      await cannon({ name: `prefill ${url}`, url, path: '/whoami', headers: fresh, baseline: '' }, { amount: PREFILL });
      process.stderr.write(
        `prefilled the verified-token cache at ${url} with ${PREFILL} tokens in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
      );
    }

    const rounds = new Map<string, Measure[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? active : [...active].reverse();
      for (const row of order) {
        if (WARMUP_S > 0) await cannon(row, { seconds: WARMUP_S });
        const cpu0 = await serverCpu();
        const m = await cannon(row, { seconds: DURATION_S });
        m.cpuUs = (await serverCpu()) - cpu0;
        m.cpuUs /= m.count;
        process.stderr.write(
          `round ${round + 1}/${ROUNDS} ${row.name}: ${m.rps.toFixed(0)} req/s, server ${m.cpuUs.toFixed(1)} µs CPU/req\n`,
        );
        rounds.set(row.name, [...(rounds.get(row.name) ?? []), m]);
      }
    }
    report({ rows, wanted, rounds, pinned, partial });
  } finally {
    await stopChild();
  }
}
