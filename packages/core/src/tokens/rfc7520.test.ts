/**
 * Published test vectors, checked at the signature layer. The RFC 7520 (JOSE Cookbook)
 * payload is prose, not a claims set, and its headers carry no `typ`, so the full verifier
 * rightly refuses those tokens; the signature step is what the vectors pin.
 */
import { Buffer } from 'node:buffer';
import { constants, verify as cryptoVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Algorithm, ErrorCodes, importSigningJwk, importVerificationJwk, type VerificationKey } from '../index.js';
import { expectCodeAsync, expectRefused, verifierFor } from '../test-fixtures.js';
import { signBytes, verifyBytes } from './signature.js';

/** RFC 7520 §3.3, Figure 3: RSA 2048-bit public key. */
const RSA_PUBLIC = {
  kty: 'RSA',
  kid: 'bilbo.baggins@hobbiton.example',
  use: 'sig',
  n:
    'n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqV' +
    'wGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde' +
    '3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5g' +
    'HdrNP5zw',
  e: 'AQAB',
};

/** RFC 7520 §3.4, Figure 4: the matching RSA private key. */
const RSA_PRIVATE = {
  ...RSA_PUBLIC,
  d:
    'bWUC9B-EFRIo8kpGfh0ZuyGPvMNKvYWNtB_ikiH9k20eT-O1q_I78eiZkpXxXQ0UTEs2LsNRS-8uJbvQ-A1irkwMSMkK1J3XTGgdrhCku9gRld' +
    'Y7sNA_AKZGh-Q661_42rINLRCe8W-nZ34ui_qOfkLnK9QWDDqpaIsA-bMwWWSDFu2MUBYwkHTMEzLYGqOe04noqeq1hExBTHBOBdkMXiuFhUq1BU' +
    '6l-DqEiWxqg82sXt2h-LMnT3046AOYJoRioz75tSUQfGCshWTBnP5uDjd18kKhyv07lhfSJdrPdM5Plyl21hsFf4L_mHCuoFau7gdsPfHPxxjVOc' +
    'OpBrQzwQ',
  p:
    '3Slxg_DwTXJcb6095RoXygQCAZ5RnAvZlno1yhHtnUex_fp7AZ_9nRaO7HX_-SFfGQeutao2TDjDAWU4Vupk8rw9JR0AzZ0N2fvuIAmr_WCsmG' +
    'peNqQnev1T7IyEsnh8UMt-n5CafhkikzhEsrmndH6LxOrvRJlsPp6Zv8bUq0k',
  q:
    'uKE2dh-cTf6ERF4k4e_jy78GfPYUIaUyoSSJuBzp3Cubk3OCqs6grT8bR_cu0Dm1MZwWmtdqDyI95HrUeq3MP15vMMON8lHTeZu2lmKvwqW7an' +
    'V5UzhM1iZ7z4yMkuUwFWoBvyY898EXvRD-hdqRxHlSqAZ192zB3pVFJ0s7pFc',
  dp:
    'B8PVvXkvJrj2L-GYQ7v3y9r6Kw5g9SahXBwsWUzp19TVlgI-YV85q1NIb1rxQtD-IsXXR3-TanevuRPRt5OBOdiMGQp8pbt26gljYfKU_E9xn' +
    '-RULHz0-ed9E9gXLKD4VGngpz-PfQ_q29pk5xWHoJp009Qf1HvChixRX59ehik',
  dq:
    'CLDmDGduhylc9o7r84rEUVn7pzQ6PF83Y-iBZx5NT-TpnOZKF1pErAMVeKzFEl41DlHHqqBLSM0W1sOFbwTxYWZDm6sI6og5iTbwQGIC3gnJK' +
    'bi_7k_vJgGHwHxgPaX2PnvP-zyEkDERuf-ry4c_Z11Cq9AqC2yeL6kdKT1cYF8',
  qi:
    '3PiqvXQN0zwMeE-sBvZgi289XP9XCQF3VWqPzMKnIgQp7_Tugo6-NZBKCQsMf3HaEGBjTVJs_jcK8-TRXvaKe-7ZMaQj8VfBdYkssbu0NKDDh' +
    'jJ-GtiseaDVWt7dcH0cfwxgFUHpQh7FoCrjFJ6h6ZEpMF6xmujs4qMpPz8aaI4',
};

