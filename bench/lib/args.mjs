// Command-line options of bench/run.mjs.
import { parseArgs } from 'node:util';
import { REFERENCE_NAME, SCENARIO_NAMES } from './scenarios.mjs';

export const USAGE = `Usage: npm run bench -- [options]   (or: node bench/run.mjs [options])

  --duration S       seconds per measured run (default 10)
  --warmup S         seconds of warm-up load per scenario, discarded (default 2; 0 disables)
  --connections N    concurrent client connections (default 50)
  --runs N           measured runs per scenario; the run with the median req/s is reported (default 1)
  --only a,b         run only these scenarios: ${SCENARIO_NAMES.join(', ')}
  --json FILE        also write the results as JSON to FILE
  --load KIND        load generator: auto (wrk if installed, else autocannon), wrk or autocannon
  --upstream KIND    upstream: auto (nginx if available, else a Node server), nginx or node
  --no-install       never try apt-get when nginx is missing
  --keep-tmp         keep the temp dir (generated configs) and print its path
  -h, --help         this text
`;

function int(name, value, min, max) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** Parsed options, or throws an Error whose message is meant for the user. */
export function parseOptions(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      runs: { type: 'string', default: '1' },
      only: { type: 'string' },
      json: { type: 'string' },
      load: { type: 'string', default: 'auto' },
      upstream: { type: 'string', default: 'auto' },
      'no-install': { type: 'boolean', default: false },
      'keep-tmp': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length) throw new Error(`unexpected argument "${positionals[0]}"`);
  const only = values.only
    ? values.only.split(',').map((s) => s.trim()).filter(Boolean)
    : [...SCENARIO_NAMES];
  for (const name of only) {
    if (!SCENARIO_NAMES.includes(name) && name !== REFERENCE_NAME) {
      throw new Error(`unknown scenario "${name}"; known: ${SCENARIO_NAMES.join(', ')}`);
    }
  }
  if (!['auto', 'wrk', 'autocannon'].includes(values.load)) throw new Error('--load must be auto, wrk or autocannon');
  if (!['auto', 'nginx', 'node'].includes(values.upstream)) throw new Error('--upstream must be auto, nginx or node');
  if (values.json === '') throw new Error('--json needs a file name');
  return {
    help: values.help,
    duration: int('duration', values.duration, 1, 600),
    warmup: int('warmup', values.warmup, 0, 60),
    connections: int('connections', values.connections, 1, 10_000),
    runs: int('runs', values.runs, 1, 20),
    only,
    json: values.json,
    load: values.load,
    upstream: values.upstream,
    install: !values['no-install'],
    keepTmp: values['keep-tmp'],
  };
}
