import type { Buffer } from 'node:buffer';
import { exportPrivateJwk } from '@tessera/core';
import type { Stores } from '@tessera/stores';
import type { Config } from './config.js';
import { KeyManager } from './lib/key-manager.js';
import { ServerSecrets } from './lib/secrets.js';

/**
 * `tessera-server keys list|rotate|export-secret`: key administration against the store the
 * server uses. Running servers pick the change up within a few seconds (they re-read keys), and
 * verifiers fetch the new key on first sight of its `kid`. `export-secret` prints the HS256
 * secrets (next, current, retired) as a JWK set for a service's fixed `keys`: with HS256 the
 * JWKS is empty, so this is the only way a service can verify.
 */
export async function keysCommand(
  args: string[],
  config: Config,
  stores: Stores,
  kek: Buffer,
  out: (line: string) => void,
): Promise<number> {
  const manager = await KeyManager.start({
    store: stores.keys,
    secrets: new ServerSecrets(kek),
    alg: config.signingAlg,
    policy: { rotateAfter: config.keyRotationInterval, maxTokenTtl: config.accessTokenTtl },
    clock: Date.now,
  });
  const print = () => {
    for (const k of manager.keySet.list())
      out(`${k.key.kid}\t${k.key.alg}\t${k.state}\tcreated ${new Date(k.createdAt * 1000).toISOString()}`);
  };
  switch (args[0]) {
    case 'list':
      print();
      return 0;
    case 'rotate':
      await manager.rotateNow();
      print();
      return 0;
    case 'export-secret': {
      const secrets = manager.keySet.list().filter((k) => k.key.alg === 'HS256');
      if (secrets.length === 0) {
        out(`no HS256 keys: services verify with the public keys at ${config.issuer}/.well-known/jwks.json`);
        return 1;
      }
      out(JSON.stringify({ keys: await Promise.all(secrets.map((k) => exportPrivateJwk(k.key))) }));
      return 0;
    }
    default:
      out('usage: tessera-server keys list|rotate|export-secret');
      return 2;
  }
}
