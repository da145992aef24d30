// The floor of a Node proxy: node:http in, undici Pool.dispatch with a raw handler out, nothing
// else (no routing, no header hygiene, no request id, no log, no metrics). It is the "node:http +
// undici Pool.dispatch (raw handler)" row of ../shared/BASELINES.md, kept here so that every run
// shows how far Portcullis's bare route is from what any Node proxy must pay. Not a product: it
// forwards hop-by-hop headers it should drop and trusts everything.
// Env: PORT (listen port on 127.0.0.1), UPSTREAM (e.g. http://127.0.0.1:8081).
import http from 'node:http';
import { Pool } from 'undici';

const port = Number(process.env.PORT);
const origin = process.env.UPSTREAM;
if (!port || !origin) {
  process.stderr.write('node-floor-server: PORT and UPSTREAM are required\n');
  process.exit(2);
}
const pool = new Pool(origin, { connections: 64, pipelining: 1 });

const server = http.createServer((req, res) => {
  pool.dispatch(
    { origin, method: req.method, path: req.url, headers: req.rawHeaders, body: req.method === 'GET' || req.method === 'HEAD' ? null : req },
    {
      onConnect() {},
      onHeaders(status, raw, resume) {
        const headers = [];
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i].toString('latin1');
          if (name.length === 10 && name.toLowerCase() === 'connection') continue;
          headers.push(name, raw[i + 1].toString('latin1'));
        }
        res.writeHead(status, headers);
        this.resume = resume;
        return true;
      },
      onData(chunk) {
        if (res.write(chunk)) return true;
        res.once('drain', this.resume);
        return false;
      },
      onComplete() {
        res.end();
      },
      onError(err) {
        if (res.headersSent) res.destroy(err);
        else {
          res.statusCode = 502;
          res.end();
        }
      },
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`node-floor listening on 127.0.0.1:${port} -> ${origin}\n`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
