import { waitWords } from './format.js';

/** A refusal as the page gets it: the server's `error` code and description, and `Retry-After`. */
export interface Failure {
  code: string;
  message: string;
  status: number;
  retryAfter?: number | undefined;
}

/** What the user was doing, which changes what a code means to them. */
export type Action = 'sign-in' | 'sign-up' | 'restore' | 'password' | 'devices' | 'sign-out';

/** A sentence for the user, and the field it is about (the page marks that field invalid and focuses it). */
export interface Explained {
  text: string;
  field?: 'email' | 'password' | 'current_password' | 'new_password';
  /** Sign-up found the email taken: the page offers to sign in instead. */
  offerSignIn?: boolean;
}

/** The server's own words, as a sentence: capitalised, with a full stop. */
function sentence(text: string): string {
  const t = text.trim();
  if (t === '') return 'Something went wrong. Please try again.';
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/**
 * The server explains a weak password as "password must be at least 12 characters", "password is
 * too common": the reason reads naturally after "Choose a stronger password:" with "it" for "password".
 */
function strengthReason(description: string): string {
  const reason = description.trim().replace(/^(the )?(new )?password\b/i, 'it');
  return `Choose a stronger password: ${reason.replace(/[.]$/, '')}.`;
}

/**
 * Turns a refusal into a sentence the user can act on. Codes decide, never the description's
 * wording, with one exception: the token endpoint answers every refused password grant as
 * `invalid_grant` (RFC 6749 §5.2), a disabled account included, so there the description is the
 * only place the difference shows.
 *
 * @example
 * explain({ code: 'too_many_requests', message: '…', status: 429, retryAfter: 30 }, 'sign-in').text
 * // 'Too many attempts. Wait 30 seconds, then try again.'
 */
export function explain(failure: Failure, action: Action): Explained {
  const { code, message, retryAfter } = failure;
  switch (code) {
    case 'invalid_credentials':
      return { text: 'That email and password don’t match an account. Check them and try again.', field: 'password' };
    case 'invalid_grant':
      if (action === 'password') return { text: 'Your current password is wrong.', field: 'current_password' };
      if (/disabled/i.test(message)) return disabled();
      if (action === 'sign-in' || action === 'sign-up') {
        return { text: 'That email and password don’t match an account. Check them and try again.', field: 'password' };
      }
      return { text: 'Your session has ended. Please sign in again.' };
    case 'account_disabled':
      return disabled();
    case 'too_many_requests':
      return {
        text:
          retryAfter === undefined
            ? 'Too many attempts. Wait a little, then try again.'
            : `Too many attempts. Wait ${waitWords(retryAfter)}, then try again.`,
      };
    case 'weak_password':
      return { text: strengthReason(message), field: action === 'password' ? 'new_password' : 'password' };
    case 'email_taken':
      return { text: 'An account with this email already exists.', field: 'email', offerSignIn: true };
    case 'network_error':
      return { text: 'Can’t reach the server. Check your connection and try again.' };
    case 'temporarily_unavailable':
      return {
        text:
          retryAfter === undefined
            ? 'The service is busy right now. Please try again shortly.'
            : `The service is busy right now. Please try again in ${waitWords(retryAfter)}.`,
      };
    case 'invalid_origin':
    case 'csrf_token_invalid':
      return { text: 'The request was refused as coming from another site. Reload the page and try again.' };
    case 'invalid_session':
    case 'unauthorized':
    case 'invalid_token':
    case 'signed_out':
      return { text: 'Your session has ended. Please sign in again.' };
    case 'not_found':
      return { text: action === 'devices' ? 'That device was already signed out.' : sentence(message) };
    default:
      return { text: sentence(message) };
  }
}

function disabled(): Explained {
  return { text: 'This account has been disabled. Contact your administrator to restore access.' };
}
