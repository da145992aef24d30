import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import type { RequestContext } from '../core/context.js';
import type { HeaderList } from '../core/header-list.js';
import type { Pipeline, ResponseBodyPlan } from '../core/pipeline.js';
import { GatewayError } from '../errors/index.js';

type Decoder = (input: InputType, options: ZlibOptions) => Promise<Buffer>;

/** RFC 9110 section 8.4.1 content codings we can undo; `x-gzip` is gzip's old alias (section 8.4.1.3). */
const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: promisify(gunzip) as Decoder,
  'x-gzip': promisify(gunzip) as Decoder,
  deflate: promisify(inflate) as Decoder,
  br: promisify(brotliDecompress) as Decoder,
};

/** Headers that describe the exact bytes the upstream sent: wrong once a policy rewrote them. */
const BYTE_VALIDATORS = ['etag', 'content-md5', 'content-digest', 'repr-digest'];

/**
 * An upstream response held back because a policy must read its body first (see
 * `PolicyInstance.wantsResponseBody`). The cap bounds memory; the forwarder keeps reading the
 * upstream while this fills, and stops (or streams on unchecked) once it would overflow.
 */
export class BufferedResponse {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    readonly plan: ResponseBodyPlan,
    readonly head: HeaderList,
    readonly status: number,
  ) {}

  /** Keeps the chunk; false when it would take the body past the cap (the chunk is then kept too, for `pass`). */
  push(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.size += chunk.length;
    return this.size <= this.plan.request.maxBytes;
  }

  /** What was held so far, for streaming it on unchecked (`overflow: pass`). */
  takeChunks(): Buffer[] {
    const chunks = this.chunks;
    this.chunks = [];
    return chunks;
  }

  /**
   * Decodes the whole body, runs the policies' body hooks, and fixes the head to match what is
   * sent: identity coding, the new length, byte validators dropped when the bytes changed.
   * Gives the body to send, synchronously when the body needs no decoding and every hook is
   * synchronous; throws or rejects with a GatewayError to answer with instead.
   */
  complete(ctx: RequestContext, pipeline: Pipeline): Buffer | Promise<Buffer> {
    const raw = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    if (this.head.get('content-encoding') === undefined) return this.runHooks(ctx, pipeline, raw, raw);
    return this.decode(raw, ctx).then((decoded) => (decoded === undefined ? raw : this.runHooks(ctx, pipeline, raw, decoded)));
  }

  private runHooks(ctx: RequestContext, pipeline: Pipeline, raw: Buffer, decoded: Buffer): Buffer | Promise<Buffer> {
    const body = pipeline.runResponseBody(ctx, this.plan, decoded, this.head, this.status);
    return Buffer.isBuffer(body) ? this.fixHead(raw, decoded, body) : body.then((b) => this.fixHead(raw, decoded, b));
  }

  private fixHead(raw: Buffer, decoded: Buffer, body: Buffer): Buffer {
    if (decoded !== raw) this.head.delete('content-encoding');
    if (body !== decoded || decoded !== raw) for (const name of BYTE_VALIDATORS) this.head.delete(name);
    this.head.set('content-length', String(body.length));
    return body;
  }

  /** The identity-coded body, or undefined when it cannot be checked and the plan lets it pass. */
  private async decode(raw: Buffer, ctx: RequestContext): Promise<Buffer | undefined> {
    const coding = this.head.get('content-encoding');
    if (coding === undefined) return raw;
    const { maxBytes } = this.plan.request;
    let body = raw;
    // Codings are listed in the order they were applied (RFC 9110 section 8.4): undo the last first.
    const codings = coding.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
    try {
      for (const name of codings.reverse()) {
        const decoder = DECODERS[name];
        if (decoder === undefined) return this.cannotCheck(ctx, `unsupported content coding ${name}`);
        body = await decoder(body, { maxOutputLength: maxBytes });
      }
    } catch (error) {
      const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      return this.cannotCheck(ctx, tooLarge ? `decoded body over ${maxBytes} bytes` : `body does not decode as ${coding}`);
    }
    return body;
  }

  private cannotCheck(ctx: RequestContext, reason: string): undefined {
    if (this.plan.request.overflow === 'block') throw responseTooLarge(reason);
    ctx.recordMonitorHit({ policy: this.plan.steps[0]!.name, code: 'GW_RESPONSE_TOO_LARGE', reason: `response body not inspected: ${reason}` });
    return undefined;
  }
}

export function responseTooLarge(reason: string): GatewayError {
  return new GatewayError('GW_RESPONSE_TOO_LARGE', { reason: `response body not inspected: ${reason}` });
}
