import { describe, expect, it } from 'vitest';
import type { OperatorContext } from '../types.js';
import { compileOperator } from './index.js';
import { ALWAYS, HIGH, NUL, PERCENT, charClasses } from '../transforms/triggers.js';

const ctx = {} as OperatorContext;
const op = (name: string, param = '') => compileOperator(name, param, { dir: '.' });

let seed = 7;
const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
// Every byte, with the ones the gates turn on (controls, NUL, %, high bytes) over-represented.
const BYTES = [...Array.from({ length: 256 }, (_, b) => String.fromCharCode(b)), '\0', '\x01', '\x7f', '%', '\xc3', '\xa9', 'a', 'a', 'a'];
const randomValue = () => Array.from({ length: next() % 10 }, () => BYTES[next() % BYTES.length]!).join('');

describe('validation operators', () => {
  it('match what ModSecurity flags', () => {
    expect(op('validateByteRange', '1-255')(ctx, 'a\0b', false)).toBe(true);
    expect(op('validateByteRange', '1-255')(ctx, 'abc\xff', false)).toBe(false);
    expect(op('validateByteRange', '32-36,38-126')(ctx, 'a%b', false)).toBe(true);
    expect(op('validateUtf8Encoding')(ctx, 'caf\xc3', false)).toBe(true);
    expect(op('validateUtf8Encoding')(ctx, 'caf\xc3\xa9', false)).toBe(false);
    expect(op('validateUrlEncoding')(ctx, '%zz', false)).toBe(true);
    expect(op('validateUrlEncoding')(ctx, '%41+b', false)).toBe(false);
  });

  it('have class gates that name the chars they need', () => {
    expect(op('validateByteRange', '1-255').classGate).toBe(NUL);
    expect(op('validateUtf8Encoding').classGate).toBe(HIGH);
    expect(op('validateUrlEncoding').classGate).toBe(PERCENT);
    // CRS 920271 (paranoia level 2): the controls it leaves out have a class (CONTROL, SPACE, NUL, HIGH).
    expect(op('validateByteRange', '9,10,13,32-126,128-255').classGate).not.toBe(ALWAYS);
    // A range that leaves out a letter: no class stands for a letter, so no gate.
    expect(op('validateByteRange', '38,44-46,48-58,61,65-90,95,97-121').classGate).toBe(ALWAYS);
  });

  it('never match a value whose char classes miss the gate (6,000 random values per operator)', () => {
    const cases: [string, string][] = [
      ['validateByteRange', '1-255'],
      ['validateByteRange', '9,10,13,32-126,128-255'],
      ['validateByteRange', '32-36,38-126'],
      ['validateByteRange', '1-8,11-255'],
      ['validateUtf8Encoding', ''],
      ['validateUrlEncoding', ''],
    ];
    for (const [name, param] of cases) {
      const fn = op(name, param);
      const gate = fn.classGate!;
      let gated = 0;
      let matched = 0;
      for (let n = 0; n < 6000; n++) {
        const value = randomValue();
        const hit = fn(ctx, value, false);
        if (hit) matched++;
        if ((charClasses(value) & gate) !== 0) continue;
        gated++;
        expect(hit, `${name} ${param} on ${JSON.stringify(value)}`).toBe(false);
      }
      // Both sides were tried: values the gate skips, and values the operator flags.
      expect(gated, `${name} ${param}`).toBeGreaterThan(100);
      expect(matched, `${name} ${param}`).toBeGreaterThan(100);
    }
  });
});
