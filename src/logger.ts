// pino JSON logs, one root logger per process; modules take children with their own bindings.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'order-stream', ...bindings },
    // Connection strings carry passwords; never let a logged object leak them.
    redact: { paths: ['databaseUrl', '*.databaseUrl', 'password', '*.password', 'headers.authorization'], censor: '[redacted]' },
  });
}
