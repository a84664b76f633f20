/**
 * Child process for multi-process.test.ts: one auth node. Opens the stores on the database and
 * schema it is given, prints `{"ready":true}`, then answers one JSON command per stdin line with
 * one JSON line on stdout. The parent sends each command to every worker at once, so the workers
 * race on the same rows from separate processes and connections.
 */
import { createInterface } from 'node:readline';
import { EmailTakenError, type RotateResult } from '../types.js';
import { createPostgresStores } from './index.js';

type Command =
  | { op: 'rotate'; count: number }
  | { op: 'users'; count: number }
  | { op: 'insert-next'; round: number }
  | { op: 'promote'; now: number }
  | { op: 'exit' };

const [url, schema, worker] = process.argv.slice(2);
if (!url || !schema || !worker) throw new Error('usage: test-race-worker <url> <schema> <worker>');

const stores = await createPostgresStores({ connectionString: url, schema, max: 4 });
const reply = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'rotate': {
      const template = await stores.refreshTokens.get('rt_0');
      if (!template) throw new Error('the parent must create the tokens first');
      return Promise.all(
        upTo(command.count).map(
          (i): Promise<RotateResult> =>
            stores.refreshTokens.rotate(`rt_${i}`, { ...template, id: `rt_${i}_${worker}`, rotatedAt: null, successorId: null }, i),
        ),
      );
    }
    case 'users':
      return Promise.all(
        upTo(command.count).map(async (i) => {
          const email = `race_${i}@example.test`;
          try {
            await stores.users.create({
              id: `usr_${i}_${worker}`,
              email,
              name: null,
              passwordHash: 'h',
              roles: [],
              disabledAt: null,
              createdAt: 0,
              updatedAt: 0,
            });
            return 'created';
          } catch (err) {
            if (err instanceof EmailTakenError) return 'taken';
            throw err;
          }
        }),
      );
    case 'insert-next':
      return stores.keys.insert({
        kid: `kid_${command.round}_${worker}`,
        alg: 'ES256',
        state: 'next',
        privateJwk: 'v1.encrypted',
        createdAt: command.round,
        activatedAt: null,
        retiredAt: null,
      });
    case 'promote': {
      // As a node does: read the keys, then promote the next one it saw.
      const next = (await stores.keys.list()).find((k) => k.state === 'next');
      return next ? stores.keys.promote(next.kid, command.now) : false;
    }
    case 'exit':
      await stores.close();
      process.exit(0);
  }
}

reply({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  try {
    reply({ ok: await run(JSON.parse(line) as Command) });
  } catch (err) {
    reply({ error: err instanceof Error ? err.message : String(err) });
  }
}
