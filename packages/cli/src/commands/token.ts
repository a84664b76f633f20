import { Command } from 'commander';
import { type Budget, type Decoded, decodeToken } from '../lib/decode.js';
import { CliError, UsageError } from '../lib/errors.js';
import { readStdin } from '../lib/input.js';
import { fields, type Output, printJson } from '../lib/output.js';

/** The token argument, or stdin for `-` (keeps the token out of shell history and `ps`). */
async function tokenArgument(value: string): Promise<string> {
  const token = value === '-' ? await readStdin() : value;
  if (token.trim() === '') throw new UsageError(value === '-' ? '<token>: stdin was empty' : '<token>: empty');
  return token;
}

const show = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function budgetLine(b: Budget): string {
  const what = b.name === 'cookie' ? 'cookie budget' : 'header budget (Authorization: Bearer …)';
  const share = `${b.bytes} of ${b.limit} bytes, ${Math.round((b.bytes / b.limit) * 100)}%`;
  return `${what}: ${share}${b.status === 'ok' ? '' : b.status === 'near' ? ' (near the limit)' : ' (OVER the limit)'}`;
}

/** Warnings for budgets a token is over or near. */
function budgetWarnings(decoded: Decoded): string[] {
  return decoded.budgets
    .filter((b) => b.status !== 'ok')
    .map((b) =>
      b.name === 'cookie'
        ? `warning: ${decoded.bytes} bytes is ${b.status === 'over' ? 'over' : 'near'} the ${b.limit}-byte cookie limit: browsers drop a cookie this large`
        : `warning: the Authorization header would be ${b.bytes} bytes, ${b.status === 'over' ? 'over' : 'near'} the ${b.limit}-byte header limit of common proxies and servers (and of the verifier)`,
    );
}

function printDecoded(output: Output, decoded: Decoded): void {
  output.out(
    decoded.format === 'jwe' ? 'Encrypted token (JWE): only its header is readable without the decryption key.' : 'Signed token (JWS)',
  );
  output.out('');
  output.out('Header');
  for (const line of fields(Object.entries(decoded.header).map(([k, v]) => [k, show(v)]))) output.out(`  ${line}`);
  if (decoded.claims) {
    output.out('');
    output.out('Claims');
    const times = new Map(decoded.times.map((t) => [t.claim, t]));
    const rows = Object.entries(decoded.claims).map(([k, v]): [string, string] => {
      const t = times.get(k);
      return [k, t ? `${t.value}  ${t.iso ?? 'out of range'}  (${t.words})` : show(v)];
    });
    for (const line of fields(rows)) output.out(`  ${line}`);
  }
  output.out('');
  output.out(`Size: ${decoded.bytes} bytes`);
  for (const b of decoded.budgets) output.out(`  ${budgetLine(b)}`);
}

/** `tessera token decode|verify`. */
export function tokenCommand(output: Output): Command {
  const token = new Command('token').description('inspect and verify access tokens');

  token
    .command('decode')
    .description('show a token’s header, claims, times and size; verifies nothing')
    .argument('<token>', 'the token, or - to read it from stdin')
    .option('--json', 'print JSON: header, claims, times, size, budgets')
    .action(async (value: string, options) => {
      const decoded = decodeToken(await tokenArgument(value), Math.floor(Date.now() / 1000));
      output.info('not verified: this shows what the token says, not whether it is genuine (use `tessera token verify`)');
      for (const warning of budgetWarnings(decoded)) output.info(warning);
      if (options.json) printJson(output, decoded);
      else printDecoded(output, decoded);
    });

  token
    .command('verify')
    .description('verify a token as a resource service would: signature from the issuer’s JWKS, then the claims')
    .argument('<token>', 'the token, or - to read it from stdin')
    .requiredOption('--issuer <url>', 'the exact iss to accept; its discovery document names the JWKS')
    .option('--audience <audience>', 'the audience aud must contain (default: the issuer)')
    .option('--jwks <url>', 'the JWKS URL, instead of the one the issuer’s discovery document names')
    .option('--json', 'print the claims as JSON')
    .action(async (value: string, options) => {
      const { verifyToken } = await import('../lib/verify.js');
      const result = await verifyToken(await tokenArgument(value), {
        issuer: options.issuer,
        audience: options.audience,
        jwks: options.jwks,
      });
      if (!result.valid) {
        output.out(`invalid: ${result.code}`);
        throw new CliError(`token refused: ${result.code} (${result.reason})`);
      }
      output.info(`valid: signed by ${result.kid ?? 'a key'} of ${options.issuer}`);
      if (options.json) printJson(output, result.claims);
      else for (const line of fields(Object.entries(result.claims).map(([k, v]) => [k, show(v)]))) output.out(line);
    });

  return token;
}
