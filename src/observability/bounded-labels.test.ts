import { describe, expect, it } from 'vitest';
import { BoundedLabels, OTHER_LABEL } from './bounded-labels.js';

describe('BoundedLabels', () => {
  it('admits the first values up to the cap, then answers __other__ for every new one', () => {
    const labels = new BoundedLabels(2);
    expect(labels.label('a')).toBe('a');
    expect(labels.label('b')).toBe('b');
    expect(labels.label('c')).toBe(OTHER_LABEL);
    // Admitted values keep their label after the cap is reached.
    expect(labels.label('a')).toBe('a');
    expect(labels.label('b')).toBe('b');
  });

  it('stays bounded under a flood of distinct values (an attacker minting consumers)', () => {
    const labels = new BoundedLabels(100);
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(labels.label(`consumer-${i}`));
    expect(seen.size).toBe(101);
    expect(seen.has(OTHER_LABEL)).toBe(true);
    expect(labels.size).toBe(100);
  });

  it('admits nothing with a cap of 0', () => {
    const labels = new BoundedLabels(0);
    expect(labels.label('a')).toBe(OTHER_LABEL);
    expect(labels.size).toBe(0);
  });

  it('cuts long values to 128 characters, so one label value cannot be huge', () => {
    const labels = new BoundedLabels(10);
    expect(labels.label('x'.repeat(10_000))).toBe('x'.repeat(128));
    expect(labels.label('x'.repeat(200))).toBe('x'.repeat(128));
    expect(labels.size).toBe(1);
  });

  it('a lower cap on reload stops new admissions and keeps the admitted ones', () => {
    const labels = new BoundedLabels(3);
    labels.label('a');
    labels.label('b');
    labels.resize(1);
    expect(labels.label('c')).toBe(OTHER_LABEL);
    expect(labels.label('a')).toBe('a');
    labels.resize(5);
    expect(labels.label('c')).toBe('c');
  });
});
