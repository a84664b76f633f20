/**
 * Child process for multi-process.test.ts: opens the database file, says "ready", waits for
 * "go" on stdin (so every worker starts together), then grants user `usr_shared` the roles
 * `<worker>-0` … `<worker>-{n-1}`, one change each, and prints "done".
 */
import { once } from 'node:events';
import { createSqliteStores } from './index.js';

const [path, worker, countArg] = process.argv.slice(2);
if (!path || !worker || !countArg) throw new Error('usage: test-roles-worker <db> <worker> <count>');

const stores = createSqliteStores({ path });
if (!(await stores.users.findById('usr_shared'))) throw new Error('the parent must create the user first');

process.stdout.write('ready\n');
await once(process.stdin, 'data');

for (let i = 0; i < Number(countArg); i++) {
  if (!(await stores.users.changeRoles('usr_shared', { grant: [`${worker}-${i}`] }, i))) throw new Error('user vanished');
}
await stores.close();
process.stdout.write('done\n');
process.stdin.destroy();
