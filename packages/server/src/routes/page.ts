import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { errors, security, textBody } from './schemas.js';

/**
 * The built page: `scripts/copy-page.js` bundles `src/page` (TypeScript) into `dist/page`.
 * `../../dist/page/` names that one directory from this module in `src/routes/` (tests run the
 * source) and in `dist/routes/` (the build, and the installed package, which ships `dist` only).
 */
const PAGE_DIR = new URL('../../dist/page/', import.meta.url);

function asset(name: string): string {
  const file = new URL(name, PAGE_DIR);
  if (!existsSync(file)) {
    throw new Error(`the account page is not built (${fileURLToPath(file)} is missing): run npm run build`);
  }
  return readFileSync(file, 'utf8');
}

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
