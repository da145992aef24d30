// The report: a Markdown table with ratios, one line per target of the issue, and the JSON file.
import { writeFileSync } from 'node:fs';
import { fmt } from './measure.mjs';
import { REFERENCE_NAME } from './scenarios.mjs';

const TARGETS = {
  bareCpu: 110, // us of CPU per request, portcullis-bare
  vsFastGateway: 2, // portcullis-bare req/s over fast-gateway req/s
  policiesOverhead: 0.15, // portcullis-core-policies CPU per request over portcullis-bare
  twoWorkers: 1.8, // 2 workers req/s over 1 worker req/s
  apiKeyAddedUs: 10, // portcullis-apikey CPU per request minus portcullis-bare's, us
  jwtWarmAddedUs: 10, // portcullis-jwt (one token repeated: warm verified-token cache) minus bare, us
  authzAddedUs: 5, // portcullis-authz CPU per request minus portcullis-apikey's, us
  rateLimitMemoryAddedUs: 3, // portcullis-ratelimit-memory CPU per request minus bare's, us
  rateLimitRedisVsMemory: 0.7, // portcullis-ratelimit-redis req/s over portcullis-ratelimit-memory req/s
  openApiAddedUs: 25, // portcullis-openapi (1 KB JSON body validated) minus portcullis-openapi-stream (same body streamed), us
  auditAnomalyAddedUs: 10, // portcullis-full (quick start policies + audit + anomaly detection) minus portcullis-quickstart, us
  fullVsBare: 0.6, // portcullis-full req/s over portcullis-bare req/s
  wafGetAddedUs: 60, // portcullis-waf (OWASP CRS, paranoia level 1, GET) minus portcullis-bare, us
  wafJsonAddedUs: 500, // portcullis-waf-json-4kb minus portcullis-bare-json-4kb (the same 4 KB JSON POST), us
};

const ratio = (a, b) => (a != null && b != null && b > 0 && Number.isFinite(a) ? a / b : null);
const x = (r) => (r === null ? '-' : `${r.toFixed(2)}x`);
const int = (n) => (n == null || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US'));

export function renderTable(rows) {
  const by = Object.fromEntries(rows.filter((r) => r.ok).map((r) => [r.name, r]));
  const direct = by.direct;
  const nginx = by.nginx;
  const head = [
    '| scenario | req/s | p50 ms | p99 ms | CPU us/req | RSS MB | req/s vs direct | req/s vs nginx | CPU vs nginx | proxy CPU % |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const lines = rows.map((r) => {
    const label = r.reference ? `${r.name} (reference)` : r.name;
    if (!r.ok) return `| ${label} | failed (see below) | | | | | | | | |`;
    const mark = r.name === 'direct' ? '*' : '';
    return (
      `| ${label} | ${int(r.rps)} | ${fmt(r.p50_ms, 2)} | ${fmt(r.p99_ms, 2)} | ${fmt(r.cpu_us_per_req)}${mark} | ` +
      `${fmt(r.rss_mb)}${mark} | ${x(ratio(r.rps, direct?.rps))} | ${x(ratio(r.rps, nginx?.rps))} | ` +
      `${r.name === 'direct' ? '-' : x(ratio(r.cpu_us_per_req, nginx?.cpu_us_per_req))} | ${Math.round(r.cpu_util * 100)}${mark} |`
    );
  });
  const foot = [];
  if (rows.some((r) => r.name === 'direct' && r.ok)) {
    foot.push('\\* direct: no proxy in the path; CPU, RSS and CPU % are those of the upstream.');
  }
  for (const r of rows) {
    if (!r.ok) foot.push(`- **${r.name}** failed: ${oneLine(r.error)}`);
    for (const n of r.notes) foot.push(`- ${r.name}: ${oneLine(n)}`);
    if (r.ok && r.runs.length > 1) foot.push(`- ${r.name}: req/s of the runs ${r.runs.map((u) => int(u.rps)).join(' / ')} (median run shown)`);
  }
  return [...head, ...lines, ...(foot.length ? ['', ...foot] : [])].join('\n');
}

