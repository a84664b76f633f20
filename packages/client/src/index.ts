export { type ClientOptions, createClient } from './create-client.js';
export { ClientErrorCodes, TesseraError } from './errors.js';
export type { ChangeListener, ChangeReason, FetchLike, SignInInput, SignUpInput, TesseraClient, User } from './types.js';
