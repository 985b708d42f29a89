import { randomBytes } from 'node:crypto';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { openPglite } from './db/client.js';
import { generatePiiKey } from './security/pii.js';

/**
 * The OpenAPI document exactly as the service serves it at /openapi.json: the whole app built on an
 * empty in-memory PGlite (building needs no tables) with throwaway keys, then closed again.
 */
export async function generateOpenApiDocument(): Promise<object> {
  const config = loadConfig({
    JWT_SECRET: randomBytes(32).toString('base64url'),
    PII_ENCRYPTION_KEY: generatePiiKey(),
    LOG_LEVEL: 'silent',
  });
  const database = await openPglite();
  try {
    const app = await buildApp({ config, database });
    try {
      await app.ready();
      return app.swagger() as object;
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
}

/** The committed form: 2-space JSON with a trailing newline. */
export function serializeOpenApiDocument(document: object): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
