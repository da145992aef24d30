import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** One go-ftw stage input, as the CRS regression YAML writes it. */
export interface FtwInput {
  readonly method?: string;
  readonly uri?: string;
  readonly version?: string;
  readonly headers?: Record<string, string | number>;
  readonly data?: string;
  readonly encoded_request?: string;
  readonly autocomplete_headers?: boolean;
  readonly dest_addr?: string;
  readonly port?: number;
}

export interface FtwOutput {
  readonly status?: number;
  readonly log?: {
    readonly expect_ids?: number[];
    readonly no_expect_ids?: number[];
    readonly match_regex?: string;
    readonly no_match_regex?: string;
  };
  readonly expect_error?: boolean;
}

export interface FtwStage {
  readonly input: FtwInput;
  readonly output: FtwOutput;
}

export interface FtwCase {
  /** `942100-1` */
  readonly name: string;
  readonly ruleId: number;
  /** The rule file's folder: `REQUEST-942-APPLICATION-ATTACK-SQLI`. */
  readonly family: string;
  readonly desc: string;
  readonly stages: readonly FtwStage[];
}

interface FtwFile {
  rule_id?: number;
  tests?: { test_id?: number; desc?: string; stages?: ({ input: FtwInput; output: FtwOutput } | { stage: { input: FtwInput; output: FtwOutput } })[] }[];
}

/** Every case under the CRS `tests/regression/tests` folder, in folder and file order. */
export function loadFtwCases(testsDir: string): FtwCase[] {
  const cases: FtwCase[] = [];
  for (const family of readdirSync(testsDir).sort()) {
    const dir = path.join(testsDir, family);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
      const doc = (parse(readFileSync(path.join(dir, file), "utf8")) ?? {}) as FtwFile;
      const ruleId = doc.rule_id ?? Number(file.replace(/\.yaml$/, ''));
      (doc.tests ?? []).forEach((test, k) => {
        const stages = (test.stages ?? []).map((s) => ('stage' in s ? s.stage : s));
        cases.push({ name: `${ruleId}-${test.test_id ?? k + 1}`, ruleId, family, desc: test.desc ?? '', stages });
      });
    }
  }
  return cases;
}
