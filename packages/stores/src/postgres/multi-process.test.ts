import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeKey, makeRefresh, seedSession, T0 } from '../contract/fixtures.js';
import type { RotateResult, Session, Stores } from '../types.js';
import { createPostgresStores } from './index.js';
import { describePostgres } from './test-database.js';

const WORKERS = 3;
const TOKENS = 100;
const EMAILS = 100;
const SCHEMA = 'nodes';
const workerFile = fileURLToPath(new URL('./test-race-worker.ts', import.meta.url));

/** One worker process and its reply lines, read in order. */
interface Node {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  next(): Promise<unknown>;
}

function startNode(url: string, name: string): Node {
  const child = spawn(process.execPath, ['--import', 'tsx', workerFile, url, SCHEMA, name], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    async next() {
      const { value, done } = await lines.next();
      if (done) throw new Error(`worker ${name} exited: ${stderr}`);
      const message = JSON.parse(value) as { ok?: unknown; error?: string; ready?: true };
      if (message.error) throw new Error(`worker ${name}: ${message.error}`);
      return message.ok;
    },
  };
}

describePostgres('postgres: several processes on one database', (database) => {
  let nodes: Node[] = [];
  let stores: Stores;
  let session: Session;

  /** Sends one command to every worker at once and collects their answers. */
  const everyNode = async <T>(command: object): Promise<T[]> => {
    for (const n of nodes) n.child.stdin.write(`${JSON.stringify(command)}\n`);
    return (await Promise.all(nodes.map((n) => n.next()))) as T[];
  };

  beforeAll(async () => {
    stores = await createPostgresStores({ connectionString: database().url, schema: SCHEMA });
    session = await seedSession(stores);
    for (let i = 0; i < TOKENS; i++) await stores.refreshTokens.create(makeRefresh(session, { id: `rt_${i}` }));
    nodes = Array.from({ length: WORKERS }, (_, w) => startNode(database().url, `w${w}`));
    await Promise.all(nodes.map((n) => n.next()));
  });

  afterAll(async () => {
    await Promise.all(
      nodes.map(async (n) => {
        n.child.stdin.write('{"op":"exit"}\n');
        if (n.child.exitCode === null) await new Promise((resolve) => n.child.once('exit', resolve));
      }),
    );
    await stores?.close();
  });

  // Two auth nodes refreshing one token at once must not both mint a live successor (RFC 9700 §4.14.2).
  it('refresh rotation: exactly one process wins each token; the others see its successor', async () => {
    const results = await everyNode<RotateResult[]>({ op: 'rotate', count: TOKENS });
    for (let i = 0; i < TOKENS; i++) {
      const winners = results.flatMap((r, w) => (r[i]!.status === 'rotated' ? [w] : []));
      expect(winners, `rt_${i}`).toHaveLength(1);
      const successorId = `rt_${i}_w${winners[0]}`;
      for (const r of results)
        if (r[i]!.status !== 'rotated') expect(r[i]).toEqual({ status: 'already-rotated', rotatedAt: i, successorId });
      expect((await stores.refreshTokens.get(`rt_${i}`))?.successorId).toBe(successorId);
    }
    // Exactly one successor row per token: the family holds the originals plus one each.
    expect(await stores.refreshTokens.deleteFamily(session.id)).toBe(2 * TOKENS);
  });

  it('sign-up: one account per email, however many processes register it at once', async () => {
    const results = await everyNode<string[]>({ op: 'users', count: EMAILS });
    for (let i = 0; i < EMAILS; i++) {
      expect(results.map((r) => r[i]).sort(), `race_${i}`).toEqual(['created', ...Array(WORKERS - 1).fill('taken')]);
      const owner = results.findIndex((r) => r[i] === 'created');
      expect((await stores.users.findByEmail(`race_${i}@example.test`))?.id).toBe(`usr_${i}_w${owner}`);
    }
  });

  it('key rotation: of processes rotating at the same instant, one inserts the next key, one promotes it; one current key remains', async () => {
    const first = makeKey('current', { createdAt: -1 });
    await stores.keys.insert(first);
    for (let round = 0; round < 3; round++) {
      expect((await everyNode<boolean>({ op: 'insert-next', round })).filter(Boolean), `round ${round} insert`).toHaveLength(1);
      expect((await everyNode<boolean>({ op: 'promote', now: T0 + round })).filter(Boolean), `round ${round} promote`).toHaveLength(1);
      const keys = await stores.keys.list();
      expect(keys.filter((k) => k.state === 'current')).toHaveLength(1);
      expect(keys.filter((k) => k.state === 'next')).toHaveLength(0);
      expect(keys.filter((k) => k.state === 'retired')).toHaveLength(round + 1);
    }
  });
});
