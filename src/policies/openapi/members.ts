import type { RequestContext } from '../../core/context.js';

/**
 * Object members and array elements, at every depth. Ajv only ever deletes members when it strips
 * (`removeAdditional`, `writeOnly`), so fewer members after validation means the value changed:
 * counting is far cheaper than re-serialising every body to compare. `for...in` skips the holes
 * `delete` leaves in arrays; JSON values have no inherited enumerable members.
 */
export function countMembers(root: unknown): number {
  let count = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    for (const key in value) {
      count++;
      const member = (value as Record<string, unknown>)[key];
      if (member !== null && typeof member === 'object') stack.push(member);
    }
  }
  return count;
}

/**
 * Sends `value` upstream instead of the body the client sent (`unknownBodyProperties: remove`):
 * re-serialised into `ctx.body`, with a Content-Length that matches (the client's is replaced; a
 * chunked request gets one, since the buffered body is sent whole).
 */
export function replaceJsonBody(ctx: RequestContext, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  ctx.body = body;
  ctx.parsedBody = { value };
  ctx.setUpstreamHeader('content-length', String(body.length));
}
