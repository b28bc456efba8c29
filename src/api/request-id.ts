// The request id in every log line of a request and echoed as X-Request-Id. A caller's own id is
// kept so a client report can be matched to the logs — but only a short token of safe characters
// (a UUID, a W3C trace id, a ULID…): anything else is replaced, so no caller writes arbitrary text
// (newlines, escapes, megabytes) into the logs.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTED = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && ACCEPTED.test(given) ? given : randomUUID();
}
