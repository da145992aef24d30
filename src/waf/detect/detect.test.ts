import { describe, expect, it } from 'vitest';
import { detectSqli } from './sqli.js';
import { detectXss } from './xss.js';

describe('@detectSQLi tokenizer', () => {
  const attacks = [
    "1' OR '1'='1", '1234 OR 1=1', "x') UNION ALL SELECT NULL --", "admin'--", '1;DROP TABLE users', 'sleep(5)',
    "foo' and sleep(12) --", '-1 union select password from users', "2010-01-01'+sleep(20)+'",
  ];
  const benign = [
    'hello world', "O'Reilly", "don't and won't", 'rock and roll', 'order by date', 'SELECT your plan',
    'Mozilla/5.0 (X11; Linux x86_64)', 'text/html,application/xhtml+xml', 'en-US,en;q=0.9', "Let's meet at 5 or 6",
  ];
  it.each(attacks)('flags %s', (value) => expect(detectSqli(value)).toBeDefined());
  it.each(benign)('lets %s through', (value) => expect(detectSqli(value)).toBeUndefined());
});

describe('@detectXSS tokenizer', () => {
  const attacks = [
    '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '" onmouseover="alert(1)', '<svg/onload=alert(1)>', 'javascript:alert(document.cookie)', '<iframe src=//evil>',
  ];
  const benign = ['hello <b>world</b>', 'a < b and c > d', 'Tom & Jerry', 'https://example.com/?a=1', '<p class="note">hi</p>', 'the onion = vegetable'];
  it.each(attacks)('flags %s', (value) => expect(detectXss(value)).toBe(true));
  it.each(benign)('lets %s through', (value) => expect(detectXss(value)).toBe(false));
});
