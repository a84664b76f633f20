import { Command } from 'commander';
import { withAdmin } from '../lib/admin.js';
import { type Output, printJson } from '../lib/output.js';
import { addSettings, STORE_SETTINGS } from '../lib/settings.js';

function printRoles(output: Output, roles: readonly string[], json: boolean | undefined): void {
  if (json) printJson(output, roles);
  else if (roles.length === 0) output.info('no roles');
  else for (const role of roles) output.out(role);
}

/**
 * `tessera roles grant|revoke|list`. Roles reach access tokens issued after the change
 * (the `roles` claim); tokens already issued keep theirs until they expire.
 */
export function rolesCommand(output: Output): Command {
  const roles = new Command('roles').description("grant, revoke and list a user's roles");

  for (const [name, description] of [
    ['grant', 'grant a role to a user'],
    ['revoke', 'take a role away from a user'],
  ] as const) {
    addSettings(
      roles
        .command(name)
        .description(`${description}; prints the roles after the change`)
        .argument('<email-or-id>', 'an email (contains @) or a user id')
        .argument('<role>', 'the role')
        .option('--json', 'print the roles as a JSON array'),
      STORE_SETTINGS,
    ).action(async (who: string, role: string, options) => {
      const [before, after] = await withAdmin(options, STORE_SETTINGS, async (admin) => {
        const { roles: held } = await admin.users.show(who);
        return [held, await admin.roles[name](who, role)] as const;
      });
      // What changed, as far as this command saw: the roles just before and just after its change.
      const had = before.includes(role);
      if (name === 'grant') output.info(had ? `${who} already had ${role}` : `granted ${role} to ${who}`);
      else output.info(had ? `revoked ${role} from ${who}` : `${who} did not have ${role}`);
      printRoles(output, after, options.json);
    });
  }

  addSettings(
    roles
      .command('list')
      .description("list a user's roles")
      .argument('<email-or-id>', 'an email (contains @) or a user id')
      .option('--json', 'print the roles as a JSON array'),
    STORE_SETTINGS,
  ).action(async (who: string, options) => {
    const user = await withAdmin(options, STORE_SETTINGS, (admin) => admin.users.show(who));
    printRoles(output, user.roles, options.json);
  });

  return roles;
}
