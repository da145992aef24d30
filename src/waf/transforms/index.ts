import type { Transform } from '../types.js';
import * as basic from './basic.js';
import * as decode from './decode.js';
import { normalizePath, normalizePathWin } from './path.js';

/** Every transformation by its lower-cased SecLang name (`t:urlDecodeUni`). */
const TRANSFORMS: Record<string, Transform> = {
  lowercase: basic.lowercase,
  uppercase: (s) => s.replace(/[a-z]+/g, (m) => m.toUpperCase()),
  compresswhitespace: basic.compressWhitespace,
  removewhitespace: basic.removeWhitespace,
  removenulls: basic.removeNulls,
  replacenulls: (s) => s.replace(/\0/g, ' '),
  replacecomments: basic.replaceComments,
  removecommentschar: basic.removeCommentsChar,
  removecomments: (s) => basic.replaceComments(s).replace(/ $/, ''),
  cmdline: basic.cmdLine,
  trim: basic.trim,
  trimleft: (s) => s.replace(/^[\t\n\v\f\r ]+/, ''),
  trimright: (s) => s.replace(/[\t\n\v\f\r ]+$/, ''),
  length: basic.length,
  sha1: basic.sha1,
  md5: basic.md5,
  hexencode: basic.hexEncode,
  hexdecode: basic.hexDecode,
  base64decode: basic.base64Decode,
  base64decodeext: basic.base64DecodeExt,
  base64encode: (s) => Buffer.from(s, 'latin1').toString('base64'),
  urlencode: basic.urlEncode,
  urldecode: decode.urlDecode,
  urldecodeuni: decode.urlDecodeUni,
  htmlentitydecode: decode.htmlEntityDecode,
  jsdecode: decode.jsDecode,
  cssdecode: decode.cssDecode,
  escapeseqdecode: decode.escapeSeqDecode,
  utf8tounicode: decode.utf8toUnicode,
  normalizepath: normalizePath,
  normalisepath: normalizePath,
  normalizepathwin: normalizePathWin,
  normalisepathwin: normalizePathWin,
  // Not a transformation of the value: ModSecurity uses it to mark a rule as alerting only.
  alert: (s) => s,
};

/** The transformation named, or undefined when SecLang has no such name. */
export function lookupTransform(name: string): Transform | undefined {
  return TRANSFORMS[name.toLowerCase()];
}

/**
 * The transformations (lower-cased names) whose result is never longer than their input, and
 * empty for an empty input: decoders (an escape is longer than what it stands for), removals, case
 * changes. A value too short for every rule that reads it after such steps stays too short
 * (compile/length-gates.ts). Left out because they can lengthen: length (`''` gives `0`), sha1, md5,
 * hexEncode, base64Encode, urlEncode, utf8toUnicode, and normalizePath (`../..` gives `../../`: a
 * trailing `..` keeps its slash). transforms.test.ts tries each listed on generated input.
 */
export const NEVER_LENGTHENS: ReadonlySet<string> = new Set([
  'lowercase', 'uppercase', 'compresswhitespace', 'removewhitespace', 'removenulls', 'replacenulls', 'replacecomments',
  'removecommentschar', 'removecomments', 'cmdline', 'trim', 'trimleft', 'trimright', 'hexdecode', 'base64decode',
  'base64decodeext', 'urldecode', 'urldecodeuni', 'htmlentitydecode', 'jsdecode', 'cssdecode', 'escapeseqdecode',
  'alert',
]);

/** One gated transformation per (name, floor): steps gated alike share it, and with it their nodes' results (engine/collection-memo.ts). */
const gated = new Map<string, Transform>();

/**
 * Transformation `name` whose results shorter than `floor` chars become `''`: no rule that reads
 * them could match them (compile/length-gates.ts). base64Decode knows its result's length from its
 * input's alphabet prefix and skips decoding what it would drop: the CRS base64-decodes every
 * argument name and value (934100, 934160), and ordinary ones decode to a few bytes.
 */
export function gatedTransform(name: string, floor: number): Transform {
  const key = `${name.toLowerCase()}#${floor}`;
  let gate = gated.get(key);
  if (gate === undefined) {
    const fn = lookupTransform(name);
    if (fn === undefined) throw new Error(`transformation t:${name} is not supported`);
    gate = key.startsWith('base64decode#') ? (s) => basic.base64DecodeAtLeast(s, floor) : (s) => {
      const out = fn(s);
      return out.length < floor ? '' : out;
    };
    gated.set(key, gate);
  }
  return gate;
}
