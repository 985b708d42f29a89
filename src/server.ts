import { buildApp } from './app.js';
import { loadConfigOrReport } from './config.js';
import { capConnections, httpServerOptions } from './http/limits.js';
import { tuneHeap } from './heap.js';
import { migrate } from './db/migrate.js';
import { loggerOptions } from './logger.js';
import { openRuntime } from './runtime.js';
import { collectionRegistry, collections } from './collections/index.js';
import { fillMaskedBodies, fillMaskedForms } from './records/masked-forms.js';
import { createPiiCipher } from './security/pii.js';
import { mintToken } from './security/tokens.js';

/** The only module that touches the process: config → database → migrate → app → listen → graceful shutdown. */
async function main() {
  tuneHeap();
  const config = loadConfigOrReport();
  if (!config) process.exit(1);
  const { config: effective, database, embedded, notes } = await openRuntime(config);
  await migrate(database);
  const cipher = createPiiCipher(effective.PII_ENCRYPTION_KEY!);
  const filled = await fillMaskedForms(database, collections, cipher);
  const app = await buildApp({
    config: effective,
    database,
    logger: loggerOptions(effective, process.stdout.isTTY && process.env['NODE_ENV'] !== 'production'),
    http: httpServerOptions(effective),
  });
  capConnections(app.server, effective);
  for (const note of notes) app.log.info(note);
  if (filled > 0) app.log.info({ rows: filled }, 'stored the masked forms of personal fields for rows written before they were kept');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const timer = setTimeout(() => {
      app.log.error('graceful shutdown timed out');
      process.exit(1);
    }, 25_000);
    timer.unref();
    try {
      await app.close();
      await database.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  const address = await app.listen({ port: effective.PORT, host: effective.HOST });
  // In the background, serving meanwhile: rows without a kept body are rendered from their columns until then.
  fillMaskedBodies(database, collections, collectionRegistry(collections), cipher).then(
    (kept) => kept > 0 && app.log.info({ rows: kept }, 'kept the masked bodies of rows written before they were kept'),
    (err: unknown) => app.log.warn({ err }, 'could not keep the masked bodies of older rows; they are rendered as they are read'),
  );
  if (embedded && effective.JWT_SECRET && !config.JWT_SECRET) {
    const token = await mintToken({
      secret: effective.JWT_SECRET,
      issuer: effective.JWT_ISSUER,
      audience: effective.JWT_AUDIENCE,
      region: '410000',
      scope: 'records:read records:write pii:read stats:read audit:read',
      sub: 'dev-admin',
      ttlSeconds: 12 * 3600,
    });
    const base = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
    app.log.info(`development token for region 410000 (all scopes, 12 h). Try:\n  curl -s -H "Authorization: Bearer ${token}" ${base}/v1/org-units`);
    if (process.stdout.isTTY) {
      process.stdout.write(`\nReady. Try:\n  export TOKEN=${token}\n  curl -s -H "Authorization: Bearer $TOKEN" ${base}/v1/org-units\n\n`);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
