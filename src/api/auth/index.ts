// The api's authentication from its settings: a verifier for AUTH_MODE=jwt (its key source
// checked now, so a bad one stops start-up with exit 78), none for AUTH_MODE=off — said once, as
// a warning, at start.
import type { AuthConfig } from '../../config/index.js';
import type { Logger } from '../../logger.js';
import { keySource } from './keys.js';
import { cachedVerifier, tokenVerifier, type Verifier } from './verify.js';

export { authenticationPlugin } from './plugin.js';
export type { Identity, Verifier } from './verify.js';

export function verifierFor(auth: AuthConfig, log: Logger): Verifier | undefined {
  if (auth.mode === 'off') {
    log.warn('AUTH_MODE=off: the API does not authenticate callers; anyone may act as any user (development only)');
    return undefined;
  }
  const verifier = cachedVerifier(tokenVerifier({ keys: keySource(auth), issuer: auth.issuer, audience: auth.audience, userClaim: auth.userClaim, clockSkewSeconds: auth.clockSkewSeconds }));
  log.info({ keys: auth.jwksUrl ?? auth.publicKeyFile, issuer: auth.issuer, audience: auth.audience, userClaim: auth.userClaim }, 'bearer tokens required (AUTH_MODE=jwt)');
  return verifier;
}
