// Where the api finds the keys that sign its callers' tokens: the issuer's JWKS URL (fetched on
// first use, cached, refetched for an unknown `kid` so a rotation needs no restart), or a key file
// for setups without an OIDC issuer (read once at start). Checked when the api role starts: a
// missing or unreadable key source is a configuration error (exit 78), never a request-time 500.
import { readFileSync } from 'node:fs';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ConfigError, type AuthConfig } from '../../config/index.js';

/** Asymmetric only: HMAC would let anyone holding the (public) verification key mint tokens. */
export const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

/** What jwtVerify takes: one key, or a key set that picks by `kid`/`alg`. */
export type KeySource = KeyObject | JWTVerifyGetKey;

export type JwtSettings = Extract<AuthConfig, { mode: 'jwt' }>;

/** The settings AUTH_MODE=jwt cannot do without, as ConfigError problems. */
export function jwtProblems(auth: JwtSettings): string[] {
  const problems: string[] = [];
  if (!auth.jwksUrl && !auth.publicKeyFile) problems.push('AUTH_MODE=jwt needs AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE (or AUTH_MODE=off for development)');
  if (!auth.issuer) problems.push('AUTH_MODE=jwt needs AUTH_ISSUER: tokens of any other issuer are refused');
  if (!auth.audience) problems.push('AUTH_MODE=jwt needs AUTH_AUDIENCE: tokens minted for other services are refused');
  return problems;
}

export function keySource(auth: JwtSettings): KeySource {
  const problems = jwtProblems(auth);
  if (problems.length) throw new ConfigError(problems);
  if (auth.jwksUrl) {
    return createRemoteJWKSet(new URL(auth.jwksUrl), {
      cooldownDuration: auth.jwksCooldownSeconds * 1000,
      timeoutDuration: 5000,
    });
  }
  return keyFile(auth.publicKeyFile!);
}

/** A PEM public key (SPKI), one JWK, or a JWKS ({"keys": [...]}) — never a private or secret key. */
export function keyFile(file: string): KeySource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`AUTH_PUBLIC_KEY_FILE ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  try {
    if (text.trimStart().startsWith('{')) {
      const json = JSON.parse(text) as { keys?: unknown };
      const set = Array.isArray(json.keys) ? (json as JSONWebKeySet) : undefined;
      const keys: object[] = set ? set.keys : [json];
      if (keys.some((k) => 'd' in k || 'k' in k)) throw new Error('holds a private or symmetric key; give only public keys');
      return set ? createLocalJWKSet(set) : publicOnly(createPublicKey({ key: json as JsonWebKey, format: 'jwk' }));
    }
    if (/PRIVATE KEY/.test(text)) throw new Error('holds a private key; give the public key');
    return publicOnly(createPublicKey(text));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`AUTH_PUBLIC_KEY_FILE ${file} is not a usable public key (PEM, JWK or JWKS): ${(err as Error).message}`]);
  }
}

function publicOnly(key: KeyObject): KeyObject {
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec' && type !== 'ed25519') throw new Error(`key type ${type} is not one of RSA, EC (P-256), Ed25519`);
  return key;
}
