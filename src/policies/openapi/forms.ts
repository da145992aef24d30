import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import { GatewayError } from '../../errors/index.js';

/** Limits for form bodies, parsed from config once. */
export interface FormLimits {
  readonly maxFields: number;
  readonly maxFiles: number;
  readonly maxFieldBytes: number;
  readonly maxFileBytes: number;
}

export type FormObject = Record<string, string | string[]>;

function add(out: FormObject, name: string, value: string): void {
  const current = out[name];
  if (current === undefined) out[name] = value;
  else if (Array.isArray(current)) current.push(value);
  else out[name] = [current, value];
}

function tooMany(what: string): GatewayError {
  return new GatewayError('GW_REQUEST_INVALID', {
    reason: `openapi: form body over the ${what} limit`,
    detail: 'The request does not match the API description.',
    extensions: { errors: [{ pointer: '/body', detail: `exceeds the ${what} limit` }] },
  });
}

/**
 * `application/x-www-form-urlencoded` (WHATWG URL standard section 5.1) as an object: a repeated
 * name becomes an array; the `param` Ajv then coerces strings to the declared types.
 */
export function parseUrlEncoded(body: Buffer, limits: FormLimits): FormObject {
  const out: FormObject = Object.create(null) as FormObject;
  let fields = 0;
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (++fields > limits.maxFields) throw tooMany('field count');
    if (Buffer.byteLength(value) > limits.maxFieldBytes) throw tooMany('field size');
    add(out, name, value);
  }
  return out;
}

/**
 * `multipart/form-data` (RFC 7578) with @fastify/busboy, the parser Fastify and undici use. Field
 * values become strings; a file part becomes its file name (the schema usually says
 * `type: string, format: binary`), its bytes are only counted. The buffered body still goes
 * upstream untouched.
 */
export function parseMultipart(body: Buffer, contentType: string, limits: FormLimits): Promise<FormObject> {
  return new Promise((resolve, reject) => {
    const out: FormObject = Object.create(null) as FormObject;
    let parser: BusboyInstance;
    try {
      parser = new Busboy({
        headers: { 'content-type': contentType },
        limits: { fields: limits.maxFields, files: limits.maxFiles, fieldSize: limits.maxFieldBytes, fileSize: limits.maxFileBytes, parts: limits.maxFields + limits.maxFiles },
      });
    } catch (error) {
      reject(new GatewayError('GW_BODY_INVALID', { reason: `openapi: multipart body unreadable (${(error as Error).message})`, detail: 'The request body is not valid multipart/form-data.' }));
      return;
    }
    let failure: GatewayError | undefined;
    const fail = (error: GatewayError) => (failure ??= error);
    parser.on('field', (name: string, value: string, _nameTruncated: boolean, valueTruncated: boolean) => {
      if (valueTruncated) fail(tooMany('field size'));
      else add(out, name, value);
    });
    parser.on('file', (name: string, stream: BusboyFileStream, filename: string) => {
      stream.on('limit', () => fail(tooMany('file size')));
      stream.resume();
      add(out, name, filename);
    });
    parser.on('fieldsLimit', () => fail(tooMany('field count')));
    parser.on('filesLimit', () => fail(tooMany('file count')));
    parser.on('partsLimit', () => fail(tooMany('part count')));
    parser.on('error', (error: unknown) =>
      reject(failure ?? new GatewayError('GW_BODY_INVALID', { reason: `openapi: multipart body unreadable (${String(error)})`, detail: 'The request body is not valid multipart/form-data.' })),
    );
    parser.on('finish', () => (failure === undefined ? resolve(out) : reject(failure)));
    parser.end(body);
  });
}
