import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CLIENT_TYPES_FILE, generateClientTypes } from '../kit/client-types.js';
import { POSTMAN_FILE, generatePostmanCollection, serializePostmanCollection } from '../kit/postman.js';
import { isEntryPoint } from './entry-point.js';

/** `npm run client` / `npm run postman`: regenerate a kit file from the committed openapi/openapi.json. */
const root = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));

export async function readCommittedDocument(): Promise<object> {
  return JSON.parse(await readFile(root('openapi/openapi.json'), 'utf8')) as object;
}

async function main(what: string | undefined) {
  const document = await readCommittedDocument();
  if (what === 'client') {
    await writeFile(root(CLIENT_TYPES_FILE), await generateClientTypes(document));
    process.stdout.write(`wrote ${CLIENT_TYPES_FILE}\n`);
  } else if (what === 'postman') {
    await writeFile(root(POSTMAN_FILE), serializePostmanCollection(generatePostmanCollection(document)));
    process.stdout.write(`wrote ${POSTMAN_FILE}\n`);
  } else {
    throw new Error('usage: export-kit client|postman');
  }
}

if (isEntryPoint(import.meta.url)) {
  main(process.argv[2]).catch((err: unknown) => {
    process.stderr.write(`export failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
