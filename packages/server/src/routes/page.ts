import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { errors, security, textBody } from './schemas.js';

// The page sits next to this module's directory both in `src/` and in the build, where the
// build copies `src/page` to `dist/page`: the package ships `dist` only, so an installed
// server must never read from `src/`.
const asset = (name: string) => readFileSync(new URL(`../page/${name}`, import.meta.url), 'utf8');

/** Scripts and styles come only from this origin; the page is never framed. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/** `GET /`: the account page (sign up, sign in either way, decoded token, sessions, log out everywhere). */
export async function pageRoutes(app: FastifyInstance): Promise<void> {
  const files = {
    '/': ['text/html; charset=utf-8', asset('account.html')],
    '/account.js': ['text/javascript; charset=utf-8', asset('account.js')],
    '/account.css': ['text/css; charset=utf-8', asset('account.css')],
  } as const;
  for (const [path, [type, body]] of Object.entries(files)) {
    // The page is part of the contract; its script and style are not.
    const schema =
      path === '/'
        ? {
            summary: 'The account page',
            tags: ['page'],
            security: security.none,
            response: { 200: textBody('text/html', 'HTML'), ...errors(400) },
          }
        : { hide: true };
    app.get(path, { schema }, async (_request, reply) => {
      reply
        .type(type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache');
      return body;
    });
  }
}
