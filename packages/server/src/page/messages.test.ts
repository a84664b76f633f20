import { describe, expect, it } from 'vitest';
import { explain, type Failure } from './messages.js';

const f = (code: string, message = '', extra: Partial<Failure> = {}): Failure => ({ code, message, status: 400, ...extra });

describe('explain', () => {
  it('a wrong password, in either mode, points at the password field', () => {
    expect(explain(f('invalid_credentials', 'invalid email or password'), 'sign-in')).toMatchObject({
      text: expect.stringMatching(/email and password don’t match/),
      field: 'password',
    });
    expect(explain(f('invalid_grant', 'invalid username or password'), 'sign-in').field).toBe('password');
  });

  it('a wrong current password on the change form points at that field', () => {
    expect(explain(f('invalid_grant', 'the current password is wrong'), 'password')).toEqual({
      text: 'Your current password is wrong.',
      field: 'current_password',
    });
  });

  it('throttling says how long to wait, from Retry-After', () => {
    expect(explain(f('too_many_requests', 'too many failed attempts', { status: 429, retryAfter: 30 }), 'sign-in').text).toBe(
      'Too many attempts. Wait 30 seconds, then try again.',
    );
    expect(explain(f('too_many_requests', '', { retryAfter: 600 }), 'sign-in').text).toContain('10 minutes');
    expect(explain(f('too_many_requests'), 'sign-in').text).toContain('Wait a little');
  });

  it("a weak password gives the server's reason, on the field it is about", () => {
    expect(explain(f('weak_password', 'password must be at least 12 characters'), 'sign-up')).toEqual({
      text: 'Choose a stronger password: it must be at least 12 characters.',
      field: 'password',
    });
    expect(explain(f('weak_password', 'password is too common'), 'password')).toEqual({
      text: 'Choose a stronger password: it is too common.',
      field: 'new_password',
    });
  });

  it('a taken email offers to sign in instead', () => {
    expect(explain(f('email_taken', 'an account with this email exists', { status: 409 }), 'sign-up')).toMatchObject({
      field: 'email',
      offerSignIn: true,
    });
  });

  it('a disabled account says so, by code on the session endpoint and by description on the token endpoint', () => {
    const expected = /account has been disabled/;
    expect(explain(f('account_disabled', 'account is disabled', { status: 403 }), 'sign-in').text).toMatch(expected);
    expect(explain(f('invalid_grant', 'account is disabled'), 'sign-in').text).toMatch(expected);
  });

  it('network failures, outages and unknown codes read as sentences', () => {
    expect(explain(f('network_error', 'Failed to fetch'), 'restore').text).toMatch(/Can’t reach the server/);
    expect(explain(f('temporarily_unavailable', '', { status: 503, retryAfter: 5 }), 'devices').text).toContain('5 seconds');
    expect(explain(f('invalid_request', 'email is not a valid address'), 'sign-up').text).toBe('Email is not a valid address.');
    expect(explain(f('something_new', ''), 'sign-in').text).toBe('Something went wrong. Please try again.');
  });

  it('a device already gone is not an error worth alarm', () => {
    expect(explain(f('not_found', 'no such session', { status: 404 }), 'devices').text).toBe('That device was already signed out.');
  });
});
