import { describe, expect, it } from 'vitest';
import { HeaderList } from '../../core/header-list.js';
import { makeContext } from '../../../test/helpers/context.js';
import { catchGatewayError, compilePolicy } from '../../../test/helpers/policy.js';
import { templatePolicy } from './index.js';

describe('template policy', () => {
  it('denies a request carrying the configured header with 403 GW_FORBIDDEN', () => {
    const policy = compilePolicy(templatePolicy, { denyHeader: 'x-debug' });
    const error = catchGatewayError(() => policy.handle!(makeContext({ headers: { 'x-debug': '1' } })));
    expect(error.code).toBe('GW_FORBIDDEN');
    expect(error.status).toBe(403);
    expect(error.reason).toBe('template: header x-debug present');
  });

  it('lets other requests through', () => {
    const policy = compilePolicy(templatePolicy, { denyHeader: 'x-debug' });
    expect(policy.handle!(makeContext({ headers: { 'x-other': '1' } }))).toBeUndefined();
  });

  it('has no request step at all when no header is configured', () => {
    expect(compilePolicy(templatePolicy, {}).handle).toBeUndefined();
  });

  it('stamps the configured response header, with schema defaults applied', () => {
    const head = new HeaderList(['x-portcullis-template', 'upstream-value']);
    compilePolicy(templatePolicy, {}).onResponse!(makeContext(), head, 200);
    expect(head.getAll('x-portcullis-template')).toEqual(['on']);
  });

  it('refuses an invalid header name at load', () => {
    expect(() => compilePolicy(templatePolicy, { denyHeader: 'Bad Header' })).toThrow(/invalid template config/);
  });
});
