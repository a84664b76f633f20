import { resolve } from 'node:path';
import { Command } from 'commander';
import { CliError } from '../lib/errors.js';
import { fields, type Output } from '../lib/output.js';
import { positive } from './users.js';

/** What `@tessera/demo` exports. */
interface DemoModule {
  startDemo(options?: {
    authPort?: number;
    appPort?: number;
    fastifyPort?: number;
    expressPort?: number;
    dataDir?: string;
    log?: (line: string) => void;
  }): Promise<{
    urls: Record<string, string>;
    close(): Promise<void>;
  }>;
}

/** The demo package's name, in a variable: it is optional, so the build must not require it. */
const DEMO_PACKAGE = '@tessera/demo';

async function loadDemo(): Promise<DemoModule> {
  try {
    return (await import(DEMO_PACKAGE)) as DemoModule;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError(
        `the demo is not installed: it ships in the Tessera repository (examples/demo, package ${DEMO_PACKAGE}); clone it, run \`npm install\` there, then \`npx tessera demo\``,
      );
    }
    throw err;
  }
}

/**
 * `tessera demo`: the auth server, a browser app on another origin and two resource services
 * (Fastify and Express with `@tessera/verify`), on this machine, until Ctrl-C.
 */
export function demoCommand(output: Output): Command {
  return new Command('demo')
    .description('run the demo: the auth server, a browser app on another origin and two services verifying its tokens; Ctrl-C stops it')
    .option('--auth-port <port>', 'port of the auth server', (v) => positive('--auth-port', v))
    .option('--app-port <port>', 'port of the browser app', (v) => positive('--app-port', v))
    .option('--fastify-port <port>', 'port of the Fastify service', (v) => positive('--fastify-port', v))
    .option('--express-port <port>', 'port of the Express service', (v) => positive('--express-port', v))
    .option('--data-dir <dir>', "the auth server's data directory (default tessera-demo under the system's temp dir)")
    .action(async (options) => {
      const { startDemo } = await loadDemo();
      const demo = await startDemo({
        ...(options.authPort !== undefined ? { authPort: options.authPort } : {}),
        ...(options.appPort !== undefined ? { appPort: options.appPort } : {}),
        ...(options.fastifyPort !== undefined ? { fastifyPort: options.fastifyPort } : {}),
        ...(options.expressPort !== undefined ? { expressPort: options.expressPort } : {}),
        ...(options.dataDir !== undefined ? { dataDir: resolve(options.dataDir) } : {}),
        log: (line) => output.info(line),
      });
      output.info('the demo is running; Ctrl-C stops it');
      for (const line of fields(Object.entries(demo.urls))) output.out(line);
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        output.info(`${signal}: stopping the demo`);
        demo.close().then(
          () => process.exit(0),
          (err: unknown) => {
            output.info(`the demo did not stop cleanly: ${err instanceof Error ? err.message : String(err)}`);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
