#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildService } from './service.js';

const usage =
  'usage: example:service -- --port <p> --issuer <url> --audience <aud> [--redis <url>] [--redis-channel <name>] [--jwks-cache <file>] [--revocations-cache <file>] [--host <h>] [--fail-closed-after <ms>]';

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
    },
  });
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
