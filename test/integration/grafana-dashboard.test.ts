import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { generateApiKey, hashApiKey } from '../../src/auth/api-key/format.js';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import { deadPort, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

interface Target {
  expr: string;
  legendFormat?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; definition: string }[] };
}

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/portcullis.json', import.meta.url), 'utf8')) as Dashboard;
const charts = dashboard.panels.filter((p) => p.type !== 'row');

/** Metric names a PromQL expression reads (every Portcullis metric starts with portcullis_). */
const metricNames = (expr: string) => [...new Set(expr.match(/\bportcullis_[a-z0-9_]+/g) ?? [])];

/** Label names an expression groups by, matches on, or a legend shows. */
function labelNames(target: Target): string[] {
  const names = new Set<string>();
  for (const [, list] of target.expr.matchAll(/\bby \(([^)]*)\)/g)) for (const l of list!.split(',')) names.add(l.trim());
  for (const [, list] of target.expr.matchAll(/\{([^}]*)\}/g)) for (const [, l] of list!.matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)) names.add(l!);
  for (const [, l] of (target.legendFormat ?? '').matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)) names.add(l!);
  names.delete('');
  return [...names];
}

/** A Prometheus text scrape: declared metric types, and the label names seen per sample name. */
function parseScrape(text: string) {
  const types = new Map<string, string>();
  const samples = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const labels = samples.get(sample[1]!) ?? new Set<string>();
    for (const [, l] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l!);
    samples.set(sample[1]!, labels);
  }
  return { types, samples };
}

/** The histogram a `_bucket` / `_sum` / `_count` series belongs to, or the name itself. */
function family(name: string, types: Map<string, string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && types.get(base) === 'histogram' ? base : name;
}

/**
 * Counted only when something breaks (a Redis down, a policy fault, a per-IP connection limit, a bad
 * TLS handshake); each has its own test (rate-limit, pipeline, connection-limits, tls). Here they
 * must be declared in the scrape; every other metric the dashboard reads must also have samples.
 */
const FAULT_ONLY = new Set([
  'portcullis_rate_limit_fallbacks_total',
  'portcullis_policy_faults_total',
  'portcullis_connections_refused_total',
  'portcullis_tls_handshake_errors_total',
]);

