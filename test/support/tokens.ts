// A token issuer of the tests' own: locally generated key pairs, a JWKS served over HTTP on
// loopback (as an OIDC issuer serves its jwks_uri), tokens signed with jose — and the forged ones
// a verifier must refuse (alg none, HS256 keyed with the public key, a tampered payload).
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { createHmac } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  alg: 'ES256' | 'RS256' | 'EdDSA';
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

export async function signingKey(kid: string, alg: SigningKey['alg'] = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, publicPem: await exportSPKI(publicKey) };
}

export interface TokenOptions {
  user?: string;
  scope?: string;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative: expired. */
  expiresIn?: number;
  /** Seconds from now. */
  notBefore?: number;
  key?: SigningKey;
  /** Extra claims. */
  claims?: Record<string, unknown>;
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export class TestIssuer {
  readonly issuer = 'https://issuer.test.order-stream';
  readonly audience = 'order-stream-api';
  /** Keys published in the JWKS; the first signs by default. */
  published: SigningKey[] = [];
  /** How many times the JWKS was fetched. */
  fetches = 0;
  private server: Server | undefined;
  url = '';

  static async start(): Promise<TestIssuer> {
    const issuer = new TestIssuer();
    issuer.published = [await signingKey('key-1')];
    issuer.server = createServer((request, response) => {
      if (request.url !== '/jwks.json') return void response.writeHead(404).end();
      issuer.fetches++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: issuer.published.map((k) => k.publicJwk) }));
    });
    issuer.server.listen(0, '127.0.0.1');
    await once(issuer.server, 'listening');
    const address = issuer.server.address();
    issuer.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/jwks.json`;
    return issuer;
  }

  /** The settings of an api that trusts this issuer. */
  settings(): Record<string, string> {
    return { AUTH_MODE: 'jwt', AUTH_JWKS_URL: this.url, AUTH_ISSUER: this.issuer, AUTH_AUDIENCE: this.audience };
  }

  async token(options: TokenOptions = {}): Promise<string> {
    const key = options.key ?? this.published[0]!;
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ ...(options.scope ? { scope: options.scope } : {}), ...options.claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuedAt(now)
      .setIssuer(options.issuer ?? this.issuer)
      .setAudience(options.audience ?? this.audience)
      .setExpirationTime(now + (options.expiresIn ?? 300));
    if (options.user !== undefined) jwt.setSubject(options.user);
    if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
    return jwt.sign(key.privateKey);
  }

  /** An unsigned token (`alg: none`) with otherwise valid claims. */
  unsigned(user: string, scope?: string): string {
    const now = Math.floor(Date.now() / 1000);
    return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: user, iss: this.issuer, aud: this.audience, iat: now, exp: now + 300, ...(scope ? { scope } : {}) })}.`;
  }

  /** HS256 keyed with the published public key (PEM), the classic algorithm-confusion forgery. */
  hmacWithPublicKey(user: string, key = this.published[0]!): string {
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64({ sub: user, iss: this.issuer, aud: this.audience, iat: now, exp: now + 300 })}`;
    return `${input}.${createHmac('sha256', key.publicPem).update(input).digest('base64url')}`;
  }

  /** A genuine token whose payload was then changed (another user), the signature kept. */
  async tampered(user: string, asUser: string): Promise<string> {
    const [header, payload, signature] = (await this.token({ user })).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    return `${header}.${b64({ ...claims, sub: asUser })}.${signature}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    this.server?.close();
    if (this.server) await once(this.server, 'close');
  }
}
