import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { trainings } from '../db/schema/index.js';
import { ruleViolation } from '../errors.js';
import { defineCollection } from '../records/definition.js';
import { CalendarDate } from '../records/schemas.js';

export const TRAINING_KINDS = ['initial', 'appointment', 'provincial', 'annual', 'skills', 'other'] as const;
export const PERSON_TYPES = ['officer', 'assistant'] as const;

export const TrainingKind = z
  .enum(TRAINING_KINDS)
  .describe(
    'Kind 培训类别: initial 初任培训; appointment 任职培训; provincial 省级培训 (处级以上 cadres: one in 3 years); annual 年度培训; skills 技能比武/业务技能培训; other 其他',
  );
export const PersonType = z
  .enum(PERSON_TYPES)
  .describe('Person type 人员类别: officer 执法人员 (personId is an officer); assistant 协管人员 (personId is an assistant)');

const fields = z.object({
  personType: PersonType,
  kind: TrainingKind,
  title: z.string().trim().min(1).max(200).describe('Title 培训名称, e.g. 2025年度城市管理执法业务培训'),
  organizer: z.string().trim().min(1).max(200).describe('Organizer 主办单位, e.g. 河南省住房和城乡建设厅'),
  startedOn: CalendarDate.describe('Started on 开始日期 (YYYY-MM-DD)'),
  endedOn: CalendarDate.describe('Ended on 结束日期 (YYYY-MM-DD), not before startedOn'),
  hours: z.number().positive('must be more than 0').max(2000).multipleOf(0.5).describe('Hours 学时, more than 0, in half hours'),
  passed: z.boolean().describe('Passed 考核合格; absent while not assessed').optional(),
});

/** 培训: trainings of officers and assistants. */
export const trainingsCollection = defineCollection({
  name: 'trainings',
  singular: 'Training',
  plural: 'Trainings',
  tag: 'trainings',
  description: 'Training 培训 of an officer or an assistant',
  table: trainings,
  fields,
  refs: [
    {
      field: 'personId',
      externalField: 'personExternalId',
      target: { typeField: 'personType', targets: { officer: 'officers', assistant: 'assistants' } },
      required: true,
      description: 'Trainee 参训人员: an officer or an assistant, as personType says',
    },
  ],
  filters: {
    query: {
      personId: z.uuid().optional().describe("Only this person's trainings (the training history)"),
      personType: PersonType.optional().describe('Only trainings of officers or of assistants'),
      kind: TrainingKind.optional().describe('Only trainings of this kind'),
    },
    where: (query) => [
      typeof query['personId'] === 'string' ? eq(trainings.personId, query['personId']) : undefined,
      typeof query['personType'] === 'string' ? eq(trainings.personType, query['personType']) : undefined,
      typeof query['kind'] === 'string' ? eq(trainings.kind, query['kind']) : undefined,
    ],
  },
  rules(candidate) {
    const startedOn = String(candidate['startedOn']);
    const endedOn = String(candidate['endedOn']);
    if (endedOn < startedOn) throw ruleViolation('/endedOn', `endedOn ${endedOn} is before startedOn ${startedOn}.`);
  },
});
