import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { credentials, postStatuses } from '../db/schema/index.js';
import { defineCollection } from '../records/definition.js';
import { CalendarDate } from '../records/schemas.js';

export const POST_STATUSES = ['on_duty', 'off_duty', 'on_leave', 'training', 'suspended', 'seconded'] as const;

export const PostStatusCode = z
  .enum(POST_STATUSES)
  .describe(
    'Post status 岗位状态: on_duty 在岗 (持证上岗: needs a valid enforcement credential); off_duty 离岗/轮休; on_leave 休假; training 培训; suspended 停职; seconded 借调',
  );

const fields = z.object({
  status: PostStatusCode,
  post: z.string().trim().min(1).max(100).describe('Post 岗位, e.g. 巡查岗 or 窗口岗').optional(),
  gridCode: z
    .string()
    .trim()
    .regex(/^[0-9A-Za-z-]{1,40}$/, 'must be 1–40 letters, digits or "-"')
    .describe('Grid 网格: the unit grid code of 网格化管理 (GB/T 30428.1), 1–40 letters, digits or "-"')
    .optional(),
  effectiveFrom: CalendarDate.describe(
    'Effective from 生效日期 (YYYY-MM-DD): in effect until the officer\'s next status; the latest on or before today is the current one',
  ),
});

/** 岗位状态: where an officer stands from a day on; 持证上岗 — on duty only with a valid enforcement credential. */
export const postStatusesCollection = defineCollection({
  name: 'post-statuses',
  singular: 'PostStatus',
  plural: 'PostStatuses',
  tag: 'post-statuses',
  description: 'Post status 岗位状态 of an officer from a day on (持证上岗)',
  table: postStatuses,
  fields,
  refs: [
    // The 持证上岗 rule reads the officer's employment status: the row is held FOR SHARE until commit.
    { field: 'officerId', externalField: 'officerExternalId', target: 'officers', required: true, description: 'Officer 执法人员', lock: 'share' },
  ],
  filters: {
    query: {
      officerId: z.uuid().optional().describe("Only this officer's statuses (its history)"),
      status: PostStatusCode.optional().describe('Only statuses with this code'),
    },
    where: (query) => [
      typeof query['officerId'] === 'string' ? eq(postStatuses.officerId, query['officerId']) : undefined,
      typeof query['status'] === 'string' ? eq(postStatuses.status, query['status']) : undefined,
    ],
  },
  unique: [
    {
      key: (candidate) => `${String(candidate['officerId'])}|${String(candidate['effectiveFrom'])}`,
      column: sql`${postStatuses.officerId}::text || '|' || ${postStatuses.effectiveFrom}::text`,
      constraint: 'post_statuses_officer_day_key',
      path: '/effectiveFrom',
      message: (holder, candidate) =>
        holder
          ? `The officer already has a post status from ${String(candidate['effectiveFrom'])}; one status per officer and day. Update that record instead.`
          : `An earlier record in this batch is a post status of the same officer from ${String(candidate['effectiveFrom'])}; one per day.`,
    },
  ],
  checks: [
    {
      // 持证上岗: on duty only while active and holding a valid enforcement credential on effectiveFrom. The
      // officer row (ref lock) and the credentials read are held FOR SHARE until commit, so a concurrent
      // revocation or transfer either waits for this write or is seen by it. One query for the whole run.
      name: 'on-duty-needs-credential',
      async check(subjects, { tx }) {
        const onDuty = subjects.filter((s) => s.candidate.status === 'on_duty');
        if (onDuty.length === 0) return;
        const held = await tx
          .select({ officerId: credentials.officerId, issuedOn: credentials.issuedOn, expiresOn: credentials.expiresOn })
          .from(credentials)
          .where(
            and(
              inArray(credentials.officerId, [...new Set(onDuty.map((s) => String(s.candidate['officerId'])))]),
              isNull(credentials.deletedAt),
              eq(credentials.kind, 'enforcement'),
              eq(credentials.status, 'valid'),
            ),
          )
          .orderBy(credentials.id)
          .for('share');
        for (const s of onDuty) {
          const officerId = String(s.candidate['officerId']);
          const day = String(s.candidate.effectiveFrom);
          const ref = s.refs.get('officerId');
          const officer = ref && !Array.isArray(ref) ? ref.row : undefined;
          const name = officer ? `${String(officer['name'])} (${officerId})` : officerId;
          if (officer?.['employmentStatus'] !== 'active') {
            s.fail(
              '/status',
              `持证上岗: officer ${name} is not active (employmentStatus ${String(officer?.['employmentStatus'])}) and cannot be on duty; record another status.`,
            );
          } else if (!held.some((c) => c.officerId === officerId && c.issuedOn <= day && day <= c.expiresOn)) {
            s.fail(
              '/status',
              `持证上岗: officer ${name} holds no valid enforcement credential (河南省行政执法证) on ${day}, so cannot be on duty from that day. Record the credential first, or another status.`,
            );
          }
        }
      },
    },
  ],
});
