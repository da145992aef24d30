// portcullis-quickstart and portcullis-full (issue 8's benchmark): the bench route with every policy
// of the quick start (examples/quickstart.yaml), then the same with the audit log (file sink) and
// anomaly detection on top. The difference of the two rows is what audit and anomaly detection cost.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The quick start's policies, on one route: `request-size-limit` and `security-headers` (its global
 * chain), `allowed-methods` and `cors` (route demo), `ip-restriction` (route internal; here it
 * allows loopback, since the quick start's 10.0.0.0/8 would refuse the bench) and `authenticate`
 * with an API key (route demo-key: the bench sends one; the jwt and introspection methods of the
 * other quick start routes have rows of their own).
 */
export function quickstartPolicies(corePolicies) {
  return [...corePolicies, { name: 'authenticate', config: { methods: [{ type: 'api-key' }] } }];
}

/**
 * Anomaly detection with its defaults: every detector on, per IP and per consumer. The bench's
 * steady allowed load never fires one (no 401/403/404 bursts, no sequential ids; the rate detector
 * needs 6 intervals of 10 s of history and then 3x its own baseline), so every request pays for
 * being counted and nothing is throttled.
 */
export const ANOMALY_POLICY = { name: 'anomaly-detection', config: {} };

/**
 * The `audit` section: enabled, the JSON-lines file sink in the row's temp dir, checkpoints signed
 * by a fresh Ed25519 key. Allowed requests write no record (docs/audit.md), so what the benchmark
 * measures is the per-request check plus the denials of the sanity check.
 */
export function auditConfig(ctx, name) {
  const dir = path.join(ctx.tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, 'audit-ed25519.pem');
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return { enabled: true, sink: 'file', file: { path: path.join(dir, 'audit.jsonl') }, signing: { privateKey: keyFile, keyId: 'bench' } };
}
