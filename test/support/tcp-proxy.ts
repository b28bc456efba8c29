// A TCP proxy a test owns, in front of a real server of the stack (PostgreSQL, a Kafka broker):
// it can refuse connections (not listening, as a server that is down), forward them, or forward
// them slowly (every chunk held back `delayMs`, as a server that is slow). The real server is never
// touched. For Kafka, `kafka: true` rewrites the broker port in Metadata and FindCoordinator
// answers to the proxy's, so clients keep talking through the proxy after the bootstrap (without
// it, they would connect to the address the broker advertises, around the proxy).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export interface TcpProxy {
  port: number;
  /** Starts accepting and forwarding (on the same port every time). */
  open(): Promise<void>;
  /** Stops accepting and cuts the connections open now: the server looks down. */
  close(): Promise<void>;
  /** Delay applied to every chunk, both ways (0: none). */
  delayMs: number;
  /** Connections accepted so far. */
  readonly accepted: number;
}

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export async function startTcpProxy(upstream: { host: string; port: number }, options: { kafka?: boolean } = {}): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let accepted = 0;
  const state = { delayMs: 0 };

  const relay = (from: Socket, to: Socket, rewrite?: (chunk: Buffer) => Buffer) => {
    from.on('data', (chunk: Buffer) => {
      const out = rewrite ? rewrite(chunk) : chunk;
      if (out.length === 0) return;
      if (state.delayMs > 0) setTimeout(() => to.writable && to.write(out), state.delayMs);
      else to.write(out);
    });
    from.on('end', () => (state.delayMs > 0 ? setTimeout(() => to.end(), state.delayMs) : to.end()));
  };

  const handle = (client: Socket) => {
    accepted++;
    const server = connect(upstream.port, upstream.host);
    for (const s of [client, server]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        server.destroy();
      });
    }
    if (!options.kafka) {
      relay(client, server);
      relay(server, client);
      return;
    }
    const kafka = new KafkaPorts(upstream.port, port);
    relay(client, server, (chunk) => kafka.request(chunk));
    relay(server, client, (chunk) => kafka.response(chunk));
  };

  return {
    port,
    get accepted() {
      return accepted;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    async open() {
      if (server) return;
      server = createServer(handle).listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    async close() {
      const closing = server;
      server = undefined;
      for (const s of sockets) s.destroy();
      if (closing) await new Promise((resolve) => closing.close(resolve));
    },
  };
}

/**
 * Follows the Kafka protocol's size-prefixed frames in both directions: requests tell the api key
 * and version of each correlation id; in Metadata (3) and FindCoordinator (10) answers, the port
 * of the upstream broker is replaced by the proxy's (same width, so frames keep their size).
 */
class KafkaPorts {
  private readonly asked = new Map<number, { key: number; version: number }>();
  private requests = Buffer.alloc(0);
  private responses = Buffer.alloc(0);

  constructor(private readonly from: number, private readonly to: number) {}

  /** Passes request bytes on unchanged, noting each request's api key and version. */
  request(chunk: Buffer): Buffer {
    this.requests = Buffer.concat([this.requests, chunk]);
    for (;;) {
      if (this.requests.length < 4) break;
      const size = this.requests.readInt32BE(0);
      if (this.requests.length < 4 + size) break;
      const frame = this.requests.subarray(4, 4 + size);
      this.asked.set(frame.readInt32BE(4), { key: frame.readInt16BE(0), version: frame.readInt16BE(2) });
      this.requests = this.requests.subarray(4 + size);
    }
    return chunk;
  }

  /** Holds response bytes until a whole frame is in, patches it, passes it on. */
  response(chunk: Buffer): Buffer {
    this.responses = Buffer.concat([this.responses, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      if (this.responses.length < 4) break;
      const size = this.responses.readInt32BE(0);
      if (this.responses.length < 4 + size) break;
      const frame = Buffer.from(this.responses.subarray(0, 4 + size));
      this.responses = this.responses.subarray(4 + size);
      const asked = this.asked.get(frame.readInt32BE(4));
      if (asked) {
        this.asked.delete(frame.readInt32BE(4));
        try {
          this.patch(frame, asked.key, asked.version);
        } catch {
          // a layout this reader does not know: passed on as it is
        }
      }
      out.push(frame);
    }
    return Buffer.concat(out);
  }

  private patch(frame: Buffer, key: number, version: number): void {
    const flexible = (key === 3 && version >= 9) || (key === 10 && version >= 3);
    let at = 8; // size, correlation id
    const uvarint = () => {
      let value = 0;
      for (let shift = 0; ; shift += 7) {
        const byte = frame[at++]!;
        value |= (byte & 0x7f) << shift;
        if (!(byte & 0x80)) return value;
      }
    };
    const skipTags = () => {
      for (let n = uvarint(); n > 0; n--) {
        uvarint();
        at += uvarint();
      }
    };
    const skipString = (nullable: boolean) => {
      if (flexible) {
        const length = uvarint();
        at += Math.max(0, length - 1);
      } else {
        const length = frame.readInt16BE(at);
        at += 2 + (nullable && length < 0 ? 0 : length);
      }
    };
    const patchPort = () => {
      if (frame.readInt32BE(at) === this.from) frame.writeInt32BE(this.to, at);
      at += 4;
    };
    if (flexible) skipTags(); // response header v1
    if (key === 3) {
      if (version >= 3) at += 4; // throttle_time_ms
      const brokers = flexible ? uvarint() - 1 : frame.readInt32BE((at += 4) - 4);
      for (let i = 0; i < brokers; i++) {
        at += 4; // node_id
        skipString(false); // host
        patchPort();
        if (version >= 1) skipString(true); // rack
        if (flexible) skipTags();
      }
    } else if (key === 10) {
      if (version >= 1) at += 4; // throttle_time_ms
      if (version < 4) {
        at += 2; // error_code
        if (version >= 1) skipString(true); // error_message
        at += 4; // node_id
        skipString(false);
        patchPort();
      } else {
        const coordinators = uvarint() - 1;
        for (let i = 0; i < coordinators; i++) {
          skipString(false); // key
          at += 4; // node_id
          skipString(false); // host
          patchPort();
          at += 2; // error_code
          skipString(true); // error_message
          skipTags();
        }
      }
    }
  }
}
