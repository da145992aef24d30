import { Type, type Static } from '@sinclair/typebox';
import { ByteSize } from '../../config/types-common.js';

/** A SecLang target such as `ARGS:password`, `REQUEST_COOKIES:/^session/` or `REQUEST_HEADERS:User-Agent`. */
const TargetString = Type.String({
  pattern: '^[A-Z_]+(:[^"|\\s]+)?$',
  minLength: 1,
  maxLength: 256,
  description: 'A SecLang target: `COLLECTION` or `COLLECTION:key`, where key may be a `/regex/`',
});

const RuleId = Type.Integer({ minimum: 1, maximum: 99_999_999, description: 'A CRS rule id, such as 942100' });

export const WafSchema = Type.Object(
  {
    crsDir: Type.String({
      minLength: 1,
      description:
        'Folder of the OWASP Core Rule Set (v4), fetched as for ModSecurity or Coraza: it holds `rules/` and ' +
        '`crs-setup.conf` (or `crs-setup.conf.example`); relative to the config file',
    }),
    paranoiaLevel: Type.Integer({ minimum: 1, maximum: 4, default: 1, description: 'CRS blocking paranoia level (1 = fewest false positives)' }),
    detectionParanoiaLevel: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 4,
        description: 'Rules up to this level run and are logged without adding to the blocking score; at least `paranoiaLevel` (default: equal)',
      }),
    ),
    inboundThreshold: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 5,
      description: 'Inbound anomaly score at which the request is blocked (CRS default 5: one critical rule)',
    }),
    inspectBody: Type.Boolean({ default: true, description: 'Buffer and inspect request bodies (form, JSON, XML, multipart)' }),
    outboundThreshold: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 4,
      description: 'Outbound (response) anomaly score at which the response is replaced by 403 (CRS default 4)',
    }),
    reportingLevel: Type.Integer({
      minimum: 0,
      maximum: 5,
      default: 2,
      description:
        'CRS anomaly score report (phase 5, rule 980170: a warn line per reported request) for requests whose score reached the threshold: 0 none, 1 with the blocking rules, 2 with the detection-only rules too (default); for requests with any score: 3 blocking, 4 detection (the CRS default, one line per scored request); 5 every request',
    }),
    responses: Type.Object(
      {
        inspect: Type.Boolean({ default: true, description: 'Run the CRS response rules (data leakage: SQL errors, stack traces, directory listings, web shells)' }),
        mimeTypes: Type.Array(Type.String({ pattern: '^[a-z0-9.+-]+/[a-z0-9.+-]+$', maxLength: 128 }), {
          default: ['text/plain', 'text/html', 'text/xml', 'application/json'],
          maxItems: 50,
          description: 'Response media types whose bodies are inspected (ModSecurity SecResponseBodyMimeType)',
        }),
        maxBodyBytes: ByteSize('Largest response body held for inspection; a larger one is passed on uninspected and logged', '512kb'),
      },
      { additionalProperties: false, default: {}, description: 'Response inspection (CRS phases 3 and 4)' },
    ),
    maxBodyBytes: ByteSize('Largest request body buffered for inspection; a larger body is refused with 413', '128kb'),
    batch: Type.Boolean({
      default: true,
      description:
        'Evaluate the requests and responses that arrive in one event-loop turn back to back, so the engine stays in the CPU caches ' +
        '(under load it costs a third to half as much); off, each is evaluated as it arrives',
    }),
    maxOperatorCalls: Type.Integer({
      minimum: 1_000,
      maximum: 10_000_000,
      default: 200_000,
      description: 'Operator evaluations one request may cost; past it the request is treated per `onBudgetExceeded`',
    }),
    onBudgetExceeded: Type.Union([Type.Literal('block'), Type.Literal('allow')], {
      default: 'block',
      description: 'What a request that spends the whole budget gets: `block` (fail closed) or `allow` (logged)',
    }),
    exclusions: Type.Object(
      {
        ruleIds: Type.Array(RuleId, { default: [], maxItems: 1000, description: 'Rules removed on this route (SecRuleRemoveById)' }),
        tags: Type.Array(Type.String({ pattern: '^[^"\\s]+$', maxLength: 128 }), {
          default: [],
          maxItems: 100,
          description: 'Rules removed by tag on this route, such as `attack-sqli` (SecRuleRemoveByTag)',
        }),
        targets: Type.Array(
          Type.Object({ ruleId: RuleId, target: TargetString }, { additionalProperties: false, description: 'A value one rule must not inspect' }),
          { default: [], maxItems: 1000, description: 'Values rules skip on this route (SecRuleUpdateTargetById with `!TARGET`)' },
        ),
      },
      { additionalProperties: false, default: {}, description: 'Route exclusions, for false positives' },
    ),
  },
  { additionalProperties: false, description: 'Web application firewall running the OWASP Core Rule Set in process' },
);

export type WafConfig = Static<typeof WafSchema>;
