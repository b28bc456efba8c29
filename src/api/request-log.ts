// Each request's logger (request.log), made only when the request logs something. Fastify gives
// every request a pino child bound to its request id; with per-request logs off, nearly every
// request is answered without a line, and building that child (bindings serialised through the
// redaction) was about 3 % of the api's main thread at 15,000 POST/s (BENCHMARKS.md, "The api's
// main thread"). The child is made on the first call, with the same bindings and options, so a
// line that is written reads exactly as before.
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const METHODS: readonly LogMethod[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

class RequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** The pino child the request would have had. */
  get logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}
interface RequestLogger extends Record<LogMethod, (...args: unknown[]) => void> {}
for (const method of METHODS) {
  RequestLogger.prototype[method] = function (this: RequestLogger, ...args: unknown[]) {
    (this.logger[method] as (...a: unknown[]) => void)(...args);
  };
}

/** Fastify's childLoggerFactory: request.log, made lazily. */
export const requestLogger = (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger =>
  new RequestLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
