#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildService } from './service.js';

const usage =
  'usage: example:service -- --port <p> --issuer <url> --audience <aud> [--redis <url>] [--redis-channel <name>] [--jwks-cache <file>] [--revocations-cache <file>] [--host <h>] [--fail-closed-after <ms>] [--client-id <id> --client-secret <secret>]\n' +
  '  (or TESSERA_CLIENT_ID / TESSERA_CLIENT_SECRET: the resource-server credentials the revocation feed needs)';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      redis: { type: 'string' },
      'redis-channel': { type: 'string' },
      'jwks-cache': { type: 'string' },
      'revocations-cache': { type: 'string' },
      'fail-closed-after': { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
    },
  });
  // The environment keeps the secret out of the process list; the flags are for trying it out.
  const clientId = values['client-id'] ?? process.env.TESSERA_CLIENT_ID;
  const clientSecret = values['client-secret'] ?? process.env.TESSERA_CLIENT_SECRET;
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    process.stderr.write('resource service: pass both a client id and a client secret, or neither\n');
    process.exit(2);
  }
  if (!values.port || !values.issuer || !values.audience || !/^\d+$/.test(values.port)) {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
  const { app } = await buildService({
    issuer: values.issuer.replace(/\/+$/, ''),
    audience: values.audience,
    ...(values.redis ? { redis: values.redis } : {}),
    ...(values['redis-channel'] ? { redisChannel: values['redis-channel'] } : {}),
    ...(values['jwks-cache'] ? { jwksCache: values['jwks-cache'] } : {}),
    ...(values['revocations-cache'] ? { revocationsCache: values['revocations-cache'] } : {}),
    ...(values['fail-closed-after'] ? { failClosedAfterMs: Number(values['fail-closed-after']) } : {}),
    ...(clientId !== undefined && clientSecret !== undefined ? { credentials: { id: clientId, secret: clientSecret } } : {}),
  });
  const stop = () => app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await app.listen({ port: Number(values.port), host: values.host });
  process.stdout.write(`resource service listening on http://${values.host}:${values.port}\n`);
}

main().catch((err) => {
  process.stderr.write(`resource service failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
