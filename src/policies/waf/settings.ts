import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { compileRuleSet, type RuleSet } from '../../waf/compile/ruleset.js';
import { loadCrsDirectives } from '../../waf/engine/waf-engine.js';
import type { WafConfig } from './schema.js';

/**
 * The route's CRS settings, written as the SecAction a ModSecurity user puts in crs-setup.conf
 * (rule 900000 range): paranoia levels, thresholds and the phase 5 reporting level. The engine
 * runs `On`, so CRS 949110 (`deny` once the score reaches the threshold) is what blocks.
 */
export function settingsText(config: WafConfig): string {
  const detection = Math.max(config.detectionParanoiaLevel ?? config.paranoiaLevel, config.paranoiaLevel);
  return [
    'SecRuleEngine On',
    `SecAction "id:900000,phase:1,pass,nolog,t:none,setvar:tx.blocking_paranoia_level=${config.paranoiaLevel},` +
      `setvar:tx.detection_paranoia_level=${detection},setvar:tx.inbound_anomaly_score_threshold=${config.inboundThreshold},` +
      `setvar:tx.outbound_anomaly_score_threshold=${config.outboundThreshold},setvar:tx.reporting_level=${config.reportingLevel}"`,
  ].join('\n');
}

/** The route's exclusions as the SecLang directives CRS documents for them (after the rules). */
export function exclusionsText(config: WafConfig): string {
  const lines: string[] = [];
  const { ruleIds, tags, targets } = config.exclusions;
  if (ruleIds.length > 0) lines.push(`SecRuleRemoveById ${ruleIds.join(' ')}`);
  for (const tag of tags) lines.push(`SecRuleRemoveByTag "${tag}"`);
  for (const { ruleId, target } of targets) lines.push(`SecRuleUpdateTargetById ${ruleId} "!${target}"`);
  return lines.join('\n');
}

/** Change stamp of the CRS folder: a reload after the user updated the CRS compiles afresh. */
function stamp(crsDir: string): string {
  const rules = path.join(crsDir, 'rules');
  return readdirSync(rules)
    .map((f) => `${f}:${statSync(path.join(rules, f)).mtimeMs}`)
    .join(',');
}

/**
 * Compiled rule sets shared by the routes (and reloads) that ask for the same CRS with the same
 * settings: compiling the CRS takes about a second, its result is immutable.
 */
const cache = new Map<string, RuleSet>();
const MAX_CACHED = 32;

export function compiledCrs(crsDir: string, config: WafConfig): RuleSet {
  const settings = settingsText(config);
  const afterRules = exclusionsText(config);
  const key = JSON.stringify([crsDir, settings, afterRules, stamp(crsDir)]);
  let ruleSet = cache.get(key);
  if (ruleSet === undefined) {
    ruleSet = compileRuleSet(loadCrsDirectives({ crsDir, settings, afterRules }));
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, ruleSet);
  }
  return ruleSet;
}
