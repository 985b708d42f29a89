import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import type { EquipmentQuotas } from '../domain/equipment-quotas.js';
import { covers } from '../domain/region.js';
import { forbiddenRegion } from '../errors.js';
import { commonProblems, queryInteger, RegionCode } from '../records/schemas.js';
import { quarterPeriod, yearPeriod, type Period } from '../stats/period.js';
import { buildReport, figureDefinitions, reportCsv, StatsReportSchema } from '../stats/report.js';

const Year = queryInteger(2000, 2100).describe('Calendar year 年度').meta({ example: 2026 });
const RegionQuery = RegionCode.optional().describe("The region to report on (default: the caller's region); must be one the caller covers");

const reportResponse = {
  description: 'The report: JSON by default, CSV (UTF-8 with BOM, a header of codes and Chinese labels) with `Accept: text/csv`',
  content: {
    'application/json': { schema: StatsReportSchema },
    'text/csv': { schema: z.string().describe('One row per region, the total first') },
  },
};

/** The quality an Accept header gives `type` (RFC 9110 §12.5.1): the most specific matching range wins. */
function quality(accept: string, type: string): number {
  const [major] = type.split('/');
  let best = { specificity: -1, q: 0 };
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.trim().toLowerCase().split(';').map((p) => p.trim());
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
    if (specificity <= best.specificity) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    best = { specificity, q: Number.isFinite(q) ? q : 0 };
  }
  return best.q;
}

/** CSV when the client asks for it and prefers it to JSON (`text/csv;q=0` refuses it); JSON otherwise. */
const wantsCsv = (request: FastifyRequest) => {
  const accept = String(request.headers.accept ?? '');
  const csv = quality(accept, 'text/csv');
  return csv > 0 && csv > quality(accept, 'application/json');
};

const DEFINITIONS = `Figures are counted over live records of the region and its child regions (province → cities, city → its districts and counties), dates in Asia/Shanghai. A region with nothing to report shows zeros; a rate whose denominator is 0 is null; a flag compares two counts of its section after the child rows are summed. Case figures are flows over the period; people, equipment and training figures are snapshots of the current records with dates taken as of asOf.\n\n${figureDefinitions()}`;

export const statsRoutes: FastifyPluginAsyncZod<{ database: Database; quotas: EquipmentQuotas }> = async (app, { database, quotas }) => {
  async function send(request: FastifyRequest, reply: FastifyReply, regionCode: string | undefined, period: (today: string) => Period) {
    const caller = request.call.principal.region;
    const region = regionCode ?? caller;
    if (!covers(caller, region)) throw forbiddenRegion(region, caller);
    const report = await buildReport(database.db, region, period(request.call.today), quotas, caller);
    reply.header('vary', 'Accept');
    if (wantsCsv(request)) {
      const name = report.period.kind === 'quarter' ? `${report.period.year}Q${report.period.quarter}` : String(report.period.year);
      reply.header('content-disposition', `attachment; filename="stats-${region}-${name}.csv"`);
      return reply.type('text/csv; charset=utf-8').send(reportCsv(report));
    }
    return reply.type('application/json; charset=utf-8').send(report);
  }

  app.get(
    '/v1/stats/quarterly',
    {
      config: { scope: 'stats:read' },
      schema: {
        operationId: 'getQuarterlyStats',
        summary: 'Quarterly statistics 季度统计 of the region and its child regions',
        description: `The quarterly 通报 figures for one calendar quarter.\n\n${DEFINITIONS}`,
        tags: ['stats'],
        querystring: z.object({
          year: Year,
          quarter: queryInteger(1, 4).describe('Quarter 季度, 1–4 (Q1 = January–March)').meta({ example: 3 }),
          regionCode: RegionQuery,
        }),
        response: { 200: reportResponse, ...commonProblems },
      },
    },
    (request, reply) => send(request, reply, request.query.regionCode, (today) => quarterPeriod(request.query.year, request.query.quarter, today)),
  );

  app.get(
    '/v1/stats/annual',
    {
      config: { scope: 'stats:read' },
      schema: {
        operationId: 'getAnnualStats',
        summary: 'Annual statistics 行政执法统计年报 of the region and its child regions',
        description: `The same figures for a calendar year (the 年报, due by 31 January).\n\n${DEFINITIONS}`,
        tags: ['stats'],
        querystring: z.object({ year: Year, regionCode: RegionQuery }),
        response: { 200: reportResponse, ...commonProblems },
      },
    },
    (request, reply) => send(request, reply, request.query.regionCode, (today) => yearPeriod(request.query.year, today)),
  );
};
