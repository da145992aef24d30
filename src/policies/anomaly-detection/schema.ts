import { Type, type Static } from '@sinclair/typebox';
import { CidrString, Duration, section, strictObject } from '../../config/types-common.js';

const Action = (defaultValue: 'alert' | 'throttle' | 'ban') =>
  Type.Union([Type.Literal('alert'), Type.Literal('throttle'), Type.Literal('ban')], {
    description: 'What a finding does: alert (log, audit, webhook), throttle the client IP, or ban it for a growing period',
    default: defaultValue,
  });

const Enabled = Type.Boolean({ description: 'Run this detector', default: true });
const Threshold = (description: string, defaultValue: number) => Type.Integer({ description, minimum: 2, maximum: 1_000_000, default: defaultValue });

export const AnomalyDetectionSchema = strictObject(
  {
    subjects: Type.Array(Type.Union([Type.Literal('ip'), Type.Literal('consumer')]), {
      description: 'Whom detectors count for: the client IP, the authenticated consumer, or both. Actions always apply to the client IP',
      default: ['ip', 'consumer'],
      minItems: 1,
    }),
    allowList: Type.Array(CidrString, { description: 'Sources never counted, throttled or banned (monitoring, partners)', default: [], maxItems: 1000 }),
    authFailures: section(
      { enabled: Enabled, threshold: Threshold('401/403 responses within the window that fire', 10), window: Duration('Counting window', '1m'), action: Action('ban') },
      'Bursts of 401/403: credential stuffing and brute force',
    ),
    notFound: section(
      { enabled: Enabled, threshold: Threshold('404 responses within the window that fire', 20), window: Duration('Counting window', '1m'), action: Action('ban') },
      'Bursts of 404: path scanning and probing',
    ),
    enumeration: section(
      {
        enabled: Enabled,
        threshold: Threshold('Sequential identifiers in a row on one route that fire', 20),
        window: Duration('Longest pause inside a run', '1m'),
        maxStep: Type.Integer({ description: 'Largest id difference that still counts as sequential', minimum: 1, maximum: 100, default: 2 }),
        action: Action('ban'),
      },
      'Sequential numeric identifiers on one route: scraping and BOLA probing',
    ),
    rate: section(
      {
        enabled: Enabled,
        interval: Duration('Counting interval', '10s'),
        alpha: Type.Number({ description: 'EWMA weight of the newest interval', exclusiveMinimum: 0, maximum: 1, default: 0.2 }),
        deviations: Type.Number({ description: 'Standard deviations above the baseline mean that fire', minimum: 0, maximum: 100, default: 4 }),
        factor: Type.Number({ description: 'And at least this many times the baseline mean', minimum: 1, maximum: 1000, default: 3 }),
        minRequests: Type.Integer({ description: 'And at least this many requests in the interval', minimum: 1, default: 100 }),
        warmup: Type.Integer({ description: 'Intervals of history before the detector may fire', minimum: 1, maximum: 1000, default: 6 }),
        action: Action('throttle'),
      },
      "Request rate far above the client's own baseline (EWMA mean and variance per interval)",
    ),
    ban: section(
      {
        initial: Duration('First ban period', '5m'),
        multiplier: Type.Number({ description: 'Each further ban within `memory` lasts this many times longer', minimum: 1, maximum: 100, default: 4 }),
        max: Duration('Longest ban period', '24h'),
        memory: Duration('How long earlier bans count toward a longer one', '24h'),
      },
      'Ban periods, shared by every process through the StateStore',
    ),
    throttle: section(
      {
        duration: Duration('How long a throttled IP stays throttled', '1m'),
        perSecond: Type.Integer({ description: 'Requests per second a throttled IP may still make (per process)', minimum: 0, maximum: 10_000, default: 1 }),
      },
      'Throttling',
    ),
    webhooks: section(
      {
        targets: Type.Array(
          strictObject(
            {
              url: Type.String({ description: 'Receiver URL, http:// or https://', pattern: '^https?://' }),
              secret: Type.String({ description: 'Signing secret, "whsec_" + base64 (Standard Webhooks); use ${ENV:NAME}', pattern: '^whsec_[A-Za-z0-9+/=]+$', secret: true }),
            },
            'A webhook receiver',
          ),
          { description: 'Where alerts go, signed the Standard Webhooks way (webhook-id, webhook-timestamp, webhook-signature)', default: [], maxItems: 10 },
        ),
        timeout: Duration('Time for one delivery attempt', '5s'),
        maxAttempts: Type.Integer({ description: 'Attempts per delivery, the first included (retries on network errors, 408, 429, 5xx)', minimum: 1, maximum: 10, default: 5 }),
        backoff: Duration('First retry delay; doubles each time, with jitter', '1s'),
        dedupeWindow: Duration('The same alert (subject, detector, action) is sent once per window', '10m'),
      },
      'Alert webhooks: every finding is sent, whatever its action',
    ),
    refresh: Duration('How often each process re-reads the shared ban list (bans also arrive at once by publish)', '5s'),
  },
  'Anomaly detection and automatic response',
);

export type AnomalyDetectionConfig = Static<typeof AnomalyDetectionSchema>;
