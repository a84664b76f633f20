#!/usr/bin/env node
import cluster from 'node:cluster';
import { StoreConfigError } from '@tessera/stores';
import { openAdmin } from './admin/index.js';
import { keysCommand } from './admin/keys-command.js';
import { ConfigError } from './config.js';
import { migrate, startServer } from './start.js';

const USAGE = 'usage: tessera-server [serve] | migrate | keys list|rotate|export|export-secret';

/** `tessera-server [serve] | migrate | keys …`: the auth server's command. */
async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  // A worker forked by a supervising server serves, whatever its arguments.
  if (cluster.isWorker || command === undefined || command === 'serve') {
    await startServer(process.env);
    return;
  }
  if (command === 'migrate') {
    await migrate(process.env);
    process.stdout.write('tessera: the database schema is up to date\n');
    process.exit(0);
  }
  if (command === 'keys') {
    const admin = await openAdmin({ env: process.env });
    const code = await keysCommand(args, admin, (line) => process.stdout.write(`${line}\n`)).finally(() => admin.close());
    process.exit(code);
  }
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

main().catch((err) => {
  // A bad setting, or a store URL that is wrong or unreachable: the message names the variable,
  // never a secret or the URL.
  if (err instanceof ConfigError || err instanceof StoreConfigError) {
    process.stderr.write(`tessera: invalid configuration: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`tessera: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
