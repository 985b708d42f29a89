import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { collectionRegistry, collections as allCollections } from './collections/index.js';
import { loadEquipmentQuotas, publicBaseUrl, type Config } from './config.js';
import type { Database } from './db/client.js';
import { AppError, validationFailed } from './errors.js';
import { RequestLogLines } from './logger.js';
import { AdmissionGate, admissionLimits, admissionPlugin, earlyRefusal, refuseEarlyOn } from './http/admission.js';
import { closeAfterEarlyAnswer, isEnding, problemClientErrorHandler, whenPacketRead } from './http/client-error.js';
import { hostileInputPlugin } from './http/hostile-input.js';
import type { HttpServerOptions } from './http/limits.js';
import { authPlugin } from './plugins/auth.js';
import { httpConventionsPlugin, responseHeadersPlugin, securityHeaders } from './plugins/http-conventions.js';
import { openApiPlugin } from './plugins/openapi.js';
import { problemPlugin, sendProblem } from './plugins/problem.js';
import { responseSerializerCompiler } from './plugins/serializer.js';
import type { CollectionDefinition } from './records/definition.js';
import { createRecordEngine } from './records/engine.js';
import { createIdentityThrottle } from './records/identity-throttle.js';
import { collectionRoutes } from './records/routes.js';
import { auditRoutes } from './routes/audit.js';
import { batchRoutes } from './routes/batch.js';
import { changeRoutes } from './routes/changes.js';
import { discoveryRoutes } from './routes/discovery.js';
import { complianceRoutes } from './routes/compliance.js';
import { healthRoutes } from './routes/health.js';
import { statsRoutes } from './routes/stats.js';
import { createPiiCipher } from './security/pii.js';
import { createTokenVerifier, type KeySource, type TokenVerifier } from './security/tokens.js';

export const SERVICE_VERSION = '0.1.0';

export interface BuildAppOptions {
  config: Config;
  database: Database;
  /** Fastify's logger option: false in tests, the pino options from `loggerOptions()` in the server. */
  logger?: FastifyServerOptions['logger'];
  /** Overrides the verifier made from the config (tests of key handling). */
  verifier?: TokenVerifier;
  collections?: readonly CollectionDefinition[];
  /** Time and connection limits of the listening server (`httpServerOptions(config)`); the server passes them. */
  http?: HttpServerOptions;
}

export function keySourceFrom(config: Config): KeySource {
  if (config.JWT_SECRET) return { kind: 'secret', secret: config.JWT_SECRET };
  const algorithm = config.JWT_ALGORITHM === 'HS256' || !config.JWT_ALGORITHM ? 'RS256' : config.JWT_ALGORITHM;
  if (config.JWT_JWKS_URL) return { kind: 'jwks', url: config.JWT_JWKS_URL, algorithm };
  if (config.JWT_PUBLIC_KEY_FILE) return { kind: 'public-key-file', path: config.JWT_PUBLIC_KEY_FILE, algorithm };
  throw new Error('No JWT key configured: set JWT_SECRET, JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE');
}

