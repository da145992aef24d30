import type { SENSITIVE_KINDS } from './schema.js';

export type SensitiveKind = (typeof SENSITIVE_KINDS)[number];

/**
 * Detectors for data an API should not leak in responses. Each regex finds candidates; cards are
 * confirmed with the Luhn check (ISO/IEC 7812-1 annex B) so order numbers do not trip it. Patterns
 * are linear (no nested quantifiers) and run only on strings inside JSON responses.
 */
interface Detector {
  readonly pattern: RegExp;
  readonly confirm?: (match: string) => boolean;
}

function luhn(match: string): boolean {
  const digits = match.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const DETECTORS: Readonly<Record<SensitiveKind, Detector>> = {
  card: { pattern: /(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])/g, confirm: luhn },
  email: { pattern: /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}/g },
  // A JWS compact serialisation whose header and payload are base64url JSON objects (RFC 7515 section 7.1).
  jwt: { pattern: /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g },
  // Our own API keys (src/auth/api-key/format.ts).
  'api-key': { pattern: /pcl_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}/g },
  'private-key': { pattern: /-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY-----[^-]*-----END (?:[A-Z0-9]+ )?PRIVATE KEY-----/g },
  // US Social Security numbers: area 000, 666 and 9xx, group 00 and serial 0000 are never issued.
  'us-ssn': { pattern: /(?<![0-9])(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9])/g },
};

export interface SensitiveFinding {
  readonly kind: SensitiveKind;
  readonly pointer: string;
}

export class SensitiveScanner {
  private readonly detectors: readonly [SensitiveKind, Detector][];

  constructor(kinds: readonly SensitiveKind[]) {
    this.detectors = kinds.map((k) => [k, DETECTORS[k]]);
  }

  get enabled(): boolean {
    return this.detectors.length > 0;
  }

  /**
   * Walks a parsed JSON value iteratively; with `mask`, matching text is replaced in place by
   * `[redacted <kind>]`. Returns what was found (kinds and where, never the values) and the value
   * (a new one only when the root itself was a masked string).
   */
  scan(root: unknown, mask: boolean): { findings: SensitiveFinding[]; value: unknown } {
    const findings: SensitiveFinding[] = [];
    const stack: { holder: Record<string, unknown> | unknown[]; key: string | number; pointer: string }[] = [];
    const box = { v: root };
    stack.push({ holder: box as unknown as Record<string, unknown>, key: 'v', pointer: '' });
    while (stack.length > 0) {
      const { holder, key, pointer } = stack.pop()!;
      const value = (holder as Record<string | number, unknown>)[key];
      if (typeof value === 'string') {
        let text = value;
        for (const [kind, detector] of this.detectors) {
          text = text.replace(detector.pattern, (match) => {
            if (detector.confirm !== undefined && !detector.confirm(match)) return match;
            findings.push({ kind, pointer });
            return mask ? `[redacted ${kind}]` : match;
          });
        }
        if (text !== value) (holder as Record<string | number, unknown>)[key] = text;
      } else if (Array.isArray(value)) {
        value.forEach((_, i) => stack.push({ holder: value, key: i, pointer: `${pointer}/${i}` }));
      } else if (value !== null && typeof value === 'object') {
        for (const k of Object.keys(value)) stack.push({ holder: value as Record<string, unknown>, key: k, pointer: `${pointer}/${k}` });
      }
    }
    return { findings, value: box.v };
  }
}
