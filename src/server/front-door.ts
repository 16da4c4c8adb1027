/**
 * One listening port for HTTP/1.1, cleartext HTTP/2 with prior knowledge (h2c) and, optionally, TLS with ALPN.
 * A single `net.Server`/`tls.Server` accepts every socket and hands it to one of two never-listening servers
 * (`http.createServer()` and `http2.createServer()`) that share one request handler.
 */
import type { EventEmitter } from 'node:events';
import { createServer as createHttp1Server, ServerResponse } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;

export interface FrontDoorOptions {
  onRequest: (req: AnyRequest, res: AnyResponse) => void;
  tls?: { cert: Buffer; key: Buffer };
  /** keep-alive idle timeout for HTTP/1.1 sockets, default 65 s */
  keepAliveTimeoutMs?: number;
  /** how long a new connection may stay silent (or mid TLS handshake) before it is dropped, default 30 s */
  sniffTimeoutMs?: number;
  /** server-level errors after listen() resolved (e.g. EMFILE on accept); ignored by default */
  onError?: (err: Error) => void;
  /** max header size etc. may use Node defaults */
}

export interface FrontDoor {
  /** Rejects with the Node error (EADDRINUSE etc.) on failure. */
  listen(port: number, host: string): Promise<{ port: number; address: string }>;
  /**
   * Graceful: stop accepting; let requests in flight finish; close idle HTTP/1.1 sockets now and busy ones as soon
   * as their response ends; GOAWAY every HTTP/2 session; resolve once every socket is gone. After graceMs
   * (default 10 s) destroy what is left.
   */
  close(graceMs?: number): Promise<void>;
  /** number of requests currently in flight (for tests/metrics) */
  inFlight(): number;
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const kPending = Symbol('wharf.sniffed');
type SniffSocket = Socket & { [kPending]?: Buffer };
// `_peername`/`_sockname` are the caches behind net.Socket#remoteAddress etc.
type PeerCache = { stream?: unknown; _peername?: object; _sockname?: object };

const noop = (): void => {};

/**
 * The h2c connection as a pure-JS stream. http2 sessions read a native socket handle directly (bypassing the JS
 * readable buffer), so bytes already read while sniffing would be lost after `unshift()`; wrapping the socket makes
 * http2 use its JSStreamSocket path, which reads through us, and we push the sniffed bytes first.
 */
class H2cSocket extends Duplex {
  constructor(
    readonly raw: Socket,
    first: Buffer,
  ) {
    super();
    this.push(first);
    raw.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('close', () => this.destroy());
  }
  override _read(): void {
    this.raw.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.raw.write(chunk, cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.raw.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.raw.destroy();
    cb(err);
  }
}

export function createFrontDoor(opts: FrontDoorOptions): FrontDoor {
  const { onRequest } = opts;
  const sniffTimeoutMs = opts.sniffTimeoutMs ?? 30_000;
  let inFlight = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  let settle = noop; // set by close(): resolves it once the server and every socket are closed
  const sockets = new Set<Socket>(); // every accepted TCP socket
  const sniffing = new Set<Socket>(); // cleartext sockets whose protocol is not known yet
  const sessions = new Set<Http2Session>();

  const http1 = createHttp1Server();
  http1.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
  const h2 = createHttp2Server();

  // Shared listeners (no per-request closures): count in-flight requests by the response's single 'close' event.
  let sweepQueued = false;
  function sweep(): void {
    sweepQueued = false;
    http1.closeIdleConnections(); // Node checks parser state and unfinished responses (pipelining) itself
  }
  function onResClose(this: AnyResponse): void {
    inFlight--;
    // While closing, the socket whose response just ended may now be idle: close it. closeIdleConnections walks
    // every connection, so batch it to one sweep per event-loop turn.
    if (closing && !sweepQueued && this instanceof ServerResponse) {
      sweepQueued = true;
      setImmediate(sweep);
    }
  }
  function handle(req: AnyRequest, res: AnyResponse): void {
    inFlight++;
    (res as EventEmitter).on('close', onResClose);
    // Answer with `Connection: close` (and close afterwards) once shutdown started.
    if (closing && res instanceof ServerResponse) res.shouldKeepAlive = false;
    onRequest(req, res);
  }
  http1.on('request', handle);
  h2.on('request', handle);
  h2.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    if (closing) session.close();
    // An h2c session's socket is http2's JSStreamSocket around our H2cSocket, which has no peer: without this,
    // req.socket.remoteAddress etc. would be undefined. Fill net.Socket's address caches from the raw socket.
    const sock = session.socket as unknown as PeerCache;
    if (!(sock.stream instanceof H2cSocket)) return;
    const raw = sock.stream.raw;
    sock._peername = { address: raw.remoteAddress, family: raw.remoteFamily, port: raw.remotePort };
    sock._sockname = { address: raw.localAddress, family: raw.localFamily, port: raw.localPort };
  });