function oneLine(text) {
  return String(text ?? '').replace(/\s*\n\s*/g, ' | ').slice(0, 1200);
}

/** Evaluates the targets; each { id, text, status: met | not met | n/a, value }. */
export function evaluateTargets(rows, layout) {
  const by = Object.fromEntries(rows.filter((r) => r.ok).map((r) => [r.name, r]));
  const failed = (name) => (rows.some((r) => r.name === name) ? `${name} failed` : `${name} not run`);
  const out = [];
  const add = (id, text, ok, value, detail) =>
    out.push({ id, text, status: ok === null ? 'n/a' : ok ? 'met' : 'not met', value, detail });

  const bare = by['portcullis-bare'];
  add(
    'bare-cpu',
    `portcullis-bare CPU <= ${TARGETS.bareCpu} us/request`,
    bare ? bare.cpu_us_per_req <= TARGETS.bareCpu : null,
    bare ? round(bare.cpu_us_per_req, 1) : null,
    bare ? `${fmt(bare.cpu_us_per_req)} us/request` : failed('portcullis-bare'),
  );

  const fg = by['fast-gateway'];
  const floor = by['node-floor'];
  const rFg = bare && fg ? ratio(bare.rps, fg.rps) : null;
  add(
    'bare-vs-fast-gateway',
    `portcullis-bare req/s >= ${TARGETS.vsFastGateway}x fast-gateway`,
    rFg === null ? null : rFg >= TARGETS.vsFastGateway,
    round(rFg, 3),
    rFg === null
      ? !bare ? failed('portcullis-bare') : failed('fast-gateway')
      : `${x(rFg)} (${int(bare.rps)} vs ${int(fg.rps)} req/s; fast-gateway uses ${x(ratio(fg.cpu_us_per_req, bare.cpu_us_per_req))} the CPU per request)` +
          // The floor (node:http + undici and nothing else) bounds what any Node proxy can reach.
          (floor ? `; node-floor, a proxy with no features at all: ${x(ratio(floor.rps, fg.rps))} fast-gateway's req/s, ${fmt(floor.cpu_us_per_req)} us/request` : ''),
  );

  const pol = by['portcullis-core-policies'];
  const overhead = bare && pol ? ratio(pol.cpu_us_per_req, bare.cpu_us_per_req) - 1 : null;
  add(
    'core-policies-overhead',
    `core policies add <= ${TARGETS.policiesOverhead * 100}% (CPU per request over portcullis-bare)`,
    overhead === null ? null : overhead <= TARGETS.policiesOverhead,
    round(overhead, 4),
    overhead === null
      ? !bare ? failed('portcullis-bare') : failed('portcullis-core-policies')
      : `${pct(overhead)} CPU/request (${fmt(pol.cpu_us_per_req)} vs ${fmt(bare.cpu_us_per_req)} us); ` +
        `req/s ${pct(ratio(pol.rps, bare.rps) - 1)}`,
  );

  for (const [id, name, label, limit, baseName = 'portcullis-bare'] of [
    ['apikey-added-cpu', 'portcullis-apikey', 'api-key', TARGETS.apiKeyAddedUs],
    // Against the bare route carrying the same token when that row ran (what validation adds), and
    // against the plain bare route too, so the price of the token's bytes stays visible.
    ['jwt-warm-added-cpu', 'portcullis-jwt', 'jwt (warm cache)', TARGETS.jwtWarmAddedUs, by['portcullis-bare-jwt-traffic'] ? 'portcullis-bare-jwt-traffic' : 'portcullis-bare'],
    ['jwt-warm-added-cpu-vs-bare', 'portcullis-jwt', 'jwt (warm cache), token bytes included,', TARGETS.jwtWarmAddedUs],
    ['ratelimit-memory-added-cpu', 'portcullis-ratelimit-memory', 'rate-limit (memory, 2 limits)', TARGETS.rateLimitMemoryAddedUs],
    ['audit-anomaly-added-cpu', 'portcullis-full', 'audit log + anomaly detection', TARGETS.auditAnomalyAddedUs, 'portcullis-quickstart'],
    ['waf-get-added-cpu', 'portcullis-waf', 'waf (OWASP CRS, paranoia level 1), GET,', TARGETS.wafGetAddedUs],
    ['waf-json-added-cpu', 'portcullis-waf-json-4kb', 'waf (OWASP CRS, paranoia level 1), 4 KB JSON body,', TARGETS.wafJsonAddedUs, 'portcullis-bare-json-4kb'],
  ]) {
    const row = by[name];
    const base = by[baseName];
    const added = base && row ? row.cpu_us_per_req - base.cpu_us_per_req : null;
    const ok = added !== null && Number.isFinite(added);
    add(
      id,
      `${label} adds <= ${limit} us CPU/request over ${baseName}`,
      ok ? added <= limit : null,
      ok ? round(added, 1) : null,
      ok
        ? `${added >= 0 ? '+' : ''}${fmt(added)} us/request (${fmt(row.cpu_us_per_req)} vs ${fmt(base.cpu_us_per_req)} us); req/s ${pct(ratio(row.rps, base.rps) - 1)}`
        : !base ? failed(baseName) : failed(name),
    );
  }

  const full = by['portcullis-full'];
  const rFull = bare && full ? ratio(full.rps, bare.rps) : null;
  add(
    'full-vs-bare',
    `portcullis-full (quick start policies + audit + anomaly detection) >= ${TARGETS.fullVsBare * 100}% of portcullis-bare's req/s`,
    rFull === null ? null : rFull >= TARGETS.fullVsBare,
    round(rFull, 3),
    rFull === null
      ? !bare ? failed('portcullis-bare') : failed('portcullis-full')
      : // The CPU ratio is what req/s would be on a CPU-bound, undisturbed run: steadier under noise.
        `${x(rFull)} (${int(full.rps)} vs ${int(bare.rps)} req/s); by CPU per request ${x(ratio(bare.cpu_us_per_req, full.cpu_us_per_req))} (${fmt(full.cpu_us_per_req)} vs ${fmt(bare.cpu_us_per_req)} us)`,
  );

  const apiKey = by['portcullis-apikey'];
  const authz = by['portcullis-authz'];
  const authzAdded = apiKey && authz ? authz.cpu_us_per_req - apiKey.cpu_us_per_req : null;
  const authzOk = authzAdded !== null && Number.isFinite(authzAdded);
  add(
    'authz-added-cpu',
    `authorize (3 CEL rules + 1 ownership binding) adds <= ${TARGETS.authzAddedUs} us CPU/request over portcullis-apikey`,
    authzOk ? authzAdded <= TARGETS.authzAddedUs : null,
    authzOk ? round(authzAdded, 1) : null,
    authzOk
      ? `${authzAdded >= 0 ? '+' : ''}${fmt(authzAdded)} us/request (${fmt(authz.cpu_us_per_req)} vs ${fmt(apiKey.cpu_us_per_req)} us); req/s ${pct(ratio(authz.rps, apiKey.rps) - 1)}`
      : !apiKey ? failed('portcullis-apikey') : failed('portcullis-authz'),
  );

  const rlMemory = by['portcullis-ratelimit-memory'];
  const rlRedis = by['portcullis-ratelimit-redis'];
  const rRedis = rlMemory && rlRedis ? ratio(rlRedis.rps, rlMemory.rps) : null;
  add(
    'ratelimit-redis-vs-memory',
    `rate-limit on Redis >= ${TARGETS.rateLimitRedisVsMemory}x the req/s of the memory backend`,
    rRedis === null ? null : rRedis >= TARGETS.rateLimitRedisVsMemory,
    round(rRedis, 3),
    rRedis === null
      ? !rlMemory ? failed('portcullis-ratelimit-memory') : failed('portcullis-ratelimit-redis')
      : `${x(rRedis)} (${int(rlRedis.rps)} vs ${int(rlMemory.rps)} req/s; gateway CPU ${fmt(rlRedis.cpu_us_per_req)} vs ${fmt(rlMemory.cpu_us_per_req)} us/request)`,
  );

  const stream = by['portcullis-openapi-stream'];
  const validated = by['portcullis-openapi'];
  const openApiAdded = stream && validated ? validated.cpu_us_per_req - stream.cpu_us_per_req : null;
  const openApiOk = openApiAdded !== null && Number.isFinite(openApiAdded);
  add(
    'openapi-added-cpu',
    `openapi (1 KB JSON body validated) adds <= ${TARGETS.openApiAddedUs} us CPU/request over streaming the same body`,
    openApiOk ? openApiAdded <= TARGETS.openApiAddedUs : null,
    openApiOk ? round(openApiAdded, 1) : null,
    openApiOk
      ? `${openApiAdded >= 0 ? '+' : ''}${fmt(openApiAdded)} us/request (${fmt(validated.cpu_us_per_req)} vs ${fmt(stream.cpu_us_per_req)} us)`
      : !stream ? failed('portcullis-openapi-stream') : failed('portcullis-openapi'),
  );

  const two = by['portcullis-bare-2-workers'];
  const one = layout.separate2w ? bare : by[REFERENCE_NAME];
  const oneName = layout.separate2w ? 'portcullis-bare' : REFERENCE_NAME;
  const r2 = two && one ? ratio(two.rps, one.rps) : null;
  let detail = r2 === null ? (!two ? failed('portcullis-bare-2-workers') : failed(oneName)) : `${x(r2)} (${int(two.rps)} vs ${int(one.rps)} req/s of ${oneName})`;
  if (r2 !== null && !layout.separate2w) {
    detail +=
      `; NOT a fair test on this machine: the gateway's 2 CPUs are shared with the load generator and the upstream` +
      (bare ? `; vs portcullis-bare on its own CPU: ${x(ratio(two.rps, bare.rps))}` : '');
  }
  add('two-workers', `2 workers >= ${TARGETS.twoWorkers}x the req/s of 1`, r2 === null ? null : r2 >= TARGETS.twoWorkers, round(r2, 3), detail);
  return out;
}

