import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const SECRET = 'a-development-secret-of-32-chars!';
const PII_KEY = Buffer.alloc(32, 1).toString('base64');
const PG_URL = 'postgres://registry@db.example:5432/registry';

/** The ConfigError thrown for `env`; fails the test when the environment is accepted. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig (DESIGN §8)', () => {
  it('has defaults for everything but secrets', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      PGLITE_DIR: './data/pglite',
      DB_POOL_MAX: 10,
      DB_STATEMENT_TIMEOUT_MS: 30_000,
      JWT_ISSUER: 'officer-registry',
      JWT_AUDIENCE: 'officer-registry',
      LOG_LEVEL: 'info',
      BODY_LIMIT_BYTES: 8 * 1024 * 1024,
    });
    for (const secret of ['DATABASE_URL', 'JWT_SECRET', 'JWT_JWKS_URL', 'JWT_PUBLIC_KEY_FILE', 'PII_ENCRYPTION_KEY'] as const) {
      expect(config[secret], secret).toBeUndefined();
    }
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads and coerces given values, and treats empty strings as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: PG_URL,
      JWT_SECRET: SECRET,
      PII_ENCRYPTION_KEY: PII_KEY,
      LOG_LEVEL: 'debug',
      DB_POOL_MAX: '25',
      JWT_ISSUER: '',
    });
    expect(config).toMatchObject({ PORT: 8080, HOST: '0.0.0.0', DATABASE_URL: PG_URL, LOG_LEVEL: 'debug', DB_POOL_MAX: 25 });
    expect(config.JWT_ISSUER).toBe('officer-registry');
  });

  it('ignores unrelated variables', () => {
    expect(() => loadConfig({ PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'production' })).not.toThrow();
  });

  it.each([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '80.5' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://db/registry', JWT_SECRET: SECRET, PII_ENCRYPTION_KEY: PII_KEY }],
    ['DATABASE_URL', { DATABASE_URL: 'localhost:5432', JWT_SECRET: SECRET, PII_ENCRYPTION_KEY: PII_KEY }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['JWT_SECRET', { JWT_SECRET: 'too-short' }],
    ['PII_ENCRYPTION_KEY', { PII_ENCRYPTION_KEY: Buffer.alloc(16, 1).toString('base64') }],
    ['PII_ENCRYPTION_KEY', { PII_ENCRYPTION_KEY: 'not base64 at all' }],
    ['JWT_JWKS_URL', { JWT_JWKS_URL: 'not a url' }],
    ['JWT_ALGORITHM', { JWT_SECRET: SECRET, JWT_ALGORITHM: 'RS256' }],
  ])('refuses a bad %s with one line naming it (%j)', (variable, env) => {
    const error = configError(env);
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/^Invalid configuration: /);
    expect(error.message).toContain(`${variable}:`);
  });

  it('refuses DATABASE_URL without a JWT key source', () => {
    const error = configError({ DATABASE_URL: PG_URL, PII_ENCRYPTION_KEY: PII_KEY });
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/JWT_SECRET: with DATABASE_URL set, one of JWT_SECRET, JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE is required/);
  });

  it('refuses DATABASE_URL without a PII encryption key', () => {
    const error = configError({ DATABASE_URL: PG_URL, JWT_SECRET: SECRET });
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/PII_ENCRYPTION_KEY: with DATABASE_URL set, PII_ENCRYPTION_KEY is required/);
  });

  it('accepts DATABASE_URL with a public key file instead of a secret', () => {
    expect(loadConfig({ DATABASE_URL: PG_URL, JWT_PUBLIC_KEY_FILE: '/etc/registry/jwt.pem', PII_ENCRYPTION_KEY: PII_KEY }).JWT_PUBLIC_KEY_FILE).toBe(
      '/etc/registry/jwt.pem',
    );
  });

  it('refuses more than one JWT key source', () => {
    const error = configError({ JWT_SECRET: SECRET, JWT_JWKS_URL: 'https://idp.example/jwks.json' });
    expect(error.message).toContain('JWT_SECRET: set only one of JWT_SECRET, JWT_JWKS_URL, JWT_PUBLIC_KEY_FILE');
  });

  it('names every bad variable in the one line', () => {
    const error = configError({ PORT: 'x', LOG_LEVEL: 'loud' });
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('PORT:');
    expect(error.message).toContain('LOG_LEVEL:');
  });
});
