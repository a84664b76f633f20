// Where a row's CPU time goes: the server's processes (a cluster supervisor and its workers), the
// stores (every postgres and redis-server process on the machine: other users' work included, so
// a rough figure) and this load generator. On a machine whose cores all of them share, req/s
// alone cannot say which one a row is waiting for; CPU per request can. Linux only (/proc).
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime/stime: 100 on every mainstream Linux build. */
const CLK_TCK = 100;

interface Stat {
  comm: string;
  ppid: number;
  /** utime + stime, µs. */
  cpu: number;
}

function stat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may contain spaces; the fields after it are fixed.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text
      .slice(close + 2)
      .trim()
      .split(' ');
    return { comm, ppid: Number(f[1]), cpu: ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK };
  } catch {
    return null;
  }
}

function allStats(): Map<number, Stat> {
  const out = new Map<number, Stat>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s) out.set(Number(name), s);
  }
  return out;
}

/** CPU µs used so far, per group, by processes alive now. */
export interface CpuSample {
  server: Map<number, number>;
  stores: Map<number, number>;
  client: number;
}

/** Samples the server rooted at `serverPid` (and its children), the stores' processes, and this process. */
export function sampleCpu(serverPid: number): CpuSample {
  const stats = allStats();
  const server = new Map<number, number>();
  const stores = new Map<number, number>();
  for (const [pid, s] of stats) {
    if (pid === serverPid || s.ppid === serverPid) server.set(pid, s.cpu);
    else if (s.comm === 'postgres' || s.comm.startsWith('redis-server')) stores.set(pid, s.cpu);
  }
  const own = process.cpuUsage();
  return { server, stores, client: own.user + own.system };
}

/** CPU µs per request between two samples, per group (processes present in both samples only). */
export function cpuPerRequest(before: CpuSample, after: CpuSample, requests: number): { server: number; stores: number; client: number } {
  const delta = (a: Map<number, number>, b: Map<number, number>) => {
    let sum = 0;
    for (const [pid, cpu] of b) {
      const was = a.get(pid);
      if (was !== undefined) sum += cpu - was;
    }
    return sum;
  };
  const n = Math.max(1, requests);
  return {
    server: delta(before.server, after.server) / n,
    stores: delta(before.stores, after.stores) / n,
    client: (after.client - before.client) / n,
  };
}
