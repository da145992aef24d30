import { describe, expect, it } from 'vitest';
import { makeContext } from '../../test/helpers/context.js';
import { AccessLog, BatchedSink } from './access-log.js';

function capture() {
  const lines: string[] = [];
  return { lines, log: new AccessLog({ write: (line: string) => lines.push(line) }) };
}

describe('AccessLog', () => {
  it('writes one parseable JSON line with the decision and the policy that decided', () => {
    const { lines, log } = capture();
    const ctx = makeContext({ method: 'DELETE', url: '/orders/1', headers: { host: 'api.example' } });
    ctx.status = 405;
    ctx.decision = { outcome: 'deny', policy: 'allowed-methods', code: 'GW_METHOD_NOT_ALLOWED', reason: 'DELETE not allowed' };
    log.write(ctx, 0.0012345, false);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('}\n')).toBe(true);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 'info',
      type: 'access',
      pid: process.pid,
      request_id: 'test-request',
      method: 'DELETE',
      path: '/orders/1',
      host: 'api.example',
      status: 405,
      latency_ms: 1.235,
      decision: 'deny',
      policy: 'allowed-methods',
      code: 'GW_METHOD_NOT_ALLOWED',
      reason: 'DELETE not allowed',
      route: null,
      principal: null,
    });
    expect(Date.parse(entry.time as string)).not.toBeNaN();
  });

  it('cannot be made to write a second line or terminal escapes by what a client controls', () => {
    const { lines, log } = capture();
    const ctx = makeContext();
    ctx.path = '/a\r\n{"level":"info","type":"access","forged":true}';
    ctx.host = 'h\u001b[31mred';
    ctx.decision.reason = 'reason with \n newline and \u0000 NUL';
    log.write(ctx, 0.001, true);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.slice(0, -1)).not.toMatch(/[\r\n\u0000\u001b]/);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry.path).toBe(ctx.path);
    expect(entry.forged).toBeUndefined();
    expect(entry.aborted).toBe(true);
  });

  it('carries the W3C trace id, null before one was assigned', () => {
    const { lines, log } = capture();
    const ctx = makeContext();
    log.write(ctx, 0, false);
    ctx.traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    log.write(ctx, 0, false);
    expect(lines.map((l) => (JSON.parse(l) as { trace_id: unknown }).trace_id)).toEqual([null, '4bf92f3577b34da6a3ce929d0e0e4736']);
  });

  it('lists monitor-mode hits', () => {
    const { lines, log } = capture();
    const ctx = makeContext();
    ctx.recordMonitorHit({ policy: 'cors', code: 'GW_CORS_DENIED', reason: 'origin' });
    log.write(ctx, 0, false);
    expect((JSON.parse(lines[0]!) as { monitor: unknown }).monitor).toEqual([{ policy: 'cors', code: 'GW_CORS_DENIED', reason: 'origin' }]);
  });
});

describe('BatchedSink', () => {
  it('hands lines over in batches, in order, once the batch is full', () => {
    const writes: string[] = [];
    const sink = new BatchedSink({ write: (chunk: string) => writes.push(chunk) }, 20, 60_000);
    sink.write('aaaaaaaaa\n');
    expect(writes).toEqual([]);
    sink.write('bbbbbbbbb\n');
    expect(writes).toEqual(['aaaaaaaaa\nbbbbbbbbb\n']);
    sink.close();
  });

  it('flushes a partial batch on its timer and on close, losing nothing', async () => {
    const writes: string[] = [];
    const sink = new BatchedSink({ write: (chunk: string) => writes.push(chunk) }, 1 << 20, 20);
    sink.write('one\n');
    await expect.poll(() => writes, { timeout: 2000 }).toEqual(['one\n']);
    sink.write('two\n');
    sink.close();
    expect(writes).toEqual(['one\n', 'two\n']);
  });
});
