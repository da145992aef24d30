import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStateError, type StateErrorCode } from '../../src/state/errors.js';
import type { StateStore } from '../../src/state/types.js';

export interface StateFixture {
  state: StateStore;
  /** Lets `ms` pass: a manual clock moves for memory, real time passes for Redis. */
  wait(ms: number): Promise<void>;
  /** Removes what the fixture made (a Redis key prefix); runs after state.close(). */
  cleanup?: () => Promise<void>;
}

export async function stateCodeOf(promise: Promise<unknown>): Promise<StateErrorCode> {
  try {
    await promise;
  } catch (err) {
    if (isStateError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a StateError, but the call succeeded');
}

/** Resolves with the messages once `count` arrived; fails after `timeoutMs`. */
export function collect(count: number, timeoutMs = 2000): { messages: string[]; handler: (m: string) => void; done: Promise<string[]> } {
  const messages: string[] = [];
  let finish!: (m: string[]) => void;
  let fail!: (e: Error) => void;
  const done = new Promise<string[]>((res, rej) => ((finish = res), (fail = rej)));
  const timer = setTimeout(() => fail(new Error(`got ${messages.length} of ${count} messages`)), timeoutMs);
  const handler = (m: string) => {
    messages.push(m);
    if (messages.length === count) (clearTimeout(timer), finish(messages));
  };
  return { messages, handler, done };
}

/** Every behaviour a StateStore backend must have; each test gets a fresh, empty store. */
export function runStateContract(name: string, factory: () => Promise<StateFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let f: StateFixture;
    let state: StateStore;

    beforeEach(async () => {
      f = await factory();
      state = f.state;
    });
    afterEach(async () => {
      await state.close();
      await f.cleanup?.();
    });

    it('gets what was set, null for what was not, and replaces on set', async () => {
      expect(await state.get('missing')).toBeNull();
      await state.set('k', 'v1', 10_000);
      expect(await state.get('k')).toBe('v1');
      await state.set('k', 'v2 ünïcødé 🔑', 10_000);
      expect(await state.get('k')).toBe('v2 ünïcødé 🔑');
      await state.set('empty', '', 10_000);
      expect(await state.get('empty')).toBe('');
    });

    it('never returns an expired value', async () => {
      await state.set('short', 'x', 100);
      await state.set('long', 'y', 60_000);
      await f.wait(250);
      expect(await state.get('short')).toBeNull();
      expect(await state.get('long')).toBe('y');
    });

    it('deletes, saying whether there was something to delete', async () => {
      await state.set('k', 'v', 10_000);
      expect(await state.delete('k')).toBe(true);
      expect(await state.get('k')).toBeNull();
      expect(await state.delete('k')).toBe(false);
    });

    it('setIfAbsent sets once (nonce replay protection) and again after expiry', async () => {
      expect(await state.setIfAbsent('nonce:abc', '1', 100)).toBe(true);
      expect(await state.setIfAbsent('nonce:abc', '2', 100)).toBe(false);
      expect(await state.get('nonce:abc')).toBe('1');
      await f.wait(250);
      expect(await state.setIfAbsent('nonce:abc', '3', 10_000)).toBe(true);
      expect(await state.get('nonce:abc')).toBe('3');
    });

    it('setIfAbsent is atomic: of many concurrent callers exactly one wins', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => state.setIfAbsent('race', String(i), 10_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('incr counts within a window that starts at the first increment and is not extended', async () => {
      expect(await state.incr('fails', 300)).toBe(1);
      expect(await state.incr('fails', 300)).toBe(2);
      await f.wait(150);
      expect(await state.incr('fails', 300)).toBe(3);
      await f.wait(250);
      // 400 ms after the first increment: the window of 300 ms has closed despite the later ones.
      expect(await state.incr('fails', 300)).toBe(1);
      expect(await state.get('fails')).toBe('1');
    });

    it('incr is atomic under concurrency', async () => {
      const counts = await Promise.all(Array.from({ length: 100 }, () => state.incr('c', 10_000)));
      expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    });

    it('refuses bad arguments with STATE_INVALID', async () => {
      expect(await stateCodeOf(state.set('k', 'v', 0))).toBe('STATE_INVALID');
      expect(await stateCodeOf(state.set('k', 'v', -5))).toBe('STATE_INVALID');
      expect(await stateCodeOf(state.incr('k', 1.5))).toBe('STATE_INVALID');
      expect(await stateCodeOf(state.get(''))).toBe('STATE_INVALID');
      await state.set('text', 'abc', 10_000);
      expect(await stateCodeOf(state.incr('text', 10_000))).toBe('STATE_INVALID');
    });

    it('delivers published messages to every subscriber of the channel, and stops after unsubscribe', async () => {
      const a = collect(2);
      const b = collect(2);
      const other = collect(1, 300);
      const offA = await state.subscribe('revocations', a.handler);
      await state.subscribe('revocations', b.handler);
      await state.subscribe('elsewhere', other.handler);
      await state.publish('revocations', 'cred_1');
      await state.publish('revocations', 'cred_2 ✓');
      expect(await a.done).toEqual(['cred_1', 'cred_2 ✓']);
      expect(await b.done).toEqual(['cred_1', 'cred_2 ✓']);
      await expect(other.done).rejects.toThrow();
      await offA();
      const b2 = collect(1);
      const offB = await state.subscribe('revocations', b2.handler);
      await state.publish('revocations', 'cred_3');
      expect(await b2.done).toEqual(['cred_3']);
      expect(a.messages).toHaveLength(2);
      await offB();
    });

    it('keeps delivering when one handler throws', async () => {
      const good = collect(1);
      await state.subscribe('ch', () => {
        throw new Error('handler bug');
      });
      await state.subscribe('ch', good.handler);
      await state.publish('ch', 'm');
      expect(await good.done).toEqual(['m']);
    });

    it('rejects use after close', async () => {
      await state.close();
      expect(await stateCodeOf(state.get('k'))).toBe('STATE_INVALID');
    });
  });
}
