import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const tuning = fileURLToPath(new URL('../../dist/runtime/v8-tuning.js', import.meta.url));

/**
 * Runs objects that all survive young-generation GCs (what V8 pretenures) in a child with V8's
 * pretenuring trace on, after tuneV8ForGateway(env), and counts the allocation sites V8 judged.
 */
function sitesJudged(env: Record<string, string>): number {
  const script = `
    const { tuneV8ForGateway } = await import(${JSON.stringify(tuning)});
    tuneV8ForGateway(${JSON.stringify(env)});
    const keep = [];
    for (let i = 0; i < 400000; i++) keep.push({ a: i, b: [i] });
    console.log(keep.length);
  `;
  const out = execFileSync(process.execPath, ['--trace-pretenuring', '--trace-pretenuring-statistics', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes('AllocationSite')).length;
}

describe('V8 tuning of a gateway process', () => {
  it('turns allocation-site pretenuring off: V8 judges no site, where by default it judges several', () => {
    expect(sitesJudged({ PORTCULLIS_V8_PRETENURING: 'default' })).toBeGreaterThan(0);
    expect(sitesJudged({})).toBe(0);
  });
});
