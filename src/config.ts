import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_EQUIPMENT_QUOTAS, equipmentQuotasFromJson, EquipmentQuotasError, type EquipmentQuotas } from './domain/equipment-quotas.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

const milliseconds = (fallback: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(100).default(fallback));

/** One schema for the whole environment (README, Configuration). No secret has a default. */
export const ConfigSchema = z
  .object({
    PORT: z.preprocess(
      emptyAsUndefined,
      z.coerce.number({ error: 'must be a port number' }).int('must be a port number').min(0).max(65535).default(3000),
    ),
    HOST: z.preprocess(emptyAsUndefined, z.string().default('127.0.0.1')),
    DATABASE_URL: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    PGLITE_DIR: z.preprocess(emptyAsUndefined, z.string().default('./data/pglite')),
    DB_POOL_MAX: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(200).default(10)),
    DB_STATEMENT_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(100).default(30_000)),
    /** Requests that may wait for a pool connection before the next is refused with 503 `overloaded`; 4 × DB_POOL_MAX when unset. */
    DB_POOL_QUEUE_MAX: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(100_000).optional()),
    // Admission control (src/http/admission.ts); see docs/decisions.md "Load without collapse".
    /** Cost units of work in flight at once, at most (a read by id is 1, a page 1 per 100 records, twice with pii:read); 2 × DB_POOL_MAX when unset. */
    ADMISSION_CAPACITY: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(100_000).optional()),
    /** Requests that may wait for capacity, per class (read, list, feed, write); 2 × DB_POOL_MAX when unset. */
    ADMISSION_QUEUE_MAX: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(100_000).optional()),
    /** How long a request may wait for capacity before it is answered 503 `overloaded`. */
    ADMISSION_QUEUE_TIMEOUT_MS: z.preprocess(
      emptyAsUndefined,
      z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(0).max(60_000).default(250),
    ),
    /** Admitted work slower than this shrinks the capacity until it is in time again; 0 keeps it fixed. */
    ADMISSION_TARGET_MS: z.preprocess(
      emptyAsUndefined,
      z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(0).max(60_000).default(500),
    ),
    JWT_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
    JWT_JWKS_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
    JWT_PUBLIC_KEY_FILE: optionalString,
    JWT_ALGORITHM: z.preprocess(emptyAsUndefined, z.enum(['HS256', 'RS256', 'ES256', 'EdDSA']).optional()),
    JWT_ISSUER: z.preprocess(emptyAsUndefined, z.string().default('officer-registry')),
    JWT_AUDIENCE: z.preprocess(emptyAsUndefined, z.string().default('officer-registry')),
    PII_ENCRYPTION_KEY: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
        .optional(),
    ),
    LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(LOG_LEVELS).default('info')),
    /** JSON file of equipment quotas over the documented defaults (src/domain/equipment-quotas.ts). */
    EQUIPMENT_QUOTAS_FILE: optionalString,
    BODY_LIMIT_BYTES: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1024).default(8 * 1024 * 1024)),
    /** Accepted JWT `typ` headers, comma-separated and compared without case or an `application/` prefix. */
    JWT_ALLOWED_TYPES: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .default('at+jwt')
        .transform((v) => v.split(',').map((t) => t.trim().toLowerCase().replace(/^application\//, '')).filter(Boolean))
        .pipe(z.array(z.string()).min(1, 'name at least one token type, e.g. at+jwt')),
    ),
    // Limits on slow or numerous clients (src/http/limits.ts); see docs/decisions.md "Input limits".
    HTTP_HEADERS_TIMEOUT_MS: milliseconds(10_000),
    HTTP_REQUEST_TIMEOUT_MS: milliseconds(30_000),
    HTTP_CONNECTION_TIMEOUT_MS: milliseconds(120_000),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: milliseconds(72_000),
    HTTP_MAX_REQUESTS_PER_SOCKET: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(0)),
    HTTP_MAX_CONNECTIONS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(2000)),
    PUBLIC_BASE_URL: z.preprocess(
      emptyAsUndefined,
      z
        .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
        .transform((v) => v.replace(/\/+$/, ''))
        .optional(),
    ),
    CORS_ORIGINS: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
        .pipe(z.array(z.url({ protocol: /^https?$/, error: 'each origin must be an http(s) URL' })))
        .default([]),
    ),
    RATE_LIMIT_MAX: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(600)),
    RATE_LIMIT_WINDOW_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(86_400).default(60)),
    /**
     * Writes setting an ID number that may be refused per client and minute, and new ID numbers that may be
     * written per client and hour (unless the token has identities:bulk), before such writes answer 429
     * (src/records/identity-throttle.ts; per process). See docs/decisions.md "Personal information".
     */
    IDENTITY_PROBE_BUDGET_PER_MINUTE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(100_000).default(20)),
    IDENTITY_NEW_BUDGET_PER_HOUR: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(10_000_000).default(60)),
  })
  .superRefine((env, ctx) => {
    const keySources = [env.JWT_SECRET, env.JWT_JWKS_URL, env.JWT_PUBLIC_KEY_FILE].filter(Boolean).length;
    if (keySources > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'set only one of JWT_SECRET, JWT_JWKS_URL, JWT_PUBLIC_KEY_FILE',
      });
    }
    if (env.DATABASE_URL && keySources === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'with DATABASE_URL set, one of JWT_SECRET, JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE is required',
      });
    }
    if (env.DATABASE_URL && !env.PII_ENCRYPTION_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['PII_ENCRYPTION_KEY'],
        message: 'with DATABASE_URL set, PII_ENCRYPTION_KEY is required (openssl rand -base64 32)',
      });
    }
    if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['HTTP_HEADERS_TIMEOUT_MS'], message: 'must not exceed HTTP_REQUEST_TIMEOUT_MS' });
    }
    if (env.JWT_SECRET && env.JWT_ALGORITHM && env.JWT_ALGORITHM !== 'HS256') {
      ctx.addIssue({ code: 'custom', path: ['JWT_ALGORITHM'], message: 'JWT_SECRET signs with HS256 only' });
    }
  });

/** The equipment quotas in force: the defaults, with EQUIPMENT_QUOTAS_FILE over them when set. */
export function loadEquipmentQuotas(config: Pick<Config, 'EQUIPMENT_QUOTAS_FILE'>): EquipmentQuotas {
  const file = config.EQUIPMENT_QUOTAS_FILE;
  if (!file) return { ...DEFAULT_EQUIPMENT_QUOTAS };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Invalid configuration: EQUIPMENT_QUOTAS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return equipmentQuotasFromJson(text);
  } catch (err) {
    if (!(err instanceof EquipmentQuotasError)) throw err;
    throw new ConfigError(`Invalid configuration: EQUIPMENT_QUOTAS_FILE ${file}: ${err.message}`);
  }
}

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

/** The URL clients reach the service at: PUBLIC_BASE_URL, else the listen address (a wildcard host as 127.0.0.1). */
export function publicBaseUrl(config: Pick<Config, 'PUBLIC_BASE_URL' | 'HOST' | 'PORT'>): string {
  if (config.PUBLIC_BASE_URL) return config.PUBLIC_BASE_URL;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once. A bad value throws a ConfigError whose message is one clear line. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  // A bad quota file stops start-up like any bad value, not later when the first figure is computed.
  loadEquipmentQuotas(parsed.data);
  return Object.freeze(parsed.data);
}

/** For command-line entry points: the config, or undefined after writing the one-line reason to stderr. */
export function loadConfigOrReport(prefix = '', env: NodeJS.ProcessEnv = process.env): Config | undefined {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${prefix}${err.message}\n`);
    return undefined;
  }
}
