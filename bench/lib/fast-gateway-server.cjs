'use strict';
// fast-gateway (devDependency) with one prefix route proxying everything to the upstream.
// Env: PORT (listen port on 127.0.0.1), UPSTREAM (e.g. http://127.0.0.1:8081).
const gateway = require('fast-gateway');

const port = Number(process.env.PORT);
const target = process.env.UPSTREAM;
if (!port || !target) {
  process.stderr.write('fast-gateway-server: PORT and UPSTREAM are required\n');
  process.exit(2);
}

const server = gateway({
  // prefix '' + the default pathRegex '/*' is the route "/*": every path, forwarded unchanged
  // (a prefix of '/' would be stripped from the URL by fast-gateway's prefix rewriting)
  routes: [{ prefix: '', target }],
  enableServicesEndpoint: false,
});

server.start(port, '127.0.0.1').then(
  () => process.stdout.write(`fast-gateway listening on 127.0.0.1:${port} -> ${target}\n`),
  (err) => {
    process.stderr.write(`fast-gateway-server: ${err.stack || err}\n`);
    process.exit(1);
  },
);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
