const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Milliseconds from a schema-validated duration. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(value);
  if (match === null) throw new Error(`invalid duration "${value}"`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!);
}

/** Bytes from a schema-validated size. */
export function parseByteSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+)(b|kb|mb|gb)$/.exec(value);
  if (match === null) throw new Error(`invalid size "${value}"`);
  return Number(match[1]) * SIZE_UNITS[match[2]!]!;
}
