export function detectXss(input: string): boolean {
  return /<script|javascript:|\bon\w+\s*=/i.test(input);
}