/** Body limit of every route but the batch. */
const BODY_LIMIT_BYTES = 1024 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the whole app on a given database. Never listens and reads no environment. */
export async function buildApp(options: BuildAppOptions) {
  const { config, database } = options;
  if (!config.PII_ENCRYPTION_KEY) throw new Error('PII_ENCRYPTION_KEY is required to build the app');
  const collections = options.collections ?? allCollections;
  const registry = collectionRegistry(collections);
  const cipher = createPiiCipher(config.PII_ENCRYPTION_KEY);
  const verifier =
    options.verifier ??
    (await createTokenVerifier({
      keys: keySourceFrom(config),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      allowedTypes: config.JWT_ALLOWED_TYPES,
    }));
  const engine = createRecordEngine({ database, registry, cipher });
  const security = securityHeaders();

  const app = Fastify({
    logger: options.logger ?? false,
    ...(options.logger ? { logController: new RequestLogLines() } : {}),
    // 1 MiB for ordinary requests; the batch route raises its own limit.
    bodyLimit: BODY_LIMIT_BYTES,
    // false: with a header name Fastify takes any value as the id and never calls genReqId, which checks it.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true },
    clientErrorHandler: problemClientErrorHandler,
    // A path Fastify cannot decode (`%FF`) or whose parameter is too long is answered before any route: as a
    // problem too, not Fastify's own JSON.
    frameworkErrors: (error, request, reply) => {
      const problem =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new AppError(414, 'uri_too_long', 'URI too long', { detail: 'A path parameter is longer than this service accepts.' })
          : validationFailed([{ path: '/', message: 'the path is not a valid percent-encoded URL', in: 'params' }]);
      // Answered outside the routes' context: none of the hooks run, so the headers they would add are set here.
      reply.headers({ ...security, 'cache-control': 'no-store', 'x-request-id': request.id });
      void sendProblem(request, reply, problem);
    },
    ...options.http,
  }).withTypeProvider<ZodTypeProvider>();
  // One gate for the whole process: how much database work may run at once (docs/decisions.md, "Load without collapse").
  const gate = new AdmissionGate(admissionLimits(config));
  refuseEarlyOn(app.server, earlyRefusal(gate));

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler);
  // Bodies are JSON only: anything else answers 415 rather than a confusing validation error.
  app.removeContentTypeParser('text/plain');
  // A request whose connection began to close while its body was coming (a 408 sent, an early answer) has no
  // one to answer: it is not carried out — a write would commit unanswered.
  app.addHook('preHandler', (request, reply, done) => {
    if (isEnding(request.raw.socket)) reply.hijack();
    done();
  });
  app.addHook('onSend', (request, reply, _payload, done) => {
    // Answered before its body arrived (a 401, 413, 415 …), or saying `Connection: close` for another reason: the
    // connection ends with this answer, and should that body time out, the request gets no second one (client-error.ts).
    whenPacketRead(request.raw, () => {
      closeAfterEarlyAnswer(request.raw, reply.raw);
      done();
    });
  });

  await app.register(problemPlugin);
  // Request id, CORS, security headers and Cache-Control first: every answer carries them, the gate's and the
  // token check's refusals too.
  await app.register(responseHeadersPlugin, { config });
  // Before the routes (it gates their handlers) and before auth (a full queue refuses before a token is verified).
  await app.register(admissionPlugin, { gate });
  // JSON bodies (also merge patches), query strings and path parameters: depth, NUL, lone surrogates, unknown parameters.
  await app.register(hostileInputPlugin);
  // Per process: with N replicas a client may spend N budgets (docs/decisions.md).
  const identityThrottle = createIdentityThrottle({
    refusalsPerMinute: config.IDENTITY_PROBE_BUDGET_PER_MINUTE,
    newPerHour: config.IDENTITY_NEW_BUDGET_PER_HOUR,
  });
  await app.register(authPlugin, { verifier, identityThrottle });
  await app.register(httpConventionsPlugin, { config });
  const baseUrl = publicBaseUrl(config);
  await app.register(openApiPlugin, { version: SERVICE_VERSION, collections, serverUrl: baseUrl });

  await app.register(discoveryRoutes, { collections, verifier, version: SERVICE_VERSION, baseUrl, config, bodyLimit: BODY_LIMIT_BYTES });

  await app.register(healthRoutes, { database });
  // Records read are kept whole after their answers are sent (record-views.ts): finished before the app closes.
  engine.onViewError((err) => app.log.warn({ err }, 'could not keep the views of records read; they are rendered again when read'));
  app.addHook('onClose', () => engine.viewsKept());
  for (const definition of collections) {
    await app.register(collectionRoutes, { definition, engine, database });
  }
  await app.register(batchRoutes, { database, engine, bodyLimit: config.BODY_LIMIT_BYTES });
  await app.register(changeRoutes, { database, engine, cipher });
  await app.register(auditRoutes, { database });
  const quotas = loadEquipmentQuotas(config);
  await app.register(statsRoutes, { database, quotas });
  await app.register(complianceRoutes, { database, quotas });
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