export function renderTargets(targets) {
  return targets.map((t) => `- [${t.status === 'met' ? 'x' : ' '}] ${t.text}: **${t.status}**: ${t.detail}`).join('\n');
}

const pct = (r) => (r === null || !Number.isFinite(r) ? '-' : `${r >= 0 ? '+' : ''}${(r * 100).toFixed(1)}%`);
function round(n, d) {
  return n === null || n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(d));
}

function jsonRow(r) {
  const o = {
    name: r.name,
    rps: r.ok ? round(r.rps, 1) : null,
    p50_ms: r.ok ? round(r.p50_ms, 3) : null,
    p99_ms: r.ok ? round(r.p99_ms, 3) : null,
    cpu_us_per_req: r.ok ? round(r.cpu_us_per_req, 2) : null,
    rss_mb: r.ok ? round(r.rss_mb, 1) : null,
  };
  if (r.ok) {
    o.cpu_util = round(r.cpu_util, 3);
    o.other_load = round(r.other_load, 3);
    o.requests = r.requests;
    o.errors = r.errors;
    if (r.runs.length > 1) o.runs_rps = r.runs.map((u) => round(u.rps, 1));
    if (r.name === 'direct') o.cpu_of = 'upstream';
  } else {
    o.error = r.error;
  }
  if (r.notes.length) o.notes = r.notes;
  return o;
}

export function writeJson(file, rows, targets, meta) {
  const doc = {
    scenarios: rows.filter((r) => !r.reference).map(jsonRow),
    reference: rows.filter((r) => r.reference).map(jsonRow),
    targets,
    meta,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
}
