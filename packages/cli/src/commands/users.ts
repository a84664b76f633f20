import type { UserView } from '@tessera/server/admin';
import { Command } from 'commander';
import { withAdmin } from '../lib/admin.js';
import { CliError, UsageError } from '../lib/errors.js';
import { confirm, passwordFromStdin, promptHidden } from '../lib/input.js';
import { cell, fields, type Output, printJson, table } from '../lib/output.js';
import { addSettings, STORE_SETTINGS } from '../lib/settings.js';
import { shortTime } from '../lib/time.js';

const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** A user as label/value lines. */
export function userFields(user: UserView & { sessions?: number }): string[] {
  return fields([
    ['id', user.id],
    ['email', user.email],
    ['name', cell(user.name)],
    ['roles', user.roles.length > 0 ? user.roles.join(', ') : '-'],
    ['status', user.disabled ? `disabled since ${cell(user.disabledAt)}` : 'active'],
    ...(user.sessions !== undefined ? ([['sessions', String(user.sessions)]] as const) : []),
    ['created', user.createdAt],
    ['updated', user.updatedAt],
  ]);
}

function printUser(output: Output, user: UserView, json: boolean | undefined): void {
  if (json) printJson(output, user);
  else for (const line of userFields(user)) output.out(line);
}

/** The password for `users add`: `--password` (with a warning), `--password-stdin`, or asked twice on the terminal. */
async function passwordOf(options: { password?: string; passwordStdin?: boolean }, output: Output): Promise<string> {
  if (options.password !== undefined && options.passwordStdin) throw new UsageError('--password and --password-stdin: pass one, not both');
  if (options.password !== undefined) {
    output.info(
      'warning: --password leaves the password in your shell history and in the process list; prefer --password-stdin or the prompt',
    );
    return options.password;
  }
  if (options.passwordStdin) {
    const password = await passwordFromStdin();
    if (password === '') throw new UsageError('--password-stdin: stdin held no password');
    return password;
  }
  const first = await promptHidden('Password: ');
  const again = await promptHidden('Password (again): ');
  if (first !== again) throw new CliError('the two passwords differ; nothing was changed');
  return first;
}

/** `tessera users add|list|show|disable|enable|delete`. */
export function usersCommand(output: Output): Command {
  const users = new Command('users').description('create, list, inspect, disable, enable and delete accounts');

  addSettings(
    users
      .command('add')
      .description('create an account (the password is asked for on the terminal unless given)')
      .argument('<email>', 'the email address, the login name')
      .option('--name <name>', 'display name')
      .option('--role <role>', 'a role to grant; repeat it or give a comma list', collect)
      .option('--password <password>', 'the password (lands in shell history: prefer the prompt or --password-stdin)')
      .option('--password-stdin', 'read the password from the first line of stdin')
      .option('--json', 'print the account as JSON'),
    STORE_SETTINGS,
  ).action(async (email: string, options) => {
    const password = await passwordOf(options, output);
    const user = await withAdmin(
      options,
      STORE_SETTINGS,
      (admin) => admin.users.add({ email, password, name: options.name ?? null, roles: options.role ?? [] }),
      { mayCreate: true },
    ).catch((err: unknown) => {
      // A password must not reach the terminal even if an error were to repeat its input.
      if (err instanceof Error) err.message = err.message.split(password).join('***');
      throw err;
    });
    output.info(`created ${user.email}`);
    printUser(output, user, options.json);
  });

  addSettings(
    users
      .command('list')
      .description('list accounts, ordered by email')
      .option('--limit <n>', 'at most this many accounts', (v) => positive('--limit', v))
      .option('--json', 'print a JSON array'),
    STORE_SETTINGS,
  ).action(async (options) => {
    const limit: number = options.limit ?? Number.POSITIVE_INFINITY;
    const all = await withAdmin(options, STORE_SETTINGS, async (admin) => {
      const found: UserView[] = [];
      let after: string | undefined;
      while (found.length < limit) {
        const page = await admin.users.list({ limit: Math.min(100, limit - found.length), ...(after ? { after } : {}) });
        found.push(...page.users);
        if (page.next === null || page.users.length === 0) break;
        after = page.next;
      }
      return found.slice(0, limit);
    });
    if (options.json) return printJson(output, all);
    if (all.length === 0) return output.info('no accounts');
    for (const line of table(
      ['email', 'name', 'roles', 'status', 'created', 'id'],
      all.map((u) => [u.email, cell(u.name), u.roles.join(',') || '-', u.disabled ? 'disabled' : 'active', shortTime(u.createdAt), u.id]),
    ))
      output.out(line);
  });

  addSettings(
    users
      .command('show')
      .description('show one account and how many live sessions it has')
      .argument('<email-or-id>', 'an email (contains @) or a user id')
      .option('--json', 'print JSON'),
    STORE_SETTINGS,
  ).action(async (who: string, options) => {
    const user = await withAdmin(options, STORE_SETTINGS, (admin) => admin.users.show(who));
    if (options.json) return printJson(output, user);
    for (const line of userFields(user)) output.out(line);
  });

  addSettings(
    users
      .command('disable')
      .description('disable an account and revoke all its sessions')
      .argument('<email-or-id>', 'an email (contains @) or a user id')
      .option('--json', 'print the account as JSON'),
    STORE_SETTINGS,
  ).action(async (who: string, options) => {
    const user = await withAdmin(options, STORE_SETTINGS, (admin) => admin.users.disable(who));
    output.info(`disabled ${user.email}; its sessions are revoked`);
    printUser(output, user, options.json);
  });

  addSettings(
    users
      .command('enable')
      .description('enable a disabled account')
      .argument('<email-or-id>', 'an email (contains @) or a user id')
      .option('--json', 'print the account as JSON'),
    STORE_SETTINGS,
  ).action(async (who: string, options) => {
    const user = await withAdmin(options, STORE_SETTINGS, (admin) => admin.users.enable(who));
    output.info(`enabled ${user.email}`);
    printUser(output, user, options.json);
  });

  addSettings(
    users
      .command('delete')
      .description('revoke every session of an account, then delete it')
      .argument('<email-or-id>', 'an email (contains @) or a user id')
      .option('--yes', 'do not ask for confirmation'),
    STORE_SETTINGS,
  ).action(async (who: string, options) => {
    if (!options.yes) {
      if (!process.stdin.isTTY) throw new UsageError('--yes: required to delete without a terminal to confirm on');
      if (!(await confirm(`Delete ${who} and end all its sessions?`))) throw new CliError('not deleted');
    }
    await withAdmin(options, STORE_SETTINGS, (admin) => admin.users.delete(who));
    output.info(`deleted ${who}`);
  });

  return users;
}

/** A positive integer option value; the error names the flag. */
export function positive(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`${flag}: must be a positive integer, got ${JSON.stringify(value.slice(0, 32))}`);
  return Number(value);
}
