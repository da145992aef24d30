import { definePolicy } from '../../core/policy.js';
import { compileAuthorize, createAuthorizePolicy } from './policy.js';
import { PolicyConfigProblem } from './rules.js';
import { AuthorizeSchema, type AuthorizeConfig } from './schema.js';

export const authorizePolicy = definePolicy<AuthorizeConfig>({
  name: 'authorize',
  version: '1.0.0',
  phase: 'authorize',
  description:
    'Decides what an authenticated caller may do: ordered allow/deny rules (methods, scopes, groups, CEL conditions), object ownership, and request/response property rules.',
  schema: AuthorizeSchema,
  supportsMonitor: true,
  defaultFailureMode: 'closed',
  check(config) {
    try {
      compileAuthorize(config);
      return [];
    } catch (error) {
      if (error instanceof PolicyConfigProblem) return [{ path: error.path, message: error.detail }];
      throw error;
    }
  },
  create: (config, deps) => createAuthorizePolicy(config, deps),
});
