import { z } from 'zod';
import type { CollectionDefinition, RefSpec } from './definition.js';
import { ExternalId, Instant, ListQueryBase, RegionCode, Uuid } from './schemas.js';

export interface CollectionSchemas {
  /** POST and PUT body: the full record. */
  body: z.ZodObject;
  /** PUT by external key and batch `data`: as `body`, with region and key coming from the path. */
  upsertBody: z.ZodObject;
  record: z.ZodObject;
  page: z.ZodObject;
  listQuery: z.ZodObject;
}

/**
 * Optional input fields also accept null, meaning "absent": a client can send back what it read (where
 * absent values are null) and a JSON merge patch result validates the same way.
 */
function nullable(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? describedAs(schema, (schema.unwrap() as z.ZodType).nullish()) : schema;
}

/** Keeps a description given after `.optional()` when the optional wrapper is replaced. */
function describedAs(original: z.ZodType, replacement: z.ZodType): z.ZodType {
  const description = original.description ?? (original instanceof z.ZodOptional ? (original.unwrap() as z.ZodType).description : undefined);
  return description ? replacement.describe(description) : replacement;
}

function refInputShape(ref: RefSpec): z.ZodRawShape {
  if (ref.many) {
    return {
      [ref.field]: z.array(z.uuid()).max(50).nullish().describe(`${ref.description} — by id`),
      [ref.externalField]: z.array(ExternalId).max(50).nullish().describe(`${ref.description} — by the caller's key`),
    };
  }
  return {
    [ref.field]: z.uuid().nullish().describe(`${ref.description} — by id (or give ${ref.externalField})`),
    [ref.externalField]: ExternalId.nullish().describe(`${ref.description} — by the caller's key, in the same region`),
  };
}

function refOutputShape(ref: RefSpec): z.ZodRawShape {
  if (ref.many) {
    return {
      [ref.field]: z.array(z.uuid()).max(50).describe(ref.description),
      [ref.externalField]: z.array(z.string().nullable()).max(50).describe(`${ref.description} — the caller's keys`),
    };
  }
  return {
    [ref.field]: z.uuid().nullable().describe(ref.description),
    [ref.externalField]: z.string().nullable().describe(`${ref.description} — the caller's key`),
  };
}

/** Output form of a business field: optional becomes nullable (every record has every key); personal fields are plain strings (masked). */
function outputField(def: CollectionDefinition, key: string, schema: z.ZodType): z.ZodType {
  const isOptional = schema instanceof z.ZodOptional;
  const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
  const pii = def.pii?.find((p) => p.field === key);
  const description = schema.description ?? inner.description ?? key;
  if (pii?.kind === 'birth_date') {
    // With the masked ID number it would leave ~91 candidates for the whole number: shown with pii:read only.
    return inner.nullable().describe(`${description} — personal information: null unless the token has pii:read`);
  }
  const base = pii
    ? z
        .string()
        .describe(
          `${description} — personal information: masked (e.g. ${pii.kind === 'id_card' ? '410***********1234' : '138****5678'}) unless the token has pii:read`,
        )
    : inner;
  return isOptional ? describedAs(pii ? base : schema, base.nullable()) : base;
}

const built = new WeakMap<CollectionDefinition, CollectionSchemas>();

/** The API schemas of a collection, built once: its routes and the batch route share the same objects. */
export function buildCollectionSchemas(def: CollectionDefinition): CollectionSchemas {
  let schemas = built.get(def);
  if (!schemas) {
    schemas = makeCollectionSchemas(def);
    built.set(def, schemas);
  }
  return schemas;
}

function makeCollectionSchemas(def: CollectionDefinition): CollectionSchemas {
  const refs = def.refs ?? [];
  const refInputs = Object.assign({}, ...refs.map(refInputShape)) as z.ZodRawShape;
  const inputFields = Object.fromEntries(
    Object.entries(def.fields.shape).map(([key, schema]) => [key, nullable(schema as z.ZodType)]),
  );
  const common = {
    externalId: ExternalId.nullish(),
    ...inputFields,
    ...refInputs,
  };
  const body = z.object({ regionCode: RegionCode, ...common }).meta({ id: `${def.singular}Input` });
  const upsertBody = z
    .object({
      regionCode: RegionCode.nullish().describe('Must equal the region in the path when given'),
      ...common,
      externalId: ExternalId.nullish().describe('Must equal the key in the path when given'),
    })
    .meta({ id: `${def.singular}UpsertInput` });

  const outputFields = Object.fromEntries(
    Object.entries(def.fields.shape).map(([key, schema]) => [key, outputField(def, key, schema as z.ZodType)]),
  );
  const record = z
    .object({
      id: Uuid,
      externalId: z.string().nullable().describe("The source platform's own id 外部编号"),
      regionCode: z.string().describe('Region code 行政区划代码 (GB/T 2260)'),
      version: z.number().int().describe('Version 版本, +1 on each real change; the ETag. 1 on create, or for a key whose record was deleted, one more than that record reached'),
      createdAt: z.iso.datetime({ offset: true }).describe('Created 创建时间 (RFC 3339)'),
      updatedAt: z.iso.datetime({ offset: true }).describe('Last changed 更新时间 (RFC 3339)'),
      ...outputFields,
      ...Object.assign({}, ...refs.map(refOutputShape)),
      ...(def.derivedFields ?? {}),
      ...(def.computed?.shape ?? {}),
    })
    .meta({ id: def.singular, description: def.description });

  const page = z
    .object({
      items: z.array(record).max(500),
      nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
    })
    .meta({ id: `${def.singular}Page` });

  const listQuery = z.object({
    ...ListQueryBase,
    regionCode: RegionCode.optional().describe('Only records in this region and the regions it covers'),
    externalId: ExternalId.optional().describe("Only the record with this caller's key"),
    updatedAfter: Instant.optional().describe('Only records changed after this instant'),
    ...(def.filters?.query ?? {}),
  });

  return { body, upsertBody, record, page, listQuery };
}
