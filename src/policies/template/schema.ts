import { Type, type Static } from '@sinclair/typebox';

/**
 * The model for new policies: every field described, defaulted and bounded, no extra properties.
 * Copy this folder, rename, and add the descriptor to src/policies/registry.ts.
 */
export const TemplateSchema = Type.Object(
  {
    denyHeader: Type.Optional(
      Type.String({ description: 'Requests carrying this header (lower case) are denied', pattern: '^[a-z0-9-]{1,64}$' }),
    ),
    responseHeader: Type.String({
      description: 'Response header stamped on every response of the route',
      default: 'x-portcullis-template',
      pattern: '^[a-z0-9-]{1,64}$',
    }),
    responseValue: Type.String({ description: 'Value of the stamped header', default: 'on', maxLength: 256 }),
  },
  { additionalProperties: false, description: 'Template policy settings' },
);

export type TemplateConfig = Static<typeof TemplateSchema>;
