/**
 * Exit codes of the `tessera` command, and the errors that carry them. Every command throws
 * one of these (or lets a library error through, mapped by {@link exitCodeOf}); only `bin.ts`
 * prints them and exits, so the commands stay testable and never call `process.exit` mid-work.
 */

/** Done. */
export const EXIT_OK = 0;
/** The work failed: a refused token, an unknown user, a taken email. */
export const EXIT_FAILURE = 1;
/** The command line or the configuration is wrong: nothing was attempted. */
export const EXIT_USAGE = 2;

/** A failure to report as one line on stderr, with its exit code. The message never holds a secret. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A wrong command line (exit code 2): the message names the flag or argument. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}
