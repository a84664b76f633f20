import { Command } from 'commander';
import { withAdmin } from '../lib/admin.js';
import { UsageError } from '../lib/errors.js';
import { cell, type Output, printJson, table } from '../lib/output.js';
import { addSettings, STORE_SETTINGS } from '../lib/settings.js';
import { shortTime } from '../lib/time.js';

const clip = (s: string | null, max: number): string => {
  if (s === null || s === '') return '-';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

/**
 * `tessera sessions list|revoke`. A revocation is an event, like a logout: the server refuses
 * the session at once and verifiers hear it on the revocation feed.
 */
export function sessionsCommand(output: Output): Command {
  const sessions = new Command('sessions').description('list and revoke live sessions (cookie sessions and refresh families)');

  addSettings(
    sessions
      .command('list')
      .description('list live sessions, newest first')
      .option('--user <email-or-id>', "only this user's sessions")
      .option('--json', 'print a JSON array'),
    STORE_SETTINGS,
  ).action(async (options) => {
    const list = await withAdmin(options, STORE_SETTINGS, (admin) => admin.sessions.list(options.user ? { user: options.user } : {}));
    if (options.json) return printJson(output, list);
    if (list.length === 0) return output.info('no live sessions');
    for (const line of table(
      ['id', 'user', 'kind', 'created', 'last seen', 'expires', 'ip', 'user agent'],
      list.map((s) => [
        s.id,
        s.email ?? s.userId,
        s.kind,
        shortTime(s.createdAt),
        shortTime(s.lastSeenAt),
        shortTime(s.expiresAt),
        cell(s.ip),
        clip(s.userAgent, 48),
      ]),
    ))
      output.out(line);
  });

  addSettings(
    sessions
      .command('revoke')
      .description('end one session, or every session of a user with --user')
      .argument('[session-id]', 'the session to end (its id, as `sessions list` shows)')
      .option('--user <email-or-id>', 'end every session of this user'),
    STORE_SETTINGS,
  ).action(async (sessionId: string | undefined, options) => {
    if (sessionId !== undefined && options.user !== undefined)
      throw new UsageError('sessions revoke: give a session id or --user, not both');
    if (sessionId === undefined && options.user === undefined)
      throw new UsageError('sessions revoke: give a session id, or --user <email-or-id>');
    if (options.user !== undefined) {
      const count = await withAdmin(options, STORE_SETTINGS, (admin) => admin.sessions.revokeUser(options.user));
      output.info(`revoked ${count} session${count === 1 ? '' : 's'} of ${options.user}`);
      return;
    }
    await withAdmin(options, STORE_SETTINGS, (admin) => admin.sessions.revoke(sessionId as string));
    output.info(`revoked session ${sessionId}`);
  });

  return sessions;
}
