import { definePolicy } from '../../core/policy.js';
import { createAnomalyDetectionPolicy } from './policy.js';
import { AnomalyDetectionSchema, type AnomalyDetectionConfig } from './schema.js';

export const anomalyDetectionPolicy = definePolicy<AnomalyDetectionConfig>({
  name: 'anomaly-detection',
  version: '1.0.0',
  phase: 'onRequest',
  description:
    'Detects credential stuffing, scanning, enumeration and rate anomalies per IP and consumer, and alerts, throttles or bans (shared through the StateStore).',
  schema: AnomalyDetectionSchema,
  supportsMonitor: true,
  defaultFailureMode: 'open',
  create: (config, deps) => createAnomalyDetectionPolicy(config, deps),
});
