import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { WafRequest, WafResponse } from '../request.js';
import type { Transaction } from '../engine/transaction.js';
import { decodeUri, namesOf, parseUrlEncoded, type Arguments, type Collection } from './collection.js';
import { flattenJson } from './json.js';
import { parseMultipart } from './multipart.js';
import { looksLikeXml, xmlTexts } from './xml.js';

/**
 * UNIQUE_ID must be unique per transaction, not secret (ModSecurity derives it from the time and an
 * address; the CRS only hashes it for its sampling rule, 901410): a random per-process prefix and
 * a counter, instead of 12 random bytes per request (a `randomFillSync` call each).
 */
const UNIQUE_PREFIX = randomBytes(8).toString('hex');
let uniqueCounter = 0;
function uniqueId(): string {
  uniqueCounter = (uniqueCounter + 1) % Number.MAX_SAFE_INTEGER;
  return UNIQUE_PREFIX + uniqueCounter.toString(16).padStart(8, '0');
}

/**
 * A `*_NAMES` view of `source`, unless no rule of the rule set reads it (Transaction.unreadViews):
 * a 4 KB JSON body's ARGS_POST_NAMES is ~230 entries that nothing reads (the CRS reads ARGS_NAMES).
 */
function setNames(tx: Transaction, source: Collection, name: string, keyClasses?: Int32Array): void {
  if (!tx.unreadViews.has(name)) tx.collections.set(name, namesOf(source, name, keyClasses));
}

/** The request-line and header variables (phase 1), built as ModSecurity v3's processURI and addRequestHeader build them. */
export function populateRequestHeaders(tx: Transaction, req: WafRequest): void {
  const s = tx.scalars;
  const uri = req.uri;
  const q = uri.indexOf('?');
  const decoded = decodeUri(uri);
  let parsed = decoded;
  // An absolute-form target (RFC 9112 section 3.2.2): the variables name its path, not its authority.
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(decoded);
  if (abs) parsed = decoded.slice(abs[0].length) || '/';
  const dq = parsed.indexOf('?');
  const filename = dq === -1 ? parsed : parsed.slice(0, dq);
  s.set('REQUEST_METHOD', req.method);
  s.set('REQUEST_PROTOCOL', req.protocol);
  s.set('REQUEST_LINE', `${req.method} ${uri} ${req.protocol}`);
  s.set('REQUEST_URI_RAW', uri);
  s.set('REQUEST_URI', parsed);
  s.set('REQUEST_FILENAME', filename);
  const slash = Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\'));
  s.set('REQUEST_BASENAME', slash === -1 ? filename : filename.slice(slash + 1));
  s.set('QUERY_STRING', q === -1 ? '' : uri.slice(q + 1));
  s.set('REMOTE_ADDR', req.remoteAddr);
  s.set('REMOTE_PORT', String(req.remotePort ?? 0));
  s.set('SERVER_PORT', String(req.serverPort ?? 80));
  s.set('UNIQUE_ID', uniqueId());
  s.set('REQBODY_ERROR', '0');
  s.set('REQBODY_PROCESSOR_ERROR', '0');
  const headers = tx.collection('REQUEST_HEADERS');
  const cookies = tx.collection('REQUEST_COOKIES');
  for (const [name, value] of req.headers) {
    headers.add(name, value);
    if (name.toLowerCase() === 'host') s.set('SERVER_NAME', value.replace(/:\d+$/, ''));
    if (name.toLowerCase() !== 'cookie') continue;
    for (const part of value.split(';')) {
      const item = part.replace(/^\s+/, '');
      if (item === '') continue;
      const eq = item.indexOf('=');
      cookies.add(eq === -1 ? item : item.slice(0, eq), eq === -1 ? '' : item.slice(eq + 1));
    }
  }
  setNames(tx, headers, 'REQUEST_HEADERS_NAMES');
  setNames(tx, cookies, 'REQUEST_COOKIES_NAMES');
  const query = parseUrlEncoded(q === -1 ? '' : uri.slice(q + 1));
  const get = tx.collection('ARGS_GET');
  get.assign(query.keys, query.values);
  setNames(tx, get, 'ARGS_GET_NAMES');
  rebuildArgs(tx, NO_ARGUMENTS);
  // ModSecurity picks these two processors from Content-Type by itself; JSON and XML are chosen by
  // the rules (modsecurity.conf-recommended 200000/200001, which the engine loads first).
  const type = (headers.byKey('content-type')[0]?.value ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) tx.bodyProcessor = 'URLENCODED';
  else if (type.startsWith('multipart/form-data')) tx.bodyProcessor = 'MULTIPART';
  s.set('REQBODY_PROCESSOR', tx.bodyProcessor ?? '');
}

const NO_ARGUMENTS: Arguments = Object.freeze({ keys: Object.freeze([]), values: Object.freeze([]) });

/**
 * ARGS: the query's arguments, then the body's (`posted`, which ARGS_POST holds too when a rule
 * reads it). Run in phase 1 and again in phase 2 for a body; ARGS_GET and its names are the
 * query's, built once in phase 1.
 */
