import type { App } from '../../src/app.js';
import { daysFromToday, seedOfficer, type CredentialBody } from './people-fixtures.js';

let serial = 0;

export interface CaseBody {
  regionCode?: string;
  externalId?: string;
  caseNumber: string;
  title: string;
  category: string;
  source: string;
  orgUnitId?: string | null;
  orgUnitExternalId?: string | null;
  handlingOfficerIds?: string[] | null;
  handlingOfficerExternalIds?: string[] | null;
  filedOn: string;
  stage: string;
  major: boolean;
  decidedOn?: string | null;
  penalties?: string[] | null;
  fineFen?: number | null;
  confiscationFen?: number | null;
  executedOn?: string | null;
  closedOn?: string | null;
  transferredTo?: string | null;
}

/** A valid new case (stage filed, filed ten days ago); give the unit and at least two handlers. */
export function aCase(overrides: Partial<CaseBody> = {}): CaseBody {
  return {
    caseNumber: `郑城管罚字〔2025〕第${String(++serial).padStart(5, '0')}号`,
    title: '未经批准擅自占道经营',
    category: 'city_appearance',
    source: 'patrol',
    filedOn: daysFromToday(-10),
    stage: 'filed',
    major: false,
    ...overrides,
  };
}

/** A decided ordinary case with a fine of 500 yuan. */
export function aDecidedCase(overrides: Partial<CaseBody> = {}): CaseBody {
  return aCase({ stage: 'decided', decidedOn: daysFromToday(-2), penalties: ['fine'], fineFen: 50_000, ...overrides });
}

/** A unit and two active officers with valid enforcement credentials in `regionCode`: everything a case needs. */
export async function seedHandlers(app: App, regionCode: string, key = 'H', credential: Partial<CredentialBody> = {}) {
  const a = await seedOfficer(app, regionCode, `${key}1`, { credential });
  const b = await seedOfficer(app, regionCode, `${key}2`, { officer: { orgUnitId: a.unit.id }, credential });
  return { unit: a.unit, handlers: [a.officer, b.officer], credentials: [a.credential!, b.credential!] };
}
