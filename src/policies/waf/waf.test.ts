import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { WafEngine } from '../../waf/engine/waf-engine.js';
import { locateTestCrs } from '../../waf/ftw/locate.js';
import { compiledCrs, exclusionsText, settingsText } from './settings.js';
import { WafSchema, type WafConfig } from './schema.js';

const CRS_DIR = locateTestCrs(path.dirname(fileURLToPath(import.meta.url)));

function config(overrides: Partial<WafConfig>): WafConfig {
  return Value.Default(WafSchema, { crsDir: CRS_DIR ?? '/nowhere', ...overrides }) as WafConfig;
}

const get = (uri: string) => ({ method: 'GET', uri, protocol: 'HTTP/1.1', headers: [['Host', 'shop.test'], ['User-Agent', 'Mozilla/5.0'], ['Accept', '*/*']] as [string, string][], body: undefined, remoteAddr: '192.0.2.7' });

describe('waf policy settings', () => {
  it('writes paranoia and threshold as the CRS setup SecAction, and exclusions as CRS directives', () => {
    const c = config({ paranoiaLevel: 2, inboundThreshold: 10, exclusions: { ruleIds: [920350, 942100], tags: ['attack-xss'], targets: [{ ruleId: 942100, target: 'ARGS:q' }] } });
    expect(settingsText(c)).toContain('setvar:tx.blocking_paranoia_level=2,setvar:tx.detection_paranoia_level=2,setvar:tx.inbound_anomaly_score_threshold=10');
    expect(settingsText(c)).toContain('setvar:tx.reporting_level=2"');
    expect(exclusionsText(c).split('\n')).toEqual(['SecRuleRemoveById 920350 942100', 'SecRuleRemoveByTag "attack-xss"', 'SecRuleUpdateTargetById 942100 "!ARGS:q"']);
  });

  it('refuses a target that could inject SecLang', () => {
    expect(Value.Check(WafSchema, { crsDir: 'x', exclusions: { ruleIds: [], tags: [], targets: [{ ruleId: 1, target: 'ARGS:a" "id:2' }] } })).toBe(false);
  });
});

describe.skipIf(CRS_DIR === undefined)('waf policy on the real CRS', () => {
  it('blocks a tautology at paranoia level 1 through CRS 949110, with the score reaching the threshold', () => {
    const tx = new WafEngine(compiledCrs(CRS_DIR!, config({}))).evaluateRequest(get("/shop?id=1'%20OR%20'1'='1"));
    expect(tx.interruption?.ruleId).toBe(949110);
    expect(Number(tx.getTx('blocking_inbound_anomaly_score'))).toBeGreaterThanOrEqual(5);
    expect(tx.matches.map((m) => m.id)).toContain(942100);
  });

  it('does not run paranoia level 2 rules at level 1', () => {
    const tx = new WafEngine(compiledCrs(CRS_DIR!, config({}))).evaluateRequest(get("/shop?id=1'%20OR%20'1'='1"));
    const levels = tx.matches.flatMap((m) => m.tags.filter((t) => t.startsWith('paranoia-level/')));
    expect(levels.every((t) => t === 'paranoia-level/1')).toBe(true);
  });

  it('skips an excluded target for the excluded rule only', () => {
    const engine = new WafEngine(compiledCrs(CRS_DIR!, config({ exclusions: { ruleIds: [], tags: [], targets: [{ ruleId: 942100, target: 'ARGS:q' }] } })));
    expect(engine.evaluateRequest(get("/s?q=1'%20OR%20'1'='1")).matches.map((m) => m.id)).not.toContain(942100);
    expect(engine.evaluateRequest(get("/s?other=1'%20OR%20'1'='1")).matches.map((m) => m.id)).toContain(942100);
  });

  it('reports the scores in phase 5 (980170) at the configured reporting level, and only the scores', () => {
    const attack = get("/shop?id=1'%20OR%20'1'='1");
    const report = (reportingLevel: number, req = attack) => {
      const engine = new WafEngine(compiledCrs(CRS_DIR!, config({ reportingLevel })));
      const tx = engine.evaluateRequest(req);
      expect(tx.matches.map((m) => m.id)).not.toContain(980170);
      return engine.evaluateLogging(tx).matches.find((m) => m.id === 980170);
    };
    const line = report(4);
    expect(line?.msg).toMatch(/^Anomaly Scores: \(Inbound Scores: blocking=\d+, detection=\d+, per_pl=\d+-\d+-\d+-\d+, threshold=5\).*SQLI=[1-9]/);
    expect(line?.msg).not.toMatch(/'1'|shop|id=/);
    expect(report(0)).toBeUndefined();
    // A clean request scores 0: reported at level 5 (every request) only.
    const clean = get('/products?q=red+shoes');
    expect(report(4, clean)).toBeUndefined();
    expect(report(5, clean)?.msg).toMatch(/blocking=0, detection=0/);
  });

  it('lets ordinary traffic through without any match', () => {
    const tx = new WafEngine(compiledCrs(CRS_DIR!, config({}))).evaluateRequest(get('/products?q=red+shoes&page=2&sort=price'));
    expect(tx.matches.filter((m) => m.logged)).toEqual([]);
    expect(tx.interruption).toBeUndefined();
  });
});
