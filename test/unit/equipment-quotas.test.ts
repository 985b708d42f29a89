import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadEquipmentQuotas } from '../../src/config.js';
import {
  DEFAULT_EQUIPMENT_QUOTAS,
  EQUIPMENT_CATEGORIES,
  equipmentQuotasFromJson,
  EquipmentQuotasError,
  requiredQuantity,
} from '../../src/domain/equipment-quotas.js';

describe('equipment quotas: defaults', () => {
  it('are valid under their own file schema and cover every category but other', () => {
    expect(equipmentQuotasFromJson(JSON.stringify(DEFAULT_EQUIPMENT_QUOTAS))).toEqual(DEFAULT_EQUIPMENT_QUOTAS);
    expect(Object.keys(DEFAULT_EQUIPMENT_QUOTAS).sort()).toEqual(EQUIPMENT_CATEGORIES.filter((c) => c !== 'other').sort());
    expect(Object.isFrozen(DEFAULT_EQUIPMENT_QUOTAS)).toBe(true);
  });

  it('ask for one body camera per officer on duty and one vehicle per started 8 officers', () => {
    const basis = { onDutyOfficers: 7, activeOfficers: 9, orgUnits: 2 };
    expect(requiredQuantity(DEFAULT_EQUIPMENT_QUOTAS.body_camera!, basis)).toBe(7);
    expect(requiredQuantity(DEFAULT_EQUIPMENT_QUOTAS.vehicle!, basis)).toBe(2);
    expect(requiredQuantity(DEFAULT_EQUIPMENT_QUOTAS.handheld_terminal!, basis)).toBe(5);
    expect(requiredQuantity(DEFAULT_EQUIPMENT_QUOTAS.uniform!, basis)).toBe(18);
    expect(requiredQuantity(DEFAULT_EQUIPMENT_QUOTAS.protective!, basis)).toBe(20);
    expect(requiredQuantity(DEFAULT_EQUIPMENT_QUOTAS.vehicle!, { onDutyOfficers: 0, activeOfficers: 0, orgUnits: 0 })).toBe(0);
  });
});

describe('equipment quotas: a file over the defaults', () => {
  it('replaces the categories it names, removes those set to null and keeps the rest', () => {
    const quotas = equipmentQuotasFromJson(
      JSON.stringify({ vehicle: { basis: 'per_org_unit', quantity: 2 }, radio: null, other: { basis: 'per_officers', officers: 20, quantity: 1 } }),
    );
    expect(quotas.vehicle).toEqual({ basis: 'per_org_unit', quantity: 2 });
    expect(quotas.radio).toBeUndefined();
    expect(quotas.other).toEqual({ basis: 'per_officers', officers: 20, quantity: 1 });
    expect(quotas.body_camera).toEqual(DEFAULT_EQUIPMENT_QUOTAS.body_camera);
    expect(equipmentQuotasFromJson('{}')).toEqual(DEFAULT_EQUIPMENT_QUOTAS);
  });

  it.each([
    ['not JSON', '{vehicle:', /not JSON/],
    ['an unknown category', '{"drone":{"basis":"per_org_unit","quantity":1}}', /drone/],
    ['an unknown basis', '{"vehicle":{"basis":"per_car","quantity":1}}', /vehicle.*basis must be/],
    ['a zero quantity', '{"vehicle":{"basis":"per_org_unit","quantity":0}}', /vehicle\.quantity: must be at least 1/],
    ['a fractional quantity', '{"radio":{"basis":"per_on_duty_officer","quantity":1.5}}', /radio\.quantity: must be a whole number/],
    ['per_officers without officers', '{"vehicle":{"basis":"per_officers","quantity":1}}', /vehicle\.officers/],
    ['an extra key', '{"vehicle":{"basis":"per_org_unit","quantity":1,"per":"x"}}', /vehicle/],
    ['an array', '[]', /\(file\)/],
  ])('refuses %s with a readable line', (_what, text, message) => {
    expect(() => equipmentQuotasFromJson(text)).toThrow(EquipmentQuotasError);
    expect(() => equipmentQuotasFromJson(text)).toThrow(message);
  });
});

describe('equipment quotas: EQUIPMENT_QUOTAS_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quotas-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('uses the defaults when unset, the file over them when set', () => {
    expect(loadEquipmentQuotas(loadConfig({}))).toEqual(DEFAULT_EQUIPMENT_QUOTAS);
    const path = file('ok.json', '{"vehicle":{"basis":"per_officers","officers":5,"quantity":1}}');
    expect(loadEquipmentQuotas(loadConfig({ EQUIPMENT_QUOTAS_FILE: path })).vehicle).toEqual({ basis: 'per_officers', officers: 5, quantity: 1 });
  });

  it('stops loadConfig with one line naming the variable when the file is missing or invalid', () => {
    expect(() => loadConfig({ EQUIPMENT_QUOTAS_FILE: join(dir, 'missing.json') })).toThrow(ConfigError);
    expect(() => loadConfig({ EQUIPMENT_QUOTAS_FILE: join(dir, 'missing.json') })).toThrow(/EQUIPMENT_QUOTAS_FILE: cannot read .*ENOENT/);
    const bad = file('bad.json', '{"vehicle":{"basis":"per_org_unit","quantity":-1}}');
    expect(() => loadConfig({ EQUIPMENT_QUOTAS_FILE: bad })).toThrow(/^Invalid configuration: EQUIPMENT_QUOTAS_FILE .*vehicle\.quantity/);
  });
});
