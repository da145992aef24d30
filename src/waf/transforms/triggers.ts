/**
 * Which chars a transformation needs to see before it can change a value. A value is summed up
 * once as the classes of chars it holds (`charClasses`); a step whose trigger classes are all
 * absent returns the value unchanged, so the engine skips the call. A 4 KB JSON body has ~400
 * values and the CRS ~35 transformation nodes: 16,000 calls a request, nearly all of which found
 * nothing to decode, fold or strip. transforms.test.ts checks every trigger against its
 * transformation on random strings that avoid it.
 */

export const UPPER = 1 << 0; // A-Z
export const HIGH = 1 << 1; // 0x80 and above (non-ASCII bytes, NBSP)
export const SPACE = 1 << 2; // \t \n \v \f \r and ' '
export const NUL = 1 << 3;
export const PERCENT = 1 << 4; // % and +: URL encoding
export const AMP = 1 << 5; // &: HTML entities
export const BACKSLASH = 1 << 6;
export const SLASH = 1 << 7;
/** The value is exactly `.`: the only value without a slash that normalizePath changes (to ``). */
export const LONE_DOT = 1 << 8;
export const STAR = 1 << 9;
export const DASH = 1 << 10;
export const HASH = 1 << 11;
export const SHELL = 1 << 12; // " ' ^ , ; : what cmdLine drops or spaces besides whitespace and \
/** The other ASCII control chars (1-8, 14-31, 127): what `@validateByteRange` ranges usually leave out. */
export const CONTROL = 1 << 13;
/**
 * NBSP (0xa0), besides HIGH: the one byte above 0x7f the whitespace steps act on. A base64-decoded
 * value is mostly bytes above 0x7f; with HIGH as their trigger, 934100's last `t:removeWhitespace`
 * ran on every decoded argument and name of a JSON body.
 */
export const NBSP = 1 << 14;
/** Set for every value, the empty one too: only ALWAYS includes it. */
export const ANY = 1 << 15;
/** The trigger of a transformation that may change any value (base64Decode, length); as a class gate, none. */
export const ALWAYS = (1 << 16) - 1;

/** By byte (every engine value is a latin1 string: its chars are bytes). */
const CLASS_OF = new Uint16Array(256);
/** The class of each byte, for readers that see a value's chars anyway (the JSON body's parser). */
export const BYTE_CLASSES: Readonly<Uint16Array> = CLASS_OF;
const mark = (chars: string, cls: number) => {
  for (const ch of chars) CLASS_OF[ch.charCodeAt(0)] = cls;
};
mark('ABCDEFGHIJKLMNOPQRSTUVWXYZ', UPPER);
mark('\t\n\v\f\r ', SPACE);
mark('\0', NUL);
mark('%+', PERCENT);
mark('&', AMP);
mark('\\', BACKSLASH);
mark('/', SLASH);
mark('*', STAR);
mark('-', DASH);
mark('#', HASH);
mark('"\'^,;', SHELL);
for (let c = 1; c < 32; c++) if (CLASS_OF[c] === 0) CLASS_OF[c] = CONTROL;
CLASS_OF[127] = CONTROL;
CLASS_OF.fill(HIGH, 128);
CLASS_OF[0xa0] = HIGH | NBSP;

/** The classes of the chars `s` holds (an OR of the constants above). */
export function charClasses(s: string): number {
  let classes = ANY;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    classes |= c < 256 ? CLASS_OF[c]! : HIGH;
  }
  return s === '.' ? classes | LONE_DOT : classes;
}

/**
 * Per transformation (lower-cased SecLang name): the classes without which it returns its input.
 * Each follows the transformation's own fast path in basic.ts, decode.ts and path.ts. A name not
 * listed gets ALWAYS.
 */
const TRIGGERS: Record<string, number> = {
  lowercase: UPPER,
  compresswhitespace: SPACE | NBSP,
  removewhitespace: SPACE | NBSP,
  removenulls: NUL,
  replacenulls: NUL,
  replacecomments: SLASH,
  removecommentschar: SLASH | STAR | DASH | HASH,
  // removeComments also drops a trailing space.
  removecomments: SLASH | SPACE,
  cmdline: BACKSLASH | SHELL | SPACE | UPPER,
  trim: SPACE,
  trimleft: SPACE,
  trimright: SPACE,
  urldecode: PERCENT,
  urldecodeuni: PERCENT,
  htmlentitydecode: AMP,
  jsdecode: BACKSLASH,
  cssdecode: BACKSLASH,
  escapeseqdecode: BACKSLASH,
  utf8tounicode: HIGH,
  // Every JSON argument name holds dots (`json.items.0.name`): a dot alone wakes nothing.
  normalizepath: SLASH | LONE_DOT,
  normalisepath: SLASH | LONE_DOT,
  normalizepathwin: SLASH | LONE_DOT | BACKSLASH,
  normalisepathwin: SLASH | LONE_DOT | BACKSLASH,
  none: 0,
  alert: 0,
};

/**
 * The classes one of which a value must hold to contain one of `bytes` (0-255): an operator that
 * can only match such a value gets this as its class gate (Rule.classGate). ALWAYS, no gate, when
 * some byte has no class of its own (a letter, a digit): then no class stands for it.
 */
export function classesOfBytes(bytes: Iterable<number>): number {
  let gate = 0;
  for (const b of bytes) {
    const cls = CLASS_OF[b]!;
    if (cls === 0) return ALWAYS;
    gate |= cls;
  }
  return gate;
}

export function triggerOf(name: string): number {
  return TRIGGERS[name.toLowerCase()] ?? ALWAYS;
}
