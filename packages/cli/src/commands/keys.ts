import type { KeyView } from '@tessera/server/admin';
import { Command } from 'commander';
import { withAdmin } from '../lib/admin.js';
import { type Output, printJson, table } from '../lib/output.js';
import { addSettings, KEY_SETTINGS, STORE_SETTINGS } from '../lib/settings.js';
import { shortTime } from '../lib/time.js';

const SETTINGS = [...STORE_SETTINGS, ...KEY_SETTINGS];

function printKeys(output: Output, keys: readonly KeyView[], json: boolean | undefined): void {
  if (json) {
    printJson(output, keys);
    return;
  }
  for (const line of table(
    ['kid', 'alg', 'state', 'created', 'activated', 'retired'],
    keys.map((k) => [k.kid, k.alg, k.state, shortTime(k.createdAt), shortTime(k.activatedAt), shortTime(k.retiredAt)]),
  ))
    output.out(line);
}

/**
 * `tessera keys list|rotate|export`. Running servers pick a rotation up on their next key
 * refresh, and verifiers fetch the new key on first sight of its `kid`.
 */
export function keysCommand(output: Output): Command {
  const keys = new Command('keys').description('list, rotate and export the signing keys');

  addSettings(
    keys.command('list').description('list the signing keys: next, current, retired').option('--json', 'print a JSON array'),
    SETTINGS,
  ).action(async (options) => {
    printKeys(output, await withAdmin(options, SETTINGS, (admin) => admin.keys.list()), options.json);
  });

  addSettings(
    keys
      .command('rotate')
      .description('promote the next key to current now (and publish a new next key)')
      .option('--json', 'print the keys after, as a JSON array'),
    SETTINGS,
  ).action(async (options) => {
    const after = await withAdmin(options, SETTINGS, (admin) => admin.keys.rotate());
    output.info('rotated: the next key now signs');
    printKeys(output, after, options.json);
  });

  addSettings(
    keys
      .command('export')
      .description('print the public keys as a JWK set (as /.well-known/jwks.json serves them)')
      .option('--secret', 'HS256 only: print the shared secrets instead (for a service verifying with fixed keys)'),
    SETTINGS,
  ).action(async (options) => {
    const set = await withAdmin(options, SETTINGS, (admin) => (options.secret ? admin.keys.exportSecret() : admin.keys.exportPublic()));
    if (options.secret) output.info('warning: this output holds signing secrets: anyone with them can mint tokens; store it as a secret');
    printJson(output, set);
  });

  return keys;
}
