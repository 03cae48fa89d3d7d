// A tiny loopback reverse proxy that hands each request to the next
// backend in turn, so consecutive requests of one login land on different
// broker processes. It records which backend served what.
import { createServer, request } from 'node:http';
import { once } from 'node:events';

// Hop-by-hop headers describe one connection, not the message (RFC 9110 7.6.1).
const hopByHop = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

function endToEnd(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!hopByHop.has(k.toLowerCase())) out[k] = v;
  }
  return out;
}

/**
 * Listens on 127.0.0.1 at a free port. Backends are set later with
 * setBackends (the proxy's URL is the brokers' issuer, so it must exist
 * first). Returns { url, log, served(), next(), setBackends(urls), close() }:
 * log holds { replica, method, path, status } per request in arrival order.
 */
export async function startRoundRobin() {
  let backends = [];
  let turn = 0;
  const log = [];
  const srv = createServer((req, res) => {
    if (backends.length === 0) {
      res.writeHead(503).end('no backends');
      return;
    }
    const replica = turn++ % backends.length;
    const entry = { replica, method: req.method, path: req.url, status: 0 };
    log.push(entry);
    const up = request(new URL(req.url, backends[replica]), {
      method: req.method,
      headers: endToEnd(req.headers),
      agent: false,
    }, (ur) => {
      entry.status = ur.statusCode;
      res.writeHead(ur.statusCode, endToEnd(ur.headers));
      ur.pipe(res);
    });
    up.on('error', (err) => {
      entry.status = 502;
      entry.error = err.message;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(up);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    log,
    /** Requests handed to each backend so far. */
    served: () => backends.map((_, i) => log.filter((e) => e.replica === i).length),
    /** The backend the next request will go to. */
    next: () => turn % Math.max(backends.length, 1),
    setBackends: (urls) => { backends = [...urls]; },
    close: () => {
      srv.closeAllConnections();
      return new Promise((r) => srv.close(r));
    },
  };
}
