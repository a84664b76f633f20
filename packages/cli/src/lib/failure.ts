import { CliError, EXIT_FAILURE, EXIT_USAGE } from './errors.js';

/** What to print for a failure, and the exit code. */
export interface Failure {
  message: string;
  exitCode: number;
}

/**
 * Errors of the server and the stores that mean "the configuration is wrong" (exit code 2), by
 * class name, so the command's start does not load the server to recognise them.
 */
const CONFIG_ERRORS = new Set(['ConfigError', 'StoreConfigError', 'KekMismatchError']);

/** Secret values a message could carry: the KEK, resource-server secrets, extra ones given (a password being set). */
function secretsOf(env: Readonly<Record<string, string | undefined>>, extra: readonly string[]): string[] {
  const values = [env.TESSERA_KEK, ...extra];
  for (const pair of (env.TESSERA_RESOURCE_SERVERS ?? env.TESSERA_INTROSPECTION_CLIENTS ?? '').split(',')) {
    const i = pair.indexOf(':');
    if (i > 0) values.push(pair.slice(i + 1).trim());
  }
  return values.filter((v): v is string => typeof v === 'string' && v.length >= 4);
}

/**
 * A message with URL credentials (`postgres://user:password@…`) and known secret values masked.
 * Library errors are printed as they come, and some repeat what they were given.
 */
export function redact(
  message: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  extra: readonly string[] = [],
): string {
  let text = message.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*):([^/@\s]*)@/gi, '$1$2:***@');
  for (const secret of secretsOf(env, extra)) text = text.split(secret).join('***');
  return text;
}

/**
 * The message and exit code for anything a command threw: usage and configuration errors exit
 * 2, everything else 1. Administrative refusals (`AdminError`) print their message and code.
 */
export function describeFailure(err: unknown, env: Readonly<Record<string, string | undefined>> = process.env): Failure {
  if (err instanceof CliError) return { message: redact(err.message, env), exitCode: err.exitCode };
  if (err instanceof Error) {
    if (CONFIG_ERRORS.has(err.name)) return { message: `invalid configuration: ${redact(err.message, env)}`, exitCode: EXIT_USAGE };
    const code = (err as { code?: unknown }).code;
    if (err.name === 'AdminError' && typeof code === 'string')
      return { message: `${redact(err.message, env)} (${code})`, exitCode: EXIT_FAILURE };
    return { message: redact(err.message || err.name, env), exitCode: EXIT_FAILURE };
  }
  return { message: redact(String(err), env), exitCode: EXIT_FAILURE };
}
