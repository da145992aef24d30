import { definePolicy } from '../../core/policy.js';
import { createIpRestrictionPolicy } from './policy.js';
import { IpRestrictionSchema, type IpRestrictionConfig } from './schema.js';

export const ipRestrictionPolicy = definePolicy<IpRestrictionConfig>({
  name: 'ip-restriction',
  version: '1.0.0',
  phase: 'onRequest',
  description: 'Denies clients by IP address or CIDR block (allow and deny lists, IPv4 and IPv6); deny wins.',
  schema: IpRestrictionSchema,
  supportsMonitor: true,
  defaultFailureMode: 'closed',
  create: (config) => createIpRestrictionPolicy(config),
});
