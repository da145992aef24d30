const ENV_REF = /\$\{ENV:([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface EnvProblem {
  path: (string | number)[];
  name: string;
}

/**
 * Replaces `${ENV:NAME}` inside string values, after YAML parsing, so a secret's value can never
 * change the document's structure. Missing variables are reported, never replaced by ''.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: (string | number)[] = [], problems: EnvProblem[] = []): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${ENV:')) return value;
    return value.replace(ENV_REF, (_match, name: string) => {
      const found = env[name];
      if (found === undefined) {
        problems.push({ path, name });
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, [...path, i], problems));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnv(item, env, [...path, key], problems);
    return out;
  }
  return value;
}
