import openapiTS, { astToString } from 'openapi-typescript';

export const CLIENT_TYPES_FILE = 'client/schema.d.ts';

const HEADER = `/**
 * Types of the Officer Registry API, generated from openapi/openapi.json by openapi-typescript.
 * Do not edit: run \`npm run client\` after \`npm run openapi\`.
 */

`;

/** `client/schema.d.ts` as `npm run client` writes it from the committed OpenAPI document. */
export async function generateClientTypes(document: object): Promise<string> {
  const ast = await openapiTS(document as Parameters<typeof openapiTS>[0], { alphabetize: true });
  return HEADER + astToString(ast);
}
