import { CliError, UsageError } from './errors.js';

/** Most bytes read from stdin: a password or a token is far smaller; anything bigger is a mistake. */
const STDIN_LIMIT = 1024 * 1024;

/** All of stdin as UTF-8, refused past 1 MiB. */
export async function readStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > STDIN_LIMIT) throw new UsageError('stdin: more than 1 MiB');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A password from stdin (`--password-stdin`): the first line, so `echo "$PW" | tessera …`
 * and a file without a trailing newline both work.
 */
export async function passwordFromStdin(): Promise<string> {
  const text = await readStdin();
  return text.split(/\r?\n/)[0] ?? '';
}

/**
 * Reads one line from the terminal without echoing it (raw mode: nothing the user types is
 * shown, not even stars). Backspace edits; Ctrl-C and Ctrl-D abort.
 */
export function promptHidden(
  prompt: string,
  stdin: NodeJS.ReadStream = process.stdin,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  if (!stdin.isTTY) throw new UsageError('no terminal to ask for the password on: pass --password-stdin (or --password)');
  return new Promise((resolve, reject) => {
    let value = '';
    // Raw mode before the prompt: a user typing as soon as it shows must not be echoed.
    stdin.setRawMode(true);
    stderr.write(prompt);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (error: Error | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003' || ch === '\u0004') return finish(new CliError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Asks a yes/no question on the terminal; false when there is none. */
export async function confirm(
  question: string,
  stdin: NodeJS.ReadStream = process.stdin,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<boolean> {
  if (!stdin.isTTY) return false;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: stdin, output: stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
