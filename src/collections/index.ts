import type { CollectionDefinition } from '../records/definition.js';
import { casesCollection } from './cases.js';
import { credentialsCollection } from './credentials.js';
import { officersCollection } from './officers.js';
import { orgUnitsCollection } from './org-units.js';
import { assessmentsCollection } from './assessments.js';
import { assistantsCollection } from './assistants.js';
import { equipmentAllocationsCollection } from './equipment-allocations.js';
import { equipmentCollection } from './equipment.js';
import { postStatusesCollection } from './post-statuses.js';
import { trainingsCollection } from './trainings.js';

/** Every record type the service holds, in the order their routes and OpenAPI tags appear. */
export const collections: readonly CollectionDefinition[] = [
  orgUnitsCollection,
  officersCollection,
  credentialsCollection,
  postStatusesCollection,
  equipmentCollection,
  equipmentAllocationsCollection,
  assistantsCollection,
  trainingsCollection,
  assessmentsCollection,
  casesCollection,
];

export function collectionRegistry(list: readonly CollectionDefinition[] = collections): ReadonlyMap<string, CollectionDefinition> {
  return new Map(list.map((def) => [def.name, def]));
}
