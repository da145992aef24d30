/**
 * The request's way through the gateway (docs/architecture.md). A policy declares the phase its
 * `handle` runs in; `onResponse` and `log` hooks are optional on any policy and run for every request
 * that reached the policy's route, in reverse order for responses.
 */
export const PHASES = ['onRequest', 'inspect', 'authenticate', 'authorize', 'limit', 'onResponse', 'log'] as const;
export type Phase = (typeof PHASES)[number];

export const PHASE_RANK: Readonly<Record<Phase, number>> = Object.freeze({
  onRequest: 0,
  inspect: 1,
  authenticate: 2,
  authorize: 3,
  limit: 4,
  onResponse: 5,
  log: 6,
});
