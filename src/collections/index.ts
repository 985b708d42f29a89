import type { CollectionDefinition } from '../records/definition.js';
import { casesCollection } from './cases.js';
import { credentialsCollection } from './credentials.js';
import { officersCollection } from './officers.js';
import { orgUnitsCollection } from './org-units.js';

/** Every record type the service holds, in the order their routes and OpenAPI tags appear. */
export const collections: readonly CollectionDefinition[] = [
  orgUnitsCollection,
  officersCollection,
  credentialsCollection,
  casesCollection,
];

export function collectionRegistry(list: readonly CollectionDefinition[] = collections): ReadonlyMap<string, CollectionDefinition> {
  return new Map(list.map((def) => [def.name, def]));
}
