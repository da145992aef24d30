import { Type, type Static } from '@sinclair/typebox';
import { CidrString } from '../../config/types-common.js';

/** Large enough for a cloud provider's published ranges, small enough to bound memory per route. */
const MAX_ENTRIES = 10_000;

export const IpRestrictionSchema = Type.Object(
  {
    allow: Type.Array(CidrString, {
      description:
        'Addresses and CIDR blocks allowed to call the route. When non-empty, every other client is denied; ' +
        'when empty, every client not in `deny` is allowed',
      default: [],
      maxItems: MAX_ENTRIES,
    }),
    deny: Type.Array(CidrString, {
      description: 'Addresses and CIDR blocks always denied, even when they are also in `allow`',
      default: [],
      maxItems: MAX_ENTRIES,
    }),
  },
  { additionalProperties: false, description: 'Client IP allow and deny lists (IPv4 and IPv6)' },
);

export type IpRestrictionConfig = Static<typeof IpRestrictionSchema>;
