/**
 * Child process for multi-process.test.ts: opens the database file, says "ready", waits for
 * "go" on stdin (so every worker starts together), then tries to rotate tokens rt_0 … rt_{n-1}
 * to successors of its own, and prints the results as JSON.
 */
import { once } from 'node:events';
import type { RotateResult } from '../types.js';
import { createSqliteStores } from './index.js';

const [path, worker, countArg] = process.argv.slice(2);
if (!path || !worker || !countArg) throw new Error('usage: test-rotate-worker <db> <worker> <count>');

const stores = createSqliteStores({ path });
const token = await stores.refreshTokens.get('rt_0');
if (!token) throw new Error('the parent must create the tokens first');

process.stdout.write('ready\n');
await once(process.stdin, 'data');

const results: RotateResult[] = [];
for (let i = 0; i < Number(countArg); i++) {
  const next = { ...token, id: `rt_${i}_${worker}`, rotatedAt: null, successorId: null };
  results.push(await stores.refreshTokens.rotate(`rt_${i}`, next, i));
}
await stores.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
process.stdin.destroy();
