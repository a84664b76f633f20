/**
 * Test-only: the administration commands end to end (the built binary against a running
 * `tessera serve`), run once per backend by `sqlite.test.ts` and `postgres.test.ts`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, login, PASSWORD, type Served, serve, tessera } from './test-support.js';

/** A backend to run the suite on: its environment (database, KEK, Redis…), ready before the suite starts. */
export interface Backend {
  env: () => Record<string, string>;
  cwd: () => string;
}

interface UserJson {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  disabled: boolean;
}

interface SessionJson {
  id: string;
  userId: string;
  email: string | null;
  kind: string;
}

interface KeyJson {
  kid: string;
  alg: string;
  state: string;
}

const uniqueEmail = (tag: string) => `${tag}-${randomBytes(4).toString('hex')}@example.com`;
const parse = <T>(stdout: string): T => JSON.parse(stdout) as T;

/** Every administration command against a server on `backend`. */
export function adminSuite(title: string, backend: Backend): void {
  describe(title, () => {
    let server: Served;
    let env: Record<string, string>;
    const run = (args: string[], input?: string) => tessera(args, { env, cwd: backend.cwd(), ...(input !== undefined ? { input } : {}) });

    beforeAll(async () => {
      const port = await freePort();
      env = { ...backend.env(), TESSERA_LOG_LEVEL: 'warn', TESSERA_ISSUER: `http://127.0.0.1:${port}` };
      const migrated = await run(['migrate']);
      expect(migrated.code, migrated.stderr).toBe(0);
      server = await serve(['--port', String(port), '--host', '127.0.0.1'], { env, port, cwd: backend.cwd() });
    });
    afterAll(async () => {
      const code = await server?.stop();
      // A clean stop: SIGTERM lets in-flight requests finish, then exits 0.
      expect(code).toBe(0);
    });

    it('migrate: applies the schema and exits 0 again when there is nothing to do', async () => {
      const again = await run(['migrate']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain('up to date');
    });

    it('users add (password on stdin) / list --json / show: the account exists and logs in; the password is never printed', async () => {
      const email = uniqueEmail('ada');
      const added = await run(['users', 'add', email, '--name', 'Ada Lovelace', '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout + added.stderr).not.toContain(PASSWORD);
      expect(added.stdout).toMatch(/^email\s+/m);

      const listed = await run(['users', 'list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const user = parse<UserJson[]>(listed.stdout).find((u) => u.email === email);
      expect(user).toMatchObject({ email, name: 'Ada Lovelace', roles: ['admin'], disabled: false });

      const shown = await run(['users', 'show', user?.id ?? '', '--json']);
      expect(shown.code, shown.stderr).toBe(0);
      expect(parse<UserJson>(shown.stdout).email).toBe(email);

      // Human output: an aligned table whose header names the columns.
      const table = await run(['users', 'list']);
      expect(table.stdout.split('\n')[0]).toMatch(/^EMAIL\s+NAME\s+ROLES\s+STATUS\s+CREATED\s+ID$/);
      expect(table.stdout).toContain(email);

      const tokens = await login(server.base, email);
      expect(tokens.access_token.split('.')).toHaveLength(3);
    });

    it('users add: a taken email fails with exit 1 and says why; a missing password without a terminal is a usage error', async () => {
      const email = uniqueEmail('taken');
      expect((await run(['users', 'add', email, '--password-stdin'], PASSWORD)).code).toBe(0);
      const again = await run(['users', 'add', email, '--password-stdin'], PASSWORD);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('email_taken');
      const noPassword = await run(['users', 'add', uniqueEmail('nopw')]);
      expect(noPassword.code).toBe(2);
      expect(noPassword.stderr).toContain('--password-stdin');
    });

    it('users add --password: works, and warns that the password lands in shell history', async () => {
      const email = uniqueEmail('flag');
      const added = await run(['users', 'add', email, '--password', PASSWORD]);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stderr).toContain('shell history');
      expect(added.stdout + added.stderr).not.toContain(PASSWORD);
    });

    it('users add: a weak password is refused (exit 1, weak_password), and not echoed', async () => {
      const weak = 'password';
      const refused = await run(['users', 'add', uniqueEmail('weak'), '--password-stdin'], weak);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('weak_password');
    });

    it('users disable / enable: a disabled account cannot log in and loses its sessions; enabled, it logs in again', async () => {
      const email = uniqueEmail('dis');
      expect((await run(['users', 'add', email, '--password-stdin'], PASSWORD)).code).toBe(0);
      const before = await login(server.base, email);

      const disabled = await run(['users', 'disable', email, '--json']);
      expect(disabled.code, disabled.stderr).toBe(0);
      expect(parse<UserJson>(disabled.stdout).disabled).toBe(true);
      await expect(login(server.base, email)).rejects.toThrow(/answered 4\d\d/);
      // Its refresh family was revoked with the account.
      const refreshed = await fetch(`${server.base}/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: before.refresh_token }),
      });
      expect(refreshed.status).toBe(400);
      const sessions = await run(['sessions', 'list', '--user', email, '--json']);
      expect(parse<SessionJson[]>(sessions.stdout)).toEqual([]);

      const enabled = await run(['users', 'enable', email]);
      expect(enabled.code, enabled.stderr).toBe(0);
      expect(enabled.stdout).toMatch(/^status\s+active$/m);
      await login(server.base, email);
    });

    it('users delete: refused without --yes when there is no terminal (exit 2); with --yes the account is gone', async () => {
      const email = uniqueEmail('del');
      expect((await run(['users', 'add', email, '--password-stdin'], PASSWORD)).code).toBe(0);
      const unconfirmed = await run(['users', 'delete', email]);
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toContain('--yes');
      expect((await run(['users', 'show', email])).code).toBe(0);

      const deleted = await run(['users', 'delete', email, '--yes']);
      expect(deleted.code, deleted.stderr).toBe(0);
      const gone = await run(['users', 'show', email]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toContain('user_not_found');
    });

    it('roles grant / revoke / list: the roles after each change; new tokens carry them', async () => {
      const email = uniqueEmail('roles');
      expect((await run(['users', 'add', email, '--password-stdin'], PASSWORD)).code).toBe(0);
      const granted = await run(['roles', 'grant', email, 'editor', '--json']);
      expect(granted.code, granted.stderr).toBe(0);
      expect(parse<string[]>(granted.stdout)).toEqual(['editor']);
      expect(parse<string[]>((await run(['roles', 'grant', email, 'auditor', '--json'])).stdout).sort()).toEqual(['auditor', 'editor']);

      const tokens = await login(server.base, email);
      const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString()) as { roles?: string[] };
      expect(claims.roles?.sort()).toEqual(['auditor', 'editor']);

      const revoked = await run(['roles', 'revoke', email, 'editor']);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(revoked.stdout.trim()).toBe('auditor');
      expect(revoked.stderr).toContain(`revoked editor from ${email}`);
      // Nothing to take away, nothing to add: said as such, and not a failure.
      const absent = await run(['roles', 'revoke', email, 'editor']);
      expect([absent.code, absent.stderr.trim()]).toEqual([0, `${email} did not have editor`]);
      const again = await run(['roles', 'grant', email, 'auditor']);
      expect([again.code, again.stderr.trim()]).toEqual([0, `${email} already had auditor`]);
      expect(parse<string[]>((await run(['roles', 'list', email, '--json'])).stdout)).toEqual(['auditor']);

      const badRole = await run(['roles', 'grant', email, 'Not A Role']);
      expect(badRole.code).toBe(1);
      expect(badRole.stderr).toContain('invalid_role');
      const unknownUser = await run(['roles', 'grant', uniqueEmail('nobody'), 'editor']);
      expect(unknownUser.code).toBe(1);
      expect(unknownUser.stderr).toContain('user_not_found');
    });

    it('sessions list / revoke <sid> / revoke --user: revoked refresh families can no longer refresh', async () => {
      const email = uniqueEmail('sess');
      expect((await run(['users', 'add', email, '--password-stdin'], PASSWORD)).code).toBe(0);
      const first = await login(server.base, email);
      const second = await login(server.base, email);
      const third = await login(server.base, email);

      const listed = await run(['sessions', 'list', '--user', email, '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const sessions = parse<SessionJson[]>(listed.stdout);
      expect(sessions).toHaveLength(3);
      expect(sessions.every((s) => s.kind === 'token' && s.email === email)).toBe(true);

      const human = await run(['sessions', 'list', '--user', email]);
      expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+USER\s+KIND\s+CREATED\s+LAST SEEN\s+EXPIRES\s+IP\s+USER AGENT$/);
      expect(human.stdout).toContain('tessera-cli-test');

      // Which session is the first login's: the `sid` claim of its access token.
      const sidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sid: string }).sid;
      const revoked = await run(['sessions', 'revoke', sidOf(first.access_token)]);
      expect(revoked.code, revoked.stderr).toBe(0);
      const refresh = (rt: string) =>
        fetch(`${server.base}/v1/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: rt }),
        });
      expect((await refresh(first.refresh_token)).status).toBe(400);
      const left = parse<SessionJson[]>((await run(['sessions', 'list', '--user', email, '--json'])).stdout);
      expect(left.map((s) => s.id).sort()).toEqual([sidOf(second.access_token), sidOf(third.access_token)].sort());

      const all = await run(['sessions', 'revoke', '--user', email]);
      expect(all.code, all.stderr).toBe(0);
      // Both live sessions, though on PostgreSQL a running node hears the revocation events
      // (LISTEN/NOTIFY) and may mark some of them before the command does.
      expect(all.stderr).toContain(`revoked 2 sessions of ${email}`);
      expect((await refresh(second.refresh_token)).status).toBe(400);
      expect(parse<SessionJson[]>((await run(['sessions', 'list', '--user', email, '--json'])).stdout)).toEqual([]);

      // Both or neither: a usage error.
      expect((await run(['sessions', 'revoke'])).code).toBe(2);
      expect((await run(['sessions', 'revoke', 'x', '--user', email])).code).toBe(2);
      const unknown = await run(['sessions', 'revoke', 'no-such-session']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('session_not_found');
    });

    it('keys list / rotate / export: rotation promotes the next key, the JWKS publishes it, --secret refuses ES256', async () => {
      const listed = await run(['keys', 'list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const before = parse<KeyJson[]>(listed.stdout);
      const next = before.find((k) => k.state === 'next');
      const current = before.find((k) => k.state === 'current');
      expect(current?.alg).toBe('ES256');
      expect(next).toBeDefined();

      const rotated = await run(['keys', 'rotate', '--json']);
      expect(rotated.code, rotated.stderr).toBe(0);
      const after = parse<KeyJson[]>(rotated.stdout);
      expect(after.find((k) => k.state === 'current')?.kid).toBe(next?.kid);
      expect(after.find((k) => k.kid === current?.kid)?.state).toBe('retired');

      const human = await run(['keys', 'list']);
      expect(human.stdout.split('\n')[0]).toMatch(/^KID\s+ALG\s+STATE\s+CREATED\s+ACTIVATED\s+RETIRED$/);

      const exported = await run(['keys', 'export']);
      expect(exported.code, exported.stderr).toBe(0);
      const jwks = parse<{ keys: { kid: string; d?: string }[] }>(exported.stdout);
      expect(jwks.keys.map((k) => k.kid)).toContain(next?.kid);
      expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
      const served = (await (await fetch(`${server.base}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
      expect(served.keys.map((k) => k.kid)).toContain(next?.kid);

      const secret = await run(['keys', 'export', '--secret']);
      expect(secret.code).toBe(1);
      expect(secret.stderr).toContain('no_shared_secret');
      expect(secret.stdout).toBe('');
    });

    it('token decode: a real token shows its header, claims and lifetime in words; not verified', async () => {
      const email = uniqueEmail('dec');
      expect((await run(['users', 'add', email, '--password-stdin'], PASSWORD)).code).toBe(0);
      const { access_token } = await login(server.base, email);
      const decoded = await run(['token', 'decode', access_token]);
      expect(decoded.code, decoded.stderr).toBe(0);
      expect(decoded.stderr).toContain('not verified');
      expect(decoded.stdout).toMatch(/^ {2}typ\s+at\+jwt$/m);
      expect(decoded.stdout).toMatch(/^ {2}alg\s+ES256$/m);
      expect(decoded.stdout).toMatch(new RegExp(`^ {2}email\\s+${email.replace(/[.]/g, '\\.')}$`, 'm'));
      expect(decoded.stdout).toMatch(/^ {2}exp\s+\d+ {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}\(expires in (9|10) minutes\)$/m);
      expect(decoded.stdout).toMatch(/cookie budget: \d+ of 4096 bytes/);
      // The token itself is not printed back.
      expect(decoded.stdout).not.toContain(access_token.split('.')[2]);

      const fromStdin = await tessera(['token', 'decode', '-', '--json'], { input: `${access_token}\n` });
      expect(fromStdin.code, fromStdin.stderr).toBe(0);
      const json = parse<{ format: string; claims: { sub: string; iss: string }; times: { claim: string; words: string }[] }>(
        fromStdin.stdout,
      );
      expect(json.format).toBe('jws');
      expect(json.claims.iss).toBe(env.TESSERA_ISSUER);
      expect(json.times.find((t) => t.claim === 'iat')?.words).toMatch(/^issued (\d+ seconds? ago|now)$/);
    });

    it('token verify: valid → 0 with the claims; tampered → 1 with the reason code; missing --issuer → 2', async () => {
      const email = uniqueEmail('ver');
      expect((await run(['users', 'add', email, '--password-stdin'], PASSWORD)).code).toBe(0);
      const { access_token } = await login(server.base, email);

      const valid = await tessera(['token', 'verify', access_token, '--issuer', server.base]);
      expect(valid.code, valid.stderr).toBe(0);
      expect(valid.stdout).toMatch(new RegExp(`^email\\s+${email.replace(/[.]/g, '\\.')}$`, 'm'));

      const viaJwks = await tessera(
        ['token', 'verify', '-', '--issuer', server.base, '--jwks', `${server.base}/.well-known/jwks.json`, '--json'],
        {
          input: access_token,
        },
      );
      expect(viaJwks.code, viaJwks.stderr).toBe(0);
      expect(parse<{ email: string }>(viaJwks.stdout).email).toBe(email);

      // Tampered: the claims say another user, the signature is the original one.
      const [header, payload, signature] = access_token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${signature}`;
      const tampered = await tessera(['token', 'verify', forged, '--issuer', server.base]);
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toContain('ERR_TOKEN_SIGNATURE');

      const wrongAudience = await tessera(['token', 'verify', access_token, '--issuer', server.base, '--audience', 'orders']);
      expect(wrongAudience.code).toBe(1);
      expect(wrongAudience.stdout).toContain('ERR_TOKEN_CLAIM');

      const noIssuer = await tessera(['token', 'verify', access_token]);
      expect(noIssuer.code).toBe(2);
      expect(noIssuer.stderr).toContain('--issuer');
    });
  });
}
