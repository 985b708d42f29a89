import { arrayContains, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { assistants } from '../db/schema/index.js';
import { missingScope, ruleViolation } from '../errors.js';
import { defineCollection } from '../records/definition.js';
import { CalendarDate } from '../records/schemas.js';
import { HeldEquipment, heldEquipmentDependencies, heldEquipmentRegions, heldEquipmentSource } from './held-equipment.js';
import {
  activeIdCardNumberUnique,
  BirthDate,
  checkIdentity,
  Gender,
  IdCardNumber,
  Phone,
  PERSON_PII,
} from './people.js';

export const ASSISTANT_STATUSES = ['probation', 'active', 'dismissed'] as const;
/** In service: a probationer works as an assistant already, so both count as active in the ID-number namespace. */
export const ACTIVE_ASSISTANT_STATUSES = ['probation', 'active'] as const;
export const ASSISTANT_DUTIES = ['publicity', 'patrol', 'information_collection', 'dissuasion'] as const;

const DUTY_RULE =
  'assistants only help officers with auxiliary work — publicity 宣传教育, patrol 巡查, information_collection 信息收集, dissuasion 违法行为劝阻 — and do no concrete administrative enforcement (中发〔2015〕37号)';

const AssistantStatus = z
  .enum(ASSISTANT_STATUSES)
  .describe('Status 状态: probation 试用; active 在岗; dismissed 退出/解聘. probation and active count as active for the ID-number rule');
const Duty = z
  .enum(ASSISTANT_DUTIES, { error: (issue) => `${JSON.stringify(issue.input)} is not an assistant duty: ${DUTY_RULE}` })
  .describe(
    'Duty 协管职责: publicity 宣传教育; patrol 巡查; information_collection 信息收集; dissuasion 违法行为劝阻 — nothing else (中发〔2015〕37号: 协管不得从事具体行政执法工作)',
  );

const fields = z.object({
  name: z.string().trim().min(1).max(50).describe('Name 姓名'),
  gender: Gender,
  idCardNumber: IdCardNumber,
  birthDate: BirthDate,
  phone: Phone.optional(),
  admittedOn: CalendarDate.describe('Admitted on 准入日期 (YYYY-MM-DD)'),
  status: AssistantStatus,
  duties: z
    .array(Duty)
    .min(1, 'give at least one duty')
    .max(ASSISTANT_DUTIES.length)
    .refine((list) => new Set(list).size === list.length, 'duties must not repeat')
    .describe(`Duties 职责, one or more, each at most once: ${DUTY_RULE}`),
});

const AssistantSummary = z
  .object({ equipment: z.array(HeldEquipment).describe('Equipment the assistant holds now (open allocations 装备配置)') })
  .meta({ id: 'AssistantSummary', description: 'Read-only summary 概况, derived when the assistant is read' });

/** 协管人员: assistant staff, employed and answered for by an org unit (谁使用谁负责), supervised by an officer. */
export const assistantsCollection = defineCollection({
  name: 'assistants',
  singular: 'Assistant',
  plural: 'Assistants',
  tag: 'assistants',
  description: 'Assistant staff 协管人员 (auxiliary duties only, 中发〔2015〕37号)',
  table: assistants,
  fields,
  refs: [
    {
      field: 'orgUnitId',
      externalField: 'orgUnitExternalId',
      target: 'org-units',
      required: true,
      description: 'Employing unit 使用单位 — it answers for the assistant (谁使用谁负责)',
    },
    {
      field: 'supervisingOfficerId',
      externalField: 'supervisingOfficerExternalId',
      target: 'officers',
      required: true,
      description: 'Supervising officer 带队执法人员, an active officer while the assistant is in service',
      // The rule reads the officer's employment status: held FOR SHARE until commit.
      lock: 'share',
    },
  ],
  pii: PERSON_PII,
  filters: {
    query: {
      orgUnitId: z.uuid().optional().describe("Only this unit's assistants"),
      supervisingOfficerId: z.uuid().optional().describe('Only assistants supervised by this officer'),
      status: AssistantStatus.optional().describe('Only assistants with this status'),
      duty: Duty.optional().describe('Only assistants with this duty'),
      idCardNumber: z
        .string()
        .trim()
        .min(1)
        .max(18)
        .optional()
        .describe('Only the assistants with exactly this ID number (needs the pii:read scope)'),
    },
    where(query, { blindIndex, principal }) {
      const { orgUnitId, supervisingOfficerId, status, duty, idCardNumber } = query;
      if (typeof idCardNumber === 'string' && !principal.scopes.has('pii:read')) throw missingScope('pii:read');
      return [
        typeof orgUnitId === 'string' ? eq(assistants.orgUnitId, orgUnitId) : undefined,
        typeof supervisingOfficerId === 'string' ? eq(assistants.supervisingOfficerId, supervisingOfficerId) : undefined,
        typeof status === 'string' ? eq(assistants.status, status) : undefined,
        typeof duty === 'string' ? arrayContains(assistants.duties, [duty]) : undefined,
        typeof idCardNumber === 'string' ? eq(assistants.idCardNumberHash, blindIndex(idCardNumber)) : undefined,
      ];
    },
  },
  computed: {
    shape: { summary: AssistantSummary },
    // The summary as one JSON value, sent as PostgreSQL wrote it to masked readers (officers.ts `summarySource`).
    sources: (params) => ({ summary: sql`(select row_to_json(s) from (select ${heldEquipmentSource('assistant', assistants.id, params)} as equipment) as s)` }),
    compute(records, { rows }) {
      records.forEach((record, i) => (record['summary'] = rows[i]!['summary']));
    },
    regions: () => heldEquipmentRegions('assistant', assistants.id),
    dependsOn: heldEquipmentDependencies,
  },
  // One ID-number namespace with officers (a person is active in one role at a time): the same claim.
  unique: [activeIdCardNumberUnique({ isActive: (assistant) => ACTIVE_ASSISTANT_STATUSES.includes(assistant.status as never) })],
  rules(candidate, ctx) {
    checkIdentity(candidate);
    if (!ACTIVE_ASSISTANT_STATUSES.includes(candidate['status'] as never)) return;
    const ref = ctx.refs.get('supervisingOfficerId');
    const supervisor = ref && !Array.isArray(ref) ? ref.row : undefined;
    if (supervisor && supervisor['employmentStatus'] !== 'active') {
      throw ruleViolation(
        '/supervisingOfficerId',
        `The supervising officer is not active (employmentStatus ${String(supervisor['employmentStatus'])}); an assistant in service works under an active officer. Name another supervisor.`,
      );
    }
  },
});

