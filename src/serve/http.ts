// The HTTP side: GET /metrics (the last window's exposition), GET /healthz (fresh or not, and why), nothing else.
// Every answer comes from what is already computed; no request waits on the helper.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Listen } from './args';
import type { Exposition } from './prometheus';

export interface Health {
  ok: boolean;
  /** One line saying why: "last window 0.4 s ago (window 1 s)", "helper restarting: …". */
  reason: string;
}

export interface Routes {
  metrics(accept: string | undefined): Promise<Exposition>;
  health(): Health;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

async function route(routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
  }
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path === '/metrics') {
    const e = await routes.metrics(req.headers.accept);
    return send(res, 200, e.contentType, e.body);
  }
  if (path === '/healthz') {
    const h = routes.health();
    return send(
      res,
      h.ok ? 200 : 503,
      'text/plain; charset=utf-8',
      `${h.ok ? 'ok' : 'unhealthy'}: ${h.reason}\n`,
    );
  }
  if (path === '/')
    return send(res, 200, 'text/plain; charset=utf-8', 'hotspot serve: GET /metrics, GET /healthz\n');
  send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n');
}

export class ListenError extends Error {
  override name = 'ListenError';
}

/** Listens and resolves with the address actually bound (port 0 picks one); rejects with a ListenError saying why. */
export function listen(routes: Routes, at: Listen): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    route(routes, req, res).catch((e: Error) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${e.message}\n`);
      else res.destroy();
    });
  });
  // Scrapers are few and quick: a slow or idle client must not hold sockets or memory.
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 15_000;
  server.maxHeadersCount = 50;
  server.maxConnections = 64;
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `${at.host}:${at.port}`;
      const why =
        e.code === 'EADDRINUSE'
          ? `${where} is already in use (another hotspot serve or exporter?); stop it or pick another port with --listen`
          : e.code === 'EACCES'
            ? `${where}: permission denied (ports below 1024 need root, and serve listens after dropping it); pick a port of 1024 or above`
            : e.code === 'EADDRNOTAVAIL'
              ? `${where}: no interface of this machine has that address`
              : `${where}: ${e.message}`;
      reject(new ListenError(`cannot listen on ${why}`));
    });
    server.listen({ host: at.host, port: at.port, ipv6Only: false }, () => {
      const a = server.address();
      const host = typeof a === 'object' && a ? a.address : at.host;
      const port = typeof a === 'object' && a ? a.port : at.port;
      resolve({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` });
    });
  });
}