  function onSocketClose(this: Socket): void {
    sockets.delete(this);
    sniffing.delete(this);
    if (closing) settle();
  }
  function onSniffTimeout(this: Socket): void {
    this.destroy();
  }

  function onFirstData(this: SniffSocket, chunk: Buffer): void {
    const pending = this[kPending];
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    const n = Math.min(buf.length, PREFACE.length);
    const isH2 = buf.compare(PREFACE, 0, n, 0, n) === 0;
    if (isH2 && buf.length < PREFACE.length) {
      this[kPending] = buf; // a prefix of the preface: wait for more bytes
      return;
    }
    this[kPending] = undefined;
    this.removeListener('data', onFirstData);
    this.removeListener('timeout', onSniffTimeout);
    this.setTimeout(0); // from here on http's keepAlive/headers/request timeouts govern
    sniffing.delete(this);
    if (isH2) {
      h2.emit('connection', new H2cSocket(this, buf));
      return;
    }
    // http's parser also consumes the native handle, so only the bytes we already read go through the JS
    // buffer, to its 'data' listener. The explicit resume() schedules that flow on nextTick, i.e. before any
    // further native read can reach the parser, so the unshifted bytes are parsed first.
    this.pause();
    this.unshift(buf);
    http1.emit('connection', this);
    this.resume();
  }

  function onConnection(socket: Socket): void {
    // A reset before http/http2 attach their own handlers would otherwise be an uncaught 'error'.
    socket.on('error', noop);
    sockets.add(socket);
    socket.on('close', onSocketClose);
    if (opts.tls) return; // tls.Server does the handshake (bounded by handshakeTimeout), then 'secureConnection'
    sniffing.add(socket);
    socket.setTimeout(sniffTimeoutMs); // the socket's own (unref'd) timer; cleared at hand-over
    socket.on('timeout', onSniffTimeout);
    socket.on('data', onFirstData);
  }

  // noDelay must be set here: http.createServer's noDelay default only applies to sockets it accepts itself.
  let server: NetServer;
  if (opts.tls) {
    server = createTlsServer({
      cert: opts.tls.cert,
      key: opts.tls.key,
      ALPNProtocols: ['h2', 'http/1.1'],
      handshakeTimeout: sniffTimeoutMs,
      noDelay: true,
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      // ALPN picked the protocol; no sniffing needed and the TLS handle is a native stream http2 can use.
      if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
      else http1.emit('connection', socket); // 'http/1.1' or no ALPN at all
    });
    server.on('tlsClientError', noop); // handshake failures: tls destroys the socket anyway
  } else {
    server = createNetServer({ noDelay: true });
  }
  server.on('connection', onConnection);

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => {
          server.removeListener('listening', onListening);
          reject(err);
        };
        const onListening = (): void => {
          server.removeListener('error', onError);
          server.on('error', opts.onError ?? noop);
          // http only tracks connections (closeIdleConnections, headersTimeout/requestTimeout checks) once it
          // has seen 'listening', which a server that never listens itself must be told about.
          http1.emit('listening');
          const a = server.address() as AddressInfo;
          resolve({ port: a.port, address: a.address });
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, host);
      });
    },

    close(graceMs = 10_000) {
      if (closed) return closed;
      closing = true;
      closed = new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const s of sessions) s.destroy();
          for (const s of sockets) s.destroy();
        }, graceMs);
        timer.unref();
        let serverClosed = false;
        // net.Server's close callback fires when its connection count hits 0, which happens in destroy(),
        // before the sockets' 'close' events; wait for those too so nothing is left open when we resolve.
        settle = () => {
          if (!serverClosed || sockets.size > 0) return;
          clearTimeout(timer);
          resolve();
        };
        server.close(() => {
          serverClosed = true;
          settle();
        });
        for (const s of sniffing) s.destroy();
        // http.Server#close on a never-listening server: closes idle connections and stops its timeout
        // checker; the net-level part just emits 'close'.
        http1.close();
        for (const s of sessions) s.close(); // GOAWAY; Node closes the session after its open streams end
      });
      return closed;
    },

    inFlight: () => inFlight,
  };
}