function rebuildArgs(tx: Transaction, posted: Arguments): void {
  const args = tx.collection('ARGS');
  const get = tx.collection('ARGS_GET');
  // concat, not push(...): a body's arguments can outnumber what a call's arguments may hold.
  const fromQuery = get.size !== 0;
  const keys = fromQuery ? get.keys.concat(posted.keys) : posted.keys;
  const values = fromQuery ? get.values.concat(posted.values) : posted.values;
  // The body parser's char classes (JSON's), when ARGS is the body's arguments alone.
  const keyClasses = fromQuery ? undefined : posted.keyClasses;
  const valueClasses = fromQuery ? undefined : posted.valueClasses;
  args.assign(keys, values, valueClasses);
  let size = 0;
  for (let i = 0; i < keys.length; i++) size += keys[i]!.length + values[i]!.length;
  if (!tx.unreadViews.has('ARGS_POST')) {
    const post = tx.collection('ARGS_POST');
    post.assign(posted.keys, posted.values, posted.valueClasses);
    setNames(tx, post, 'ARGS_POST_NAMES', posted.keyClasses);
  }
  setNames(tx, args, 'ARGS_NAMES', keyClasses);
  tx.scalars.set('ARGS_COMBINED_SIZE', String(size));
}

/** A JSON body's arguments: one that is not JSON keeps those read before the error, as yajl's callbacks did. */
function jsonArguments(tx: Transaction, body: string, bytes: Buffer): Arguments {
  const json = flattenJson(body, isUtf8(bytes));
  if (json.error !== undefined) bodyError(tx, json.error);
  return json;
}

function bodyError(tx: Transaction, message: string): void {
  tx.scalars.set('REQBODY_ERROR', '1');
  tx.scalars.set('REQBODY_PROCESSOR_ERROR', '1');
  tx.scalars.set('REQBODY_ERROR_MSG', message);
}

/** The body variables (phase 2), with the processor the rules chose. */
export function populateRequestBody(tx: Transaction, req: WafRequest): void {
  const body = req.body === undefined ? '' : req.body.toString('latin1');
  const s = tx.scalars;
  // As in ModSecurity: REQUEST_BODY exists for URLENCODED bodies, or when a rule forced it (CRS 901340).
  if (tx.bodyProcessor === 'URLENCODED' || tx.forceRequestBody) s.set('REQUEST_BODY', body);
  s.set('REQUEST_BODY_LENGTH', String(body.length));
  s.set('REQBODY_PROCESSOR', tx.bodyProcessor ?? '');
  if (body === '') return;
  const type = tx.collection('REQUEST_HEADERS').byKey('content-type')[0]?.value ?? '';
  // The body's arguments, in order: ARGS_POST's entries, also when no rule reads ARGS_POST itself.
  let posted = NO_ARGUMENTS;
  try {
    if (tx.bodyProcessor === 'URLENCODED') posted = parseUrlEncoded(body);
    else if (tx.bodyProcessor === 'JSON') posted = jsonArguments(tx, body, req.body!);
    else if (tx.bodyProcessor === 'XML') {
      if (!looksLikeXml(body)) bodyError(tx, 'XML parsing error');
      const xml = tx.collection('XML');
      const { texts, attributes } = xmlTexts(body);
      for (const text of texts) xml.add('/*', text);
      for (const value of attributes) xml.add('//@*', value);
    } else if (tx.bodyProcessor === 'MULTIPART') posted = populateMultipart(tx, body, type);
  } catch (error) {
    bodyError(tx, (error as Error).message);
  }
  rebuildArgs(tx, posted);
}

/** The multipart variables; returns the parts without a filename, as the body's arguments. */
function populateMultipart(tx: Transaction, body: string, type: string): Arguments {
  const result = parseMultipart(body, type);
  const keys: string[] = [];
  const values: string[] = [];
  const files = tx.collection('FILES');
  const sizes = tx.collection('FILES_SIZES');
  const partHeaders = tx.collection('MULTIPART_PART_HEADERS');
  let combined = 0;
  for (const part of result.parts) {
    for (const h of part.headers) partHeaders.add(part.name, h);
    if (part.filename === undefined) {
      keys.push(part.name);
      values.push(part.value);
    } else {
      files.add(part.name, part.filename);
      sizes.add(part.name, String(part.value.length));
      combined += part.value.length;
    }
  }
  setNames(tx, files, 'FILES_NAMES');
  tx.scalars.set('FILES_COMBINED_SIZE', String(combined));
  tx.scalars.set('MULTIPART_STRICT_ERROR', result.strictError ? '1' : '0');
  tx.scalars.set('MULTIPART_UNMATCHED_BOUNDARY', result.unmatchedBoundary ? '1' : '0');
  if (result.error !== undefined) bodyError(tx, result.error);
  return { keys, values };
}

/** Response variables (phases 3 and 4). */
export function populateResponse(tx: Transaction, res: WafResponse, bodyLimit: number): void {
  tx.scalars.set('RESPONSE_STATUS', String(res.status));
  tx.scalars.set('RESPONSE_PROTOCOL', res.protocol);
  const headers = tx.collection('RESPONSE_HEADERS');
  for (const [k, v] of res.headers) headers.add(k, v);
  setNames(tx, headers, 'RESPONSE_HEADERS_NAMES');
  const body = res.body === undefined ? '' : res.body.subarray(0, bodyLimit).toString('latin1');
  tx.scalars.set('RESPONSE_BODY', body);
  tx.scalars.set('RESPONSE_CONTENT_LENGTH', String(body.length));
}
