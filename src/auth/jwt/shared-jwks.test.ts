import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../observability/logger.js';
import type { JwksOptions } from './jwks-cache.js';
import { sharedJwks } from './shared-jwks.js';
import { FakeClock, ISS, makeKey, startJwksServer, type JwksServer } from './test-fixtures.js';

let server: JwksServer;
beforeAll(async () => {
  server = await startJwksServer([(await makeKey('ES256', 'k1')).jwk]);
});
afterAll(async () => {
  await server?.close();
});

function options(clock: FakeClock, extra: Partial<JwksOptions> = {}): JwksOptions {
  return { jwksUri: server.url, discoveryUrl: undefined, issuer: ISS, refreshIntervalMs: 600_000, minRefetchIntervalMs: 30_000, timeoutMs: 2000, now: clock.now, logger: silentLogger(), ...extra };
}

describe('sharedJwks', () => {
  it('gives shares of one source one fetch and one key set, and counts a fetch for one listener only', async () => {
    const clock = new FakeClock();
    const told: string[] = [];
    const a = sharedJwks(options(clock, { onFetch: (o) => told.push(`a:${o}`) }));
    const b = sharedJwks(options(clock, { onFetch: (o) => told.push(`b:${o}`) }));
    const before = server.hits;
    await Promise.all([a.refresh(), b.refresh()]);
    expect(server.hits).toBe(before + 1);
    expect(b.started).toBe(true);
    expect(b.lookup('k1')).toHaveLength(1);
    expect(told).toEqual(['a:ok']);
    a.close();
    b.close();
  });

  it('keeps the source alive while one share is left, and starts afresh once every share closed', async () => {
    const clock = new FakeClock();
    const a = sharedJwks(options(clock));
    const b = sharedJwks(options(clock));
    await a.refresh();
    a.close();
    a.close(); // a second close of the same share must not take b's share away
    expect(a.mayRefetch()).toBe(false);
    clock.advance(60_000);
    const before = server.hits;
    await b.refresh();
    expect(server.hits).toBe(before + 1);
    expect(b.lookup('k1')).toHaveLength(1);
    b.close();
    const c = sharedJwks(options(clock));
    expect(c.started).toBe(false);
    c.close();
  });

  it('does not share between different clocks or different fetch settings', async () => {
    const [one, two] = [new FakeClock(), new FakeClock()];
    const shares = [sharedJwks(options(one)), sharedJwks(options(two)), sharedJwks(options(one, { timeoutMs: 3000 }))];
    const before = server.hits;
    await Promise.all(shares.map((s) => s.refresh()));
    expect(server.hits).toBe(before + 3);
    for (const s of shares) s.close();
  });
});
