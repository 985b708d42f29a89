import { describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';

const ctx = useTestApp();

describe('org units', () => {
  it('upserts by external key: 201, then 200 with the same version for an unchanged body', async () => {
    const headers = await bearer({ region: '410100' });
    const body = { name: '郑州市城市管理局', level: 'city' };
    const first = await ctx.app.inject({ method: 'PUT', url: '/v1/org-units/external/410100/OU-1', headers, payload: body });
    expect(first.statusCode).toBe(201);
    expect(first.headers['etag']).toBe('"1"');
    expect(first.headers['location']).toBe(`/v1/org-units/${first.json().id}`);
    const again = await ctx.app.inject({ method: 'PUT', url: '/v1/org-units/external/410100/OU-1', headers, payload: body });
    expect(again.statusCode).toBe(200);
    expect(again.json().version).toBe(1);
    const changed = await ctx.app.inject({
      method: 'PUT',
      url: '/v1/org-units/external/410100/OU-1',
      headers,
      payload: { ...body, name: '郑州市城市管理局（新）' },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().version).toBe(2);
  });

  it('refuses a unified social credit code with a wrong check character, at its path', async () => {
    const headers = await bearer({ region: '410100' });
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers,
      payload: { regionCode: '410100', name: 'x', level: 'city', unifiedSocialCreditCode: '11410182005291054C' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: '/unifiedSocialCreditCode' }] });
  });
});
