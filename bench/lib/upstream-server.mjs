// Fallback upstream when nginx is unavailable: answers every request with 200 {"ok":true},
// keep-alive. Env: PORT. Its figures are not comparable with the nginx-upstream baselines.
import http from 'node:http';

const port = Number(process.env.PORT);
if (!port) {
  process.stderr.write('upstream-server: PORT is required\n');
  process.exit(2);
}
const body = Buffer.from('{"ok":true}');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1');
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
