import { exportPrivateJwk } from '@tessera/core';
import { ConfigError } from '../config.js';
import { dataDirOf, KekMismatchError, kekMismatchReason } from '../lib/kek.js';
import { KeyManager } from '../lib/key-manager.js';
import { ServerSecrets } from '../lib/secrets.js';
import type { AdminDeps } from './context.js';
import { AdminError } from './errors.js';
import type { KeyView } from './types.js';
import { keyView } from './views.js';

type KeyDeps = Pick<AdminDeps, 'config' | 'stores' | 'kek' | 'clock'>;

/**
 * The keys as the server holds them: loaded from the store with the KEK, the rotation policy
 * applied as a node's tick would. A KEK that cannot open them is a configuration error, named.
 */
async function keyManager(deps: KeyDeps): Promise<KeyManager> {
  const { config } = deps;
  try {
    return await KeyManager.start({
      store: deps.stores.keys,
      secrets: new ServerSecrets(deps.kek),
      alg: config.signingAlg,
      policy: { rotateAfter: config.keyRotationInterval, maxTokenTtl: config.accessTokenTtl },
      clock: deps.clock,
    });
  } catch (err) {
    if (!(err instanceof KekMismatchError)) throw err;
    const { variable, why } = kekMismatchReason(config.kek, dataDirOf(config.databaseUrl));
    throw new ConfigError(variable, why);
  }
}

/** Every key (next, current, retired). */
export async function listKeys(deps: KeyDeps): Promise<KeyView[]> {
  return (await keyManager(deps)).keySet.list().map(keyView);
}

/**
 * Rotates now: the next key starts signing and a new next key is published. Running servers
 * pick it up within seconds (they re-read keys), and verifiers fetch the new key on first sight
 * of its `kid`.
 */
export async function rotateKeys(deps: KeyDeps): Promise<KeyView[]> {
  const manager = await keyManager(deps);
  await manager.rotateNow();
  return manager.keySet.list().map(keyView);
}

/** The public JWK set, as `/.well-known/jwks.json` serves it. */
export async function exportPublicKeys(deps: KeyDeps): Promise<{ keys: object[] }> {
  return { keys: [...(await keyManager(deps)).keySet.jwks().keys] };
}

/**
 * HS256 only: the shared secrets (next, current, retired) as a JWK set, for a service's fixed
 * keys. With HS256 the JWKS is empty, so this is the only way a service can verify.
 *
 * @throws {AdminError} `no_shared_secret` when no key is HS256.
 */
export async function exportSharedSecrets(deps: KeyDeps): Promise<{ keys: object[] }> {
  const secrets = (await keyManager(deps)).keySet.list().filter((k) => k.key.alg === 'HS256');
  if (secrets.length === 0) {
    throw new AdminError(
      'no_shared_secret',
      `no HS256 keys: services verify with the public keys at ${deps.config.issuer}/.well-known/jwks.json`,
    );
  }
  return { keys: await Promise.all(secrets.map((k) => exportPrivateJwk(k.key))) };
}
