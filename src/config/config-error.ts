/** One problem in a config file, located as precisely as the YAML allows. */
export interface ConfigIssue {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** Dotted path of the field, such as `routes[0].forward.upstream`. */
  readonly field: string;
  readonly message: string;
}

/** A config that cannot be used. Carries every issue found, not just the first. */
export class ConfigError extends Error {
  readonly code = 'GW_CONFIG_INVALID';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    // The same problem can be found once per route generated from one source (config/openapi-routes.ts): said once.
    const unique = [...new Map(issues.map((i) => [formatIssue(i), i])).values()];
    super(`invalid config:\n${unique.map(formatIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = unique;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  return `${where}: ${issue.field || '(root)'}: ${issue.message}`;
}

/** `['routes', 0, 'forward']` -> `routes[0].forward` */
export function fieldName(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}
