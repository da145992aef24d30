// nginx as the upstream ("return 200") and as the reference reverse proxy. Each instance gets its
// own prefix directory and config in the run's temp dir: nothing under /etc, /var or /run is used.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runSync, start, which } from './procs.mjs';

export const UPSTREAM_BODY = '{"ok":true}';

/**
 * Finds nginx (and wrk); when nginx is missing and we are root, tries once
 * `apt-get install -y nginx-light wrk`. Returns { nginx, version, notes[] }; nginx is null when
 * unavailable, with the reason in notes.
 */
export function ensureNginx({ allowInstall = true } = {}) {
  const notes = [];
  let nginx = which('nginx');
  if (!nginx && allowInstall) {
    if (process.getuid?.() !== 0) {
      notes.push('nginx is not installed and this is not root: not trying apt-get');
    } else if (!which('apt-get')) {
      notes.push('nginx is not installed and apt-get is absent');
    } else {
      process.stderr.write('nginx not found: trying `apt-get install -y nginx-light wrk` (once)...\n');
      const r = runSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx-light', 'wrk'], {
        timeoutMs: 300_000,
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      nginx = which('nginx');
      if (!nginx) notes.push(`apt-get install nginx-light wrk failed: ${lastLine(r.stderr || r.stdout || String(r.error))}`);
      else notes.push('installed nginx-light and wrk from Debian packages');
    }
  } else if (!nginx) {
    notes.push('nginx is not installed (--no-install given)');
  }
  let version = null;
  if (nginx) {
    const r = runSync(nginx, ['-v']);
    version = /nginx\/([\d.]+)/.exec(r.stderr + r.stdout)?.[1] ?? 'unknown';
  }
  return { nginx, version, notes };
}

function lastLine(text) {
  const lines = String(text).trim().split('\n');
  return lines[lines.length - 1].slice(0, 300);
}

function versionAtLeast(version, [maj, min, patch]) {
  const [a = 0, b = 0, c = 0] = String(version).split('.').map(Number);
  return a !== maj ? a > maj : b !== min ? b > min : c >= patch;
}

function mainContext(prefix) {
  const tmp = (n) => path.join(prefix, 'tmp', n);
  return {
    main: [
      'daemon off;',
      'master_process on;',
      'worker_processes 1;',
      `pid ${path.join(prefix, 'nginx.pid')};`,
      'error_log stderr warn;',
      'events { worker_connections 4096; }',
    ].join('\n'),
    // every temp path explicit: the compiled-in defaults live under /var/lib/nginx
    http: [
      'access_log off;',
      `client_body_temp_path ${tmp('body')};`,
      `proxy_temp_path ${tmp('proxy')};`,
      `fastcgi_temp_path ${tmp('fastcgi')};`,
      `uwsgi_temp_path ${tmp('uwsgi')};`,
      `scgi_temp_path ${tmp('scgi')};`,
      'default_type application/json;',
      // one client connection carries the whole run (node's server has no per-connection cap either)
      'keepalive_requests 10000000;',
      'keepalive_timeout 75s;',
    ].join('\n    '),
  };
}

/** Config of the upstream: `return 200 '{"ok":true}'` on 127.0.0.1:port, keep-alive. */
export function upstreamConf(prefix, port) {
  const c = mainContext(prefix);
  return `${c.main}
http {
    ${c.http}
    server {
        listen 127.0.0.1:${port} backlog=4096;
        location / { return 200 '${UPSTREAM_BODY}'; }
    }
}
`;
}

/** Config of nginx as a reverse proxy to 127.0.0.1:upstreamPort with pooled keep-alive connections. */
export function proxyConf(prefix, port, upstreamPort) {
  const c = mainContext(prefix);
  return `${c.main}
http {
    ${c.http}
    upstream up {
        server 127.0.0.1:${upstreamPort};
        keepalive 64;
        keepalive_requests 10000000;
    }
    server {
        listen 127.0.0.1:${port} backlog=4096;
        location / {
            proxy_pass http://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
`;
}

/** Writes the config into tmpDir/name/ and starts nginx in the foreground (master + 1 worker). */
export function startNginx(name, { nginx, version, tmpDir, conf, cpus, taskset }) {
  const prefix = path.join(tmpDir, name);
  for (const d of ['tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'logs']) {
    mkdirSync(path.join(prefix, d), { recursive: true });
  }
  const confFile = path.join(prefix, 'nginx.conf');
  writeFileSync(confFile, conf(prefix));
  const args = ['-p', prefix + '/', '-c', confFile];
  // -e (1.19.5+) keeps nginx from opening the compiled-in /var/log/nginx/error.log before the config
  if (versionAtLeast(version, [1, 19, 5])) args.push('-e', 'stderr');
  return start(name, nginx, args, { cpus, taskset });
}
