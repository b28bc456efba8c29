// A reverse proxy in front of the local Schema Registry for tests: it can demand HTTP basic auth
// (401 without the right credentials, as Confluent Cloud, Karapace or Apicurio with auth on do),
// answer every request with a 5xx (a registry that is up but erroring), or pass requests through.
import { createServer, request as httpRequest, type Server } from 'node:http';
import { once } from 'node:events';

export type ProxyMode = 'pass' | 'error';

export interface RegistryProxy {
  /** The registry URL through the proxy (same path as the upstream one). */
  url: string;
  mode: ProxyMode;
  /** Requests that carried the right credentials and were passed on. */
  authorized: number;
  /** Requests refused with 401. */
  refused: number;
  close(): Promise<void>;
}

export async function startRegistryProxy(upstream: string, credentials?: { username: string; password: string }): Promise<RegistryProxy> {
  const target = new URL(upstream);
  const expected = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
  const state = { mode: 'pass' as ProxyMode, authorized: 0, refused: 0 };
  const server: Server = createServer((req, res) => {
    if (expected && req.headers.authorization !== expected) {
      state.refused++;
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="registry"' });
      res.end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
      return;
    }
    if (state.mode === 'error') {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error_code: 50302, message: 'registry backend unavailable (test proxy)' }));
      return;
    }
    if (expected) state.authorized++;
    const { authorization: _dropped, ...headers } = req.headers; // the local registry has no auth
    const upstreamRequest = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...headers, host: target.host } },
      (upstreamResponse) => {
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(res);
      },
    );
    upstreamRequest.on('error', () => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error_code: 50200, message: 'upstream registry unreachable (test proxy)' }));
    });
    req.pipe(upstreamRequest);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${target.pathname.replace(/\/$/, '')}`,
    get mode() {
      return state.mode;
    },
    set mode(mode: ProxyMode) {
      state.mode = mode;
    },
    get authorized() {
      return state.authorized;
    },
    get refused() {
      return state.refused;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
