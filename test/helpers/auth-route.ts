/**
 * A YAML route item (for the `routes:` list of a test config) at `/<name>/*`, forwarded to upstream
 * `up`, behind the authenticate policy with one method of `type` configured by `method` (YAML lines).
 */
export function authRoute(name: string, type: string, method: string): string {
  return `  - name: ${name}
    match: { paths: ["/${name}/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config:
          methods:
            - type: ${type}
              config:
${method
  .trim()
  .split('\n')
  .map((l) => `                ${l}`)
  .join('\n')}
`;
}
