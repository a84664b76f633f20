import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const asset = (name: string) => readFileSync(new URL(`../../src/page/${name}`, import.meta.url), 'utf8');

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
    app.get(path, { schema: { hide: true } }, async (_request, reply) => {
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