/** RFC 7520 §3.1, Figure 1: EC P-521 public key (used by §4.3, ES512). */
const EC_P521_PUBLIC = {
  kty: 'EC',
  kid: 'bilbo.baggins@hobbiton.example',
  use: 'sig',
  crv: 'P-521',
  x: 'AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt',
  y: 'AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1',
};

/** RFC 7520 §3.5, Figure 5: HMAC SHA-256 symmetric key. */
const HMAC_KEY = {
  kty: 'oct',
  kid: '018c0ae5-4d9b-471b-bfd6-eef314bc7037',
  use: 'sig',
  alg: 'HS256',
  k: 'hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg',
};

/** RFC 7520 §4, Figure 8: the payload, base64url. */
const PAYLOAD =
  'SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBk' +
  'b24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4';

/** RFC 7520 §4.1 (Figures 10, 12): RS256. */
const RS256_HEADER = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9';
const RS256_SIGNATURE =
  'MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4J' +
  'IwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluP' +
  'xUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg';

/** RFC 7520 §4.2 (Figures 17, 19): PS384, not supported. */
const PS384_HEADER = 'eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9';
const PS384_SIGNATURE =
  'cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXU' +
  'vdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT' +
  '0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw';

/** RFC 7520 §4.3 (Figures 24, 26): ES512, not supported. */
const ES512_HEADER = 'eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9';
const ES512_SIGNATURE =
  'AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kv' +
  'AD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2';

/** RFC 7520 §4.4 (Figures 31, 33): HS256. */
const HS256_HEADER = 'eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9';
const HS256_SIGNATURE = 's0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0';

/** RFC 8037 §A.1/§A.2: Ed25519 key; §A.3: its thumbprint; §A.4: the EdDSA signature. */
const ED25519_PRIVATE = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
const ED25519_PUBLIC = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
const ED25519_THUMBPRINT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';
const ED25519_INPUT = 'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc';
const ED25519_SIGNATURE = 'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg';

const ascii = (s: string) => Buffer.from(s, 'ascii');
const sig = (s: string) => Buffer.from(s, 'base64url');

function flipBit(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = (copy[index] as number) ^ 0x01;
  return copy;
}

/** Asserts the published signature verifies, and that one flipped bit in either input or signature does not. */
function expectVector(key: VerificationKey, input: string, signature: string): void {
  expect(verifyBytes(ascii(input), sig(signature), key)).toBe(true);
  expect(verifyBytes(flipBit(ascii(input), 10), sig(signature), key)).toBe(false);
  expect(verifyBytes(ascii(input), flipBit(sig(signature), 5), key)).toBe(false);
  expect(verifyBytes(ascii(input), flipBit(sig(signature), sig(signature).length - 1), key)).toBe(false);
}

describe('RFC 7520 §4.1: RSA v1.5 signature (RS256)', () => {
  const input = `${RS256_HEADER}.${PAYLOAD}`;

  it('verifies the published signature with the §3.3 key, and not a flipped bit', async () => {
    const key = await importVerificationJwk(RSA_PUBLIC, { alg: 'RS256' });
    expect(key.kid).toBe('bilbo.baggins@hobbiton.example');
    expectVector(key, input, RS256_SIGNATURE);
  });

  it('reproduces the published signature with the §3.4 private key (RSASSA-PKCS1-v1_5 is deterministic)', async () => {
    const key = await importSigningJwk(RSA_PRIVATE, { alg: 'RS256' });
    expect(signBytes(ascii(input), key).toString('base64url')).toBe(RS256_SIGNATURE);
  });

  it('is not an access token: the verifier refuses the compact JWS (ERR_TOKEN_TYPE)', async () => {
    const key = await importVerificationJwk(RSA_PUBLIC, { alg: 'RS256' });
    expectRefused(verifierFor([], { keys: new Map([[key.kid, key]]) }), `${input}.${RS256_SIGNATURE}`, ErrorCodes.TOKEN_TYPE);
  });
});

