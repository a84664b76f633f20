export { type CachedToken, tokenCacheKey, VerifiedTokenCache } from './cache/verified-cache.js';
export {
  AuthError,
  type ErrorCode,
  ErrorCodes,
  KeyError,
  OptionError,
  TokenError,
  TokenExpiredError,
  TokenRevokedError,
} from './errors.js';
export { assertKeyFitsAlgorithm, MIN_HMAC_BYTES, MIN_RSA_BITS } from './keys/check.js';
export { type GenerateKeyOptions, generateSigningKey } from './keys/generate.js';
export {
  exportPrivateJwk,
  exportPublicJwk,
  fromKeyObject,
  type ImportJwkOptions,
  importPem,
  importSecret,
  importSigningJwk,
  importVerificationJwk,
} from './keys/import.js';
export { type ImportJwksOptions, importJwks } from './keys/jwks.js';
export { DEFAULT_ROTATION_POLICY, KeySet, type ManagedKey, manageKey, type RotationDue, type RotationPolicy } from './keys/key-set.js';
export { thumbprint } from './keys/thumbprint.js';
export { RevocationList, type RevocationRule, type WireEvent } from './revocation/revocation-list.js';
export { bearerCredential } from './tokens/bearer.js';
export {
  assertEncryptionKey,
  CONTENT_ENCRYPTION,
  type DecryptionKey,
  decryptToken,
  type EncryptionAlgorithm,
  type EncryptionKey,
  encryptToken,
  generateEncryptionKeys,
} from './tokens/encrypt.js';
export { isAccessTokenType } from './tokens/header.js';
export {
  type AccessTokenInput,
  createIssuer,
  DEFAULT_ACCESS_TOKEN_TTL,
  type IssuedToken,
  type Issuer,
  type IssuerOptions,
} from './tokens/issue.js';
export {
  createVerifier,
  DEFAULT_CACHE_SIZE,
  DEFAULT_LEEWAY,
  DEFAULT_MAX_TOKEN_SIZE,
  MAX_LEEWAY,
  type RevocationCheck,
  type Verifier,
  type VerifierOptions,
} from './tokens/verify.js';
export type { AccessTokenClaims, Algorithm, Jwks, KeyResolver, KeyState, PublicJwk, SigningKey, VerificationKey } from './types.js';
export { ALGORITHMS } from './types.js';
