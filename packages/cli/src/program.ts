import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { benchCommand } from './commands/bench.js';
import { demoCommand } from './commands/demo.js';
import { keysCommand } from './commands/keys.js';
import { rolesCommand } from './commands/roles.js';
import { migrateCommand, serveCommand } from './commands/serve.js';
import { sessionsCommand } from './commands/sessions.js';
import { tokenCommand } from './commands/token.js';
import { usersCommand } from './commands/users.js';
import { EXIT_OK, EXIT_USAGE } from './lib/errors.js';
import { describeFailure } from './lib/failure.js';
import { type Output, processOutput } from './lib/output.js';

/** Commands that keep running after their action returns (a server, the demo): their process is not ended on return. */
const LONG_RUNNING = new Set(['serve', 'demo']);

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
};

/** Usage errors exit 2 (commander's own default is 1), and every command tells how to get its help. */
function configure(command: Command): void {
  command.exitOverride().showHelpAfterError(`(run \`${fullName(command)} --help\` for usage)`);
  for (const sub of command.commands) configure(sub);
}

function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The `tessera` command with every subcommand. */
export function createProgram(output: Output = processOutput): Command {
  const program = new Command('tessera')
    .description('Tessera: run the auth server and administer its users, roles, sessions and keys; inspect and verify tokens')
    .version(version(), '-V, --version')
    .addHelpText(
      'after',
      '\nExit codes: 0 done, 1 failed (unknown user, taken email, refused token), 2 wrong command line or configuration.\nSettings come from the environment (TESSERA_*, PORT, HOST); flags override them. See docs/cli.md.',
    )
    .addCommand(serveCommand(output))
    .addCommand(migrateCommand(output))
    .addCommand(usersCommand(output))
    .addCommand(rolesCommand(output))
    .addCommand(sessionsCommand(output))
    .addCommand(keysCommand(output))
    .addCommand(tokenCommand(output))
    .addCommand(benchCommand(output))
    .addCommand(demoCommand(output));
  configure(program);
  return program;
}

/**
 * Runs the command line `argv` (as `process.argv`: node, script, arguments…). Resolves the
 * exit code, or null when the command keeps running (a server) and must not be ended.
 */
export async function run(argv: readonly string[], output: Output = processOutput): Promise<number | null> {
  const program = createProgram(output);
  let invoked = '';
  program.hook('preAction', (_root, action) => {
    invoked = action.name();
  });
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help asked for (`--help`, `help <command>`) and the version end with commander's code 0;
      // anything else commander refused is a usage error, already printed.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const failure = describeFailure(err);
    output.info(`tessera: ${failure.message}`);
    return failure.exitCode;
  }
  if (LONG_RUNNING.has(invoked)) return null;
  return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
}
