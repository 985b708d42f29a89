import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateOpenApiDocument, serializeOpenApiDocument } from '../openapi-document.js';

/** `npm run openapi`: writes the generated document to openapi/openapi.json (committed; checked by a test). */
export const OPENAPI_FILE = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));

async function main() {
  const document = await generateOpenApiDocument();
  await mkdir(dirname(OPENAPI_FILE), { recursive: true });
  await writeFile(OPENAPI_FILE, serializeOpenApiDocument(document));
  const paths = Object.keys((document as { paths?: object }).paths ?? {}).length;
  process.stdout.write(`wrote ${OPENAPI_FILE} (${paths} paths)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`openapi export failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
