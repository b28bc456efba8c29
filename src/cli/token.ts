// order-stream token — a development token for the api of `npm run dev`, signed with a local key
// pair kept in .stack/dev-auth (made on first use; the api trusts its public key through
// AUTH_PUBLIC_KEY_FILE). Never with NODE_ENV=production: a production api trusts its OIDC issuer,
// and a key lying on a disk must not be able to mint tokens for it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT } from 'jose';
import { LIMITS } from '../domain/order.js';

export const DEV_ISSUER = 'order-stream-dev';
export const DEV_AUDIENCE = 'order-stream';
const ALG = 'ES256';

const HELP = `usage: order-stream token --user USER [--scope SCOPE]... [--ttl SECONDS] [--key-dir DIR]
       order-stream token --settings [--key-dir DIR]

  --user      the token's sub: the :userId whose orders it may use
  --scope     an OAuth scope, repeatable: orders:admin (any user's orders), catalog:write (PUT, restock)
  --ttl       lifetime in seconds (default 3600)
  --key-dir   where the development key pair is kept (default .stack/dev-auth; made when missing)
  --settings  print the AUTH_* settings of an api that trusts these tokens, as KEY=value lines

Prints the token. Development only: refused with NODE_ENV=production.`;

export interface DevKeys {
  privateKeyFile: string;
  publicKeyFile: string;
}

/** The development key pair, made on first use (the private key readable by its owner only). */
export async function devKeys(dir: string): Promise<DevKeys> {
  const keys = { privateKeyFile: join(dir, 'signing-key.pem'), publicKeyFile: join(dir, 'public-key.pem') };
  if (!existsSync(keys.privateKeyFile) || !existsSync(keys.publicKeyFile)) {
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keys.privateKeyFile, await exportPKCS8(privateKey), { mode: 0o600 });
    writeFileSync(keys.publicKeyFile, await exportSPKI(publicKey));
  }
  return keys;
}

export async function devToken(keys: DevKeys, user: string, scopes: string[], ttlSeconds: number): Promise<string> {
  const key = await importPKCS8(readFileSync(keys.privateKeyFile, 'utf8'), ALG);
  return new SignJWT(scopes.length ? { scope: scopes.join(' ') } : {})
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(user)
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

export async function runToken(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string' }, scope: { type: 'string', multiple: true }, ttl: { type: 'string' },
      'key-dir': { type: 'string' }, settings: { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (env.NODE_ENV === 'production') {
    console.error('order-stream token: refused with NODE_ENV=production; tokens come from your OIDC issuer there');
    return 2;
  }
  const keys = await devKeys(resolve(values['key-dir'] ?? '.stack/dev-auth'));
  if (values.settings) {
    console.log(`AUTH_MODE=jwt\nAUTH_PUBLIC_KEY_FILE=${keys.publicKeyFile}\nAUTH_ISSUER=${DEV_ISSUER}\nAUTH_AUDIENCE=${DEV_AUDIENCE}`);
    return 0;
  }
  const user = values.user;
  if (user === undefined || !new RegExp(LIMITS.idPattern).test(user)) {
    console.error(`order-stream token: --user must be a user id (1-64 characters of A-Z a-z 0-9 . _ -)\n\n${HELP}`);
    return 2;
  }
  const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
  if (!Number.isSafeInteger(ttl) || ttl < 1) {
    console.error(`order-stream token: --ttl must be a positive number of seconds (got ${values.ttl})`);
    return 2;
  }
  console.log(await devToken(keys, user, values.scope ?? [], ttl));
  return 0;
}
