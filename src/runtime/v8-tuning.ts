import v8 from 'node:v8';

/**
 * V8 settings for a gateway process, applied when it starts, before the WAF rule set is built.
 *
 * Allocation-site pretenuring off. V8 watches how many objects from each allocation site survive
 * a young-generation GC, and past a threshold allocates that site's objects straight into the old
 * generation. A gateway's per-request objects (the WAF's per-call memos above all) are alive for
 * the whole request, so whether a GC happened to fall inside requests during the first few
 * hundred decided, per process and at random, that they were long-lived. A process that decided so
 * put ~0.2 MB of garbage per 4 KB JSON body into the old generation and ran the WAF at 1.7-2x the
 * CPU of one that did not: 4 of 8 processes here, same build, same requests (docs/waf.md, the
 * seventh pass). With it off, 8 of 8 ran at the fast figure. Node reads V8 flags set this way
 * from then on; `PORTCULLIS_V8_PRETENURING=default` leaves V8's default, for comparison.
 */
export function tuneV8ForGateway(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.PORTCULLIS_V8_PRETENURING === 'default') return false;
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
  return true;
}