describe('deploy/grafana/portcullis.json', () => {
  it('is a Grafana 10+ dashboard whose every panel queries the ${DS_PROMETHEUS} input', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    expect(charts.length).toBeGreaterThanOrEqual(10);
    for (const panel of charts) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it('charts what issue 8 asks for: route, consumer, policy, decision, upstream, circuit state', () => {
    const used = new Set(charts.flatMap((p) => p.targets!.flatMap((t) => metricNames(t.expr))));
    for (const name of [
      'portcullis_requests_total',
      'portcullis_request_duration_seconds_bucket',
      'portcullis_upstream_duration_seconds_bucket',
      'portcullis_upstream_errors_total',
      'portcullis_upstream_circuit_state',
      'portcullis_policy_decisions_total',
      'portcullis_rate_limit_fallbacks_total',
      'portcullis_consumer_requests_total',
      'portcullis_load_shedding_active',
      'portcullis_requests_shed_total',
      'portcullis_inflight_requests',
    ]) {
      expect(used, name).toContain(name);
    }
  });

  describe('against a real gateway with traffic', () => {
    let dir: string;
    let upstream: EchoUpstream;
    let gw: TestGateway;
    let scrape: ReturnType<typeof parseScrape>;
    let raw: string;
    const held: ServerResponse[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pcl-dashboard-'));
      const db = join(dir, 'gw.db');
      const store = SqliteStore.open({ path: db });
      const consumer = await store.consumers.create({ name: 'acme' });
      const key = generateApiKey();
      await store.credentials.create({ consumerId: consumer.id, type: 'api-key', lookupId: key.keyId, secretHash: hashApiKey(key.key), scopes: [] });
      await store.close();
      upstream = await startUpstreamEcho((req, res) => {
        if (req.url === '/hold') return void held.push(res);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      const yaml = `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { host: 127.0.0.1, port: 0 }
storage: { backend: sqlite, sqlite: { path: "${db}" } }
metrics: { maxConsumerLabels: 10 }
upstreams:
  up:
    targets: [{ url: "${upstream.url}" }]
    circuitBreaker: { consecutiveFailures: 5 }
  dead:
    retries: 0
    targets: [{ url: "http://127.0.0.1:${await deadPort()}" }]
    circuitBreaker: { consecutiveFailures: 1, failureRatio: 0 }
routes:
  - name: orders
    match: { paths: ["/orders/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config: { methods: [{ type: api-key }] }
  - name: dead
    match: { paths: ["/dead/*"] }
    forward: { upstream: dead }
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
    policies:
      - name: allowed-methods
        config: { methods: [GET] }
`;
      gw = await startGateway(yaml);
      const call = async (path: string, init: { method?: 'GET' | 'DELETE'; headers?: Record<string, string> } = {}) => {
        const res = await request(`${gw.url}${path}`, init);
        await res.body.dump();
        return res.statusCode;
      };
      expect(await call('/orders/1', { headers: { 'x-api-key': key.key } })).toBe(200);
      expect(await call('/orders/1')).toBe(401);
      expect(await call('/x', { method: 'DELETE' })).toBe(405);
      expect(await call('/dead/x')).toBe(502);
      expect(await call('/dead/x')).toBe(503);
      expect(await gw.gateway.reloadFromText(yaml)).toBe(true);
      // One request held by the upstream while the scrape runs: in flight.
      const pending = request(`${gw.url}/hold`).then((r) => r.body.dump());
      while (held.length === 0) await new Promise((r) => setTimeout(r, 10));
      const res = await request(`http://127.0.0.1:${gw.gateway.adminPort!}/metrics`);
      expect(res.statusCode).toBe(200);
      raw = await res.body.text();
      scrape = parseScrape(raw);
      for (const r of held) r.writeHead(200).end('{}');
      await pending;
    });
    afterAll(async () => {
      await gw?.close();
      await upstream?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves every metric name of every panel and of the route variable', () => {
      const queries = [...charts.flatMap((p) => p.targets!.map((t) => ({ where: p.title, t }))), ...dashboard.templating.list.map((v) => ({ where: `variable ${v.name}`, t: { expr: v.definition } }))];
      for (const { where, t } of queries) {
        const names = metricNames(t.expr);
        expect(names.length, `${where}: ${t.expr}`).toBeGreaterThan(0);
        for (const name of names) {
          expect(scrape.types.has(family(name, scrape.types)), `${where}: ${name} is not declared in /metrics`).toBe(true);
          if (!FAULT_ONLY.has(name)) expect(scrape.samples.has(name), `${where}: ${name} has no sample after the traffic`).toBe(true);
        }
      }
    });

    it('groups, filters and labels only by labels those metrics have', () => {
      for (const panel of charts) {
        for (const t of panel.targets!) {
          const names = metricNames(t.expr);
          if (names.some((n) => !scrape.samples.has(n))) continue; // fault-only: no samples to read labels from
          const known = new Set(['le', ...names.flatMap((n) => [...scrape.samples.get(n)!])]);
          for (const label of labelNames(t)) expect(known, `${panel.title}: label "${label}" in ${t.expr}`).toContain(label);
        }
      }
    });

    it('shows the traffic: consumer, denials by route and policy, circuit, in flight', () => {
      expect(raw).toMatch(/^portcullis_consumer_requests_total\{consumer="cons_[^"]+",route="orders",status_class="2xx"\} 1$/m);
      expect(raw).toContain('portcullis_policy_decisions_total{route="orders",policy="authenticate",decision="deny"} 1');
      expect(raw).toContain('portcullis_policy_decisions_total{route="all",policy="allowed-methods",decision="deny"} 1');
      expect(raw).toMatch(/^portcullis_upstream_circuit_state\{upstream="dead",target="[^"]+"\} 2$/m);
      expect(raw).toMatch(/^portcullis_inflight_requests 1$/m);
      expect(raw).toContain('portcullis_config_reloads_total{result="applied"} 1');
    });
  });
});
