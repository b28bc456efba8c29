// Bearer token → identity, with jose doing the cryptography: the signature (asymmetric algorithms
// only, so `alg: none` and HMAC signed with the public key are refused), `iss`, `aud`, `exp`
// (required) and `nbf` with a small clock skew. Every refusal carries a short description for
// the RFC 6750 challenge; a key set that cannot be fetched is our outage, not the caller's fault.
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { ALGORITHMS, type KeySource } from './keys.js';

/** Who is calling: the user claim, and the OAuth scopes granted to the token. */
export interface Identity {
  user: string;
  scopes: ReadonlySet<string>;
  /** The token's exp, seconds since the epoch. */
  expiresAt: number;
}

/** The token is not acceptable; `message` says why (safe to send to the caller). */
export class TokenRejected extends Error {}

/** The issuer's keys cannot be fetched now: answer 503, the same token may pass later. */
export class KeysUnavailable extends Error {}

export interface VerifierOptions {
  keys: KeySource;
  issuer: string;
  audience: string;
  userClaim: string;
  clockSkewSeconds: number;
}

export type Verifier = (token: string) => Promise<Identity>;

export function tokenVerifier(options: VerifierOptions): Verifier {
  const { keys, issuer, audience, userClaim, clockSkewSeconds } = options;
  return async (token) => {
    let payload: JWTPayload;
    try {
      // jwtVerify is overloaded on the key's type; both branches take the same options.
      const verify = { issuer, audience, algorithms: [...ALGORITHMS], clockTolerance: clockSkewSeconds, requiredClaims: ['exp'] };
      ({ payload } = typeof keys === 'function' ? await jwtVerify(token, keys, verify) : await jwtVerify(token, keys, verify));
    } catch (err) {
      throw refusal(err);
    }
    const user = payload[userClaim];
    if (typeof user !== 'string' || user === '') throw new TokenRejected(`the token has no ${userClaim} claim`);
    return { user, scopes: scopesOf(payload), expiresAt: payload.exp! };
  };
}

/** Verified tokens remembered per replica (the oldest forgotten first). */
const CACHED_TOKENS = 10_000;

/**
 * Remembers verified tokens until their exp, so a client's repeated requests with one token cost
 * one signature check, not one each (a signature check costs about as much as the rest of an order
 * POST). Only successes are remembered. A token verified once stays accepted until it expires even
 * if its key leaves the JWKS — as with any offline-verified token, which cannot be revoked early.
 */
export function cachedVerifier(verify: Verifier, max = CACHED_TOKENS, nowSeconds = () => Date.now() / 1000): Verifier {
  const verified = new Map<string, Identity>();
  return async (token) => {
    const known = verified.get(token);
    if (known && known.expiresAt > nowSeconds()) return known;
    if (known) verified.delete(token);
    const identity = await verify(token);
    if (verified.size >= max) verified.delete(verified.keys().next().value!);
    verified.set(token, identity);
    return identity;
  };
}

/** `scope` (RFC 8693, space-separated) as most issuers send it; `scp` as Entra ID and Okta do. */
export function scopesOf(payload: JWTPayload): ReadonlySet<string> {
  const granted = new Set<string>();
  for (const claim of [payload.scope, payload.scp]) {
    const values = typeof claim === 'string' ? claim.split(' ') : Array.isArray(claim) ? claim : [];
    for (const value of values) if (typeof value === 'string' && value !== '') granted.add(value);
  }
  return granted;
}

function refusal(err: unknown): Error {
  if (err instanceof errors.JWTExpired) return new TokenRejected('the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    const why: Record<string, string> = { nbf: 'the token is not valid yet', iss: 'unexpected issuer', aud: 'unexpected audience', exp: 'the token has no exp claim', iat: 'invalid iat claim' };
    return new TokenRejected(why[err.claim] ?? `invalid ${err.claim} claim`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new TokenRejected(`signing algorithm not allowed (only ${ALGORITHMS.join(', ')})`);
  if (err instanceof errors.JWKSNoMatchingKey) return new TokenRejected("no key of the issuer matches the token's kid");
  if (err instanceof errors.JWKSMultipleMatchingKeys) return new TokenRejected("the token's kid matches several keys");
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRejected('signature verification failed');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new TokenRejected('malformed token');
  // Fetching the key set failed (timeout, not 200, not JSON, network): not the token's fault.
  // (fetch itself fails with a TypeError "fetch failed"; other TypeErrors are keys that do not fit.)
  const fetchFailed = err instanceof TypeError && /fetch/i.test(err.message);
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || fetchFailed || (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC')) {
    return new KeysUnavailable(`the issuer's keys cannot be fetched: ${(err as Error).message}`);
  }
  // A key that does not fit the token's algorithm (an RSA token against an EC key): jose or
  // WebCrypto (a DOMException) refuses the pair.
  if (err instanceof errors.JOSEError || err instanceof TypeError || err instanceof DOMException) return new TokenRejected("the token cannot be verified with the issuer's keys");
  return err instanceof Error ? err : new Error(String(err));
}