describe('RFC 7520 §4.2: RSA-PSS signature (PS384, not supported) and PS256 by round trip', () => {
  it('refuses to pin PS384 and refuses the §4.2 token (ERR_KEY_INVALID, ERR_TOKEN_ALG)', async () => {
    await expectCodeAsync(importVerificationJwk(RSA_PUBLIC, { alg: 'PS384' as Algorithm }), ErrorCodes.KEY_INVALID);
    const key = await importVerificationJwk(RSA_PUBLIC, { alg: 'PS256' });
    const verifier = verifierFor([], { keys: new Map([[key.kid, key]]) });
    expectRefused(verifier, `${PS384_HEADER}.${PAYLOAD}.${PS384_SIGNATURE}`, ErrorCodes.TOKEN_ALG);
  });

  it('PS256 with the §3.4 key round-trips, uses a 32-byte salt, and never verifies as RS256', async () => {
    const signer = await importSigningJwk(RSA_PRIVATE, { alg: 'PS256' });
    const input = `eyJhbGciOiJQUzI1NiJ9.${PAYLOAD}`;
    const signature = signBytes(ascii(input), signer);
    expect(signature).toHaveLength(256);
    // PSS is randomized: two signatures differ, both verify.
    expect(signBytes(ascii(input), signer).equals(signature)).toBe(false);
    const pub = await importVerificationJwk(RSA_PUBLIC, { alg: 'PS256' });
    expectVector(pub, input, signature.toString('base64url'));
    const pss = (saltLength: number) =>
      cryptoVerify('sha256', ascii(input), { key: pub.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    expect(pss(32)).toBe(true);
    expect(pss(64)).toBe(false);
    const asRs256 = await importVerificationJwk(RSA_PUBLIC, { alg: 'RS256' });
    expect(verifyBytes(ascii(input), signature, asRs256)).toBe(false);
  });
});

describe('RFC 7520 §4.3: ECDSA signature (ES512, not supported)', () => {
  it('refuses the §3.1 P-521 key under ES512 and under ES256 (ERR_KEY_INVALID)', async () => {
    await expectCodeAsync(importVerificationJwk(EC_P521_PUBLIC, { alg: 'ES512' as Algorithm }), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(importVerificationJwk(EC_P521_PUBLIC, { alg: 'ES256' }), ErrorCodes.KEY_INVALID);
  });

  it('refuses the §4.3 compact JWS (ERR_TOKEN_ALG)', async () => {
    const rsa = await importVerificationJwk(RSA_PUBLIC, { alg: 'RS256' });
    const verifier = verifierFor([], { keys: new Map([[rsa.kid, rsa]]) });
    expectRefused(verifier, `${ES512_HEADER}.${PAYLOAD}.${ES512_SIGNATURE}`, ErrorCodes.TOKEN_ALG);
  });
});

describe('RFC 7520 §4.4: HMAC-SHA2 integrity protection (HS256)', () => {
  const input = `${HS256_HEADER}.${PAYLOAD}`;

  it('verifies the published MAC with the §3.5 key, and not a flipped bit', async () => {
    const key = await importVerificationJwk(HMAC_KEY);
    expect(key).toMatchObject({ kid: HMAC_KEY.kid, alg: 'HS256' });
    expectVector(key, input, HS256_SIGNATURE);
  });

  it('reproduces the published MAC', async () => {
    const key = await importSigningJwk(HMAC_KEY);
    expect(signBytes(ascii(input), key).toString('base64url')).toBe(HS256_SIGNATURE);
  });
});

describe('RFC 8037 §A.4: Ed25519 signature (EdDSA)', () => {
  it('verifies the published signature with the §A.2 key, and not a flipped bit', async () => {
    const key = await importVerificationJwk(ED25519_PUBLIC, { alg: 'EdDSA' });
    // No kid in the JWK: the kid is its RFC 7638 thumbprint, which §A.3 publishes.
    expect(key.kid).toBe(ED25519_THUMBPRINT);
    expectVector(key, ED25519_INPUT, ED25519_SIGNATURE);
  });

  it('reproduces the published signature with the §A.1 private key (Ed25519 is deterministic)', async () => {
    const key = await importSigningJwk(ED25519_PRIVATE, { alg: 'EdDSA' });
    expect(key.kid).toBe(ED25519_THUMBPRINT);
    expect(signBytes(ascii(ED25519_INPUT), key).toString('base64url')).toBe(ED25519_SIGNATURE);
  });
});
