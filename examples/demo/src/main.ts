#!/usr/bin/env node
// `npm run demo`: starts everything, prints where to go, and stops everything on Ctrl-C.
import { parseArgs } from 'node:util';
import { PortInUseError } from './ports.js';
import { type DemoOptions, startDemo } from './start-demo.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

const USAGE = 'usage: npm run demo -- [--auth-port 3000] [--app-port 5173] [--fastify-port 4001] [--express-port 4002] [--data-dir <dir>]';

function options(): DemoOptions {
  const { values } = parseArgs({
    options: {
      'auth-port': { type: 'string' },
      'app-port': { type: 'string' },
      'fastify-port': { type: 'string' },
      'express-port': { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    out(USAGE);
    process.exit(0);
  }
  const port = (value: string | undefined) => (value === undefined ? undefined : /^\d+$/.test(value) ? Number(value) : Number.NaN);
  return {
    authPort: port(values['auth-port']),
    appPort: port(values['app-port']),
    fastifyPort: port(values['fastify-port']),
    expressPort: port(values['express-port']),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  };
}

/** Set by Ctrl-C: from then on, a start that fails (the auth server got the signal too) is no error. */
let stopping = false;

async function main(): Promise<void> {
  const starting = startDemo({ ...options(), log: (line) => out(`  ${line}`) });
  // Listening from the first moment: Ctrl-C while the auth server is still starting stops it too.
  const stop = () => {
    if (stopping) return;
    stopping = true;
    out('\nstopping the demo…');
    starting
      .then((demo) => demo.close())
      .catch(() => undefined) // a start cut short by the signal: nothing left to stop
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop);
  const demo = await starting;
  if (stopping) return;
  out('');
  out('Tessera demo is running:');
  out(`  app              ${demo.urls.app}   <- open this one`);
  out(`  auth server      ${demo.urls.auth}`);
  out(`  Fastify service  ${demo.urls.fastify}`);
  out(`  Express service  ${demo.urls.express}`);
  out('');
  out('Press Ctrl-C to stop.');
}

main().catch((err: unknown) => {
  if (stopping) return;
  if (err instanceof PortInUseError || err instanceof RangeError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`tessera demo: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`tessera demo failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
