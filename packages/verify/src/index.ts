export {
  type FeedCredentials,
  type FeedStatus,
  type RedisSubscriber,
  RevocationFeed,
  type RevocationFeedOptions,
  type WireEvent,
} from './feed/revocation-feed.js';
export { createSseParser, type SseEvent } from './feed/sse-parser.js';
export { type JwksStatus, RemoteJwks, type RemoteJwksOptions } from './jwks/remote.js';
export {
  authenticationRequired,
  insufficientRole,
  insufficientScope,
  invalidToken,
  malformedAuthorization,
  type Refusal,
  TOKEN_DESCRIPTIONS,
  tokenRefusal,
} from './refusals.js';
export {
  checkRoles,
  checkScopes,
  extractToken,
  scopesOf,
  type TokenSource,
  type VerifiedClaims,
  type VerifyRequestOptions,
  type VerifyResult,
  verifyRequest,
  verifyRequestNow,
} from './request.js';
export { createVerifier, type ResourceVerifier, type ResourceVerifierOptions } from './verifier.js';
