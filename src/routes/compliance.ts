import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { COMPLIANCE_CHECKS, decodeCursor, encodeCursor } from '../compliance/checks.js';
import type { Database } from '../db/client.js';
import type { EquipmentQuotas } from '../domain/equipment-quotas.js';
import { covers } from '../domain/region.js';
import { forbiddenRegion } from '../errors.js';
import { commonProblems, ListQueryBase, RegionCode } from '../records/schemas.js';

const ComplianceRowSchema = z
  .object({
    problem: z.string().describe('What is wrong, in words an operator can act on'),
    collection: z.string().describe('The collection of the record to fix'),
    id: z.uuid().describe('The record to fix'),
    externalId: z.string().nullable().describe("The record's key on its source platform"),
    regionCode: z.string().describe("The record's region"),
    href: z.string().describe('Where to read (and PATCH) the record'),
    facts: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).describe('The values the problem is about'),
  })
  .meta({ id: 'ComplianceRow' });

const CompliancePage = z
  .object({
    check: z.string(),
    items: z.array(ComplianceRowSchema).max(500),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  })
  .meta({ id: 'CompliancePage' });

/** One route per check (DESIGN §7 `GET /v1/compliance/{check}`), each with its own parameters. */
export const complianceRoutes: FastifyPluginAsyncZod<{ database: Database; quotas: EquipmentQuotas }> = async (app, { database, quotas }) => {
  for (const check of COMPLIANCE_CHECKS) {
    app.get(
      `/v1/compliance/${check.name}`,
      {
        config: { scope: 'stats:read' },
        schema: {
          operationId: `listCompliance${check.name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}`,
          summary: check.summary,
          description: `${check.description} Scoped to the caller's regions (optionally narrowed by regionCode); paginated by cursor.`,
          tags: ['compliance'],
          querystring: z.object({
            ...ListQueryBase,
            regionCode: RegionCode.optional().describe('Only this region and the regions it covers (must be covered by the token)'),
            ...check.query,
          }),
          response: { 200: CompliancePage, ...commonProblems },
        },
      },
      async (request) => {
        const { limit, cursor, regionCode, ...query } = request.query as { limit: number; cursor?: string; regionCode?: string } & Record<string, unknown>;
        const caller = request.call.principal.region;
        const region = regionCode ?? caller;
        if (!covers(caller, region)) throw forbiddenRegion(region, caller);
        const rows = await check.run({
          db: database.db,
          quotas,
          region,
          today: request.call.today,
          limit: limit + 1,
          after: cursor ? decodeCursor(cursor, check) : undefined,
          query,
        });
        const items = rows.slice(0, limit);
        const lastShown = rows.length > limit ? items[items.length - 1] : undefined;
        const nextCursor = lastShown ? encodeCursor({ key: check.keyOf(lastShown), id: lastShown.id }) : null;
        return { check: check.name, items, nextCursor };
      },
    );
  }
};

