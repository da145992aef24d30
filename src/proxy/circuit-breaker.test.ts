import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerSettings, type Transition } from './circuit-breaker.js';

const SETTINGS: BreakerSettings = {
  consecutiveFailures: 3,
  failureRatio: 0,
  windowMs: 10_000,
  minimumRequests: 10,
  openMs: 1_000,
  maxOpenMs: 5_000,
  halfOpenRequests: 1,
  probeTimeoutMs: 2_000,
};

function breaker(overrides: Partial<BreakerSettings> = {}): { cb: CircuitBreaker; transitions: Transition[] } {
  const transitions: Transition[] = [];
  const cb = new CircuitBreaker({ ...SETTINGS, ...overrides }, (t) => transitions.push(t));
  return { cb, transitions };
}

describe('circuit breaker: consecutive failures', () => {
  it('opens after N consecutive failures and refuses traffic until the cool-down ends', () => {
    const { cb, transitions } = breaker();
    cb.onFailure(0);
    cb.onFailure(1);
    expect(cb.canPass(2)).toBe(true);
    cb.onFailure(2);
    expect(cb.state).toBe('open');
    expect(cb.canPass(3)).toBe(false);
    expect(cb.canPass(1_001)).toBe(false);
    expect(cb.canPass(1_002)).toBe(true);
    expect(transitions).toEqual([{ from: 'closed', to: 'open', openMs: 1_000, failures: 3 }]);
  });

  it('a success between failures resets the run: 2 failures, 1 success, 2 failures stays closed', () => {
    const { cb } = breaker();
    cb.onFailure(0);
    cb.onFailure(1);
    cb.onSuccess(2);
    cb.onFailure(3);
    cb.onFailure(4);
    expect(cb.state).toBe('closed');
  });

  it('ignores late failures while open: the cool-down is not extended by requests sent before it opened', () => {
    const { cb, transitions } = breaker();
    for (let i = 0; i < 3; i++) cb.onFailure(0);
    cb.onFailure(500);
    expect(cb.openUntil).toBe(1_000);
    expect(transitions).toHaveLength(1);
  });
});

describe('circuit breaker: failure ratio over a sliding window', () => {
  const ratio = { consecutiveFailures: 0, failureRatio: 0.5, minimumRequests: 10 };

  it('does not judge the ratio before the window holds minimumRequests results', () => {
    const { cb } = breaker(ratio);
    for (let i = 0; i < 9; i++) cb.onFailure(i);
    expect(cb.state).toBe('closed');
    cb.onFailure(9);
    expect(cb.state).toBe('open');
  });

  it('opens when failures reach the ratio among interleaved successes', () => {
    const { cb } = breaker(ratio);
    for (let i = 0; i < 6; i++) cb.onSuccess(i);
    for (let i = 0; i < 5; i++) cb.onFailure(10 + i);
    expect(cb.state).toBe('closed'); // 5 of 11
    cb.onFailure(20); // 6 of 12
    expect(cb.state).toBe('open');
  });

  it('forgets results older than the window: old failures do not count against new successes', () => {
    const { cb } = breaker(ratio);
    for (let i = 0; i < 9; i++) cb.onFailure(i);
    // 11 s later the nine failures have slid out of the 10 s window.
    for (let i = 0; i < 9; i++) cb.onSuccess(11_000 + i);
    cb.onFailure(11_100);
    expect(cb.state).toBe('closed'); // 1 of 10, not 10 of 19
  });
});

describe('circuit breaker: half-open probes', () => {
  function opened(overrides: Partial<BreakerSettings> = {}) {
    const made = breaker(overrides);
    for (let i = 0; i < 3; i++) made.cb.onFailure(0);
    return made;
  }

  it('after the cool-down lets only halfOpenRequests probes through at once', () => {
    const { cb } = opened({ halfOpenRequests: 2 });
    expect(cb.canPass(1_000)).toBe(true);
    cb.admit(1_000);
    expect(cb.state).toBe('half_open');
    expect(cb.canPass(1_000)).toBe(true);
    cb.admit(1_000);
    expect(cb.canPass(1_001)).toBe(false);
  });

  it('closes on a successful probe and lets all traffic through again', () => {
    const { cb, transitions } = opened();
    cb.admit(1_000);
    cb.onSuccess(1_050);
    expect(cb.state).toBe('closed');
    expect(cb.canPass(1_051)).toBe(true);
    expect(transitions.map((t) => t.to)).toEqual(['open', 'half_open', 'closed']);
  });

  it('re-opens on a failed probe with a doubled cool-down, capped at maxOpenMs', () => {
    const { cb, transitions } = opened();
    let now = 1_000;
    const cooldowns: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect(cb.canPass(now)).toBe(true);
      cb.admit(now);
      cb.onFailure(now);
      cooldowns.push(cb.openUntil - now);
      expect(cb.canPass(now + cooldowns.at(-1)! - 1)).toBe(false);
      now = cb.openUntil;
    }
    expect(cooldowns).toEqual([2_000, 4_000, 5_000, 5_000, 5_000]);
    expect(transitions.filter((t) => t.to === 'open').map((t) => t.openMs)).toEqual([1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
  });

  it('starts again from openMs once a probe has closed the circuit', () => {
    const { cb } = opened();
    cb.admit(1_000);
    cb.onFailure(1_000); // re-open: 2 s
    cb.admit(3_000);
    cb.onSuccess(3_000);
    for (let i = 0; i < 3; i++) cb.onFailure(4_000);
    expect(cb.openUntil - 4_000).toBe(1_000);
  });

  it('frees the slot of a probe that never reports (its client went away) after probeTimeoutMs', () => {
    const { cb } = opened();
    cb.admit(1_000);
    expect(cb.canPass(2_999)).toBe(false);
    expect(cb.canPass(3_000)).toBe(true);
  });

  it('with unlimited probes (plain passive health) every request passes after the cool-down, one failure re-opens', () => {
    const { cb } = opened({ halfOpenRequests: Infinity, maxOpenMs: 1_000 });
    for (let i = 0; i < 50; i++) {
      expect(cb.canPass(1_000)).toBe(true);
      cb.admit(1_000);
    }
    cb.onFailure(1_010);
    expect(cb.state).toBe('open');
    expect(cb.openUntil).toBe(2_010);
  });

  it('answers Retry-After in whole seconds, rounded up, at least 1', () => {
    const { cb } = opened({ openMs: 2_500, maxOpenMs: 10_000 });
    expect(cb.retryAfterSeconds(0)).toBe(3);
    expect(cb.retryAfterSeconds(2_400)).toBe(1);
    expect(cb.retryAfterSeconds(9_000)).toBe(1);
  });
});
