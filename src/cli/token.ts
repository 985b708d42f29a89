import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { REGION_CODE_PATTERN } from '../domain/region.js';
import { loadOrCreateDevKeys } from '../security/dev-keys.js';
import { mintToken, parseTtl, SCOPES } from '../security/tokens.js';
import { isEntryPoint } from './entry-point.js';

export const TOKEN_USAGE = `Usage: npm run token -- --region <code> --scope "<scopes>" [--sub <subject>] [--ttl <duration>] [--client-id <id>]

Mints an HS256 access token for this service and prints only the token, so that
  TOKEN=$(npm run -s token -- --region 410100 --scope "records:read records:write")
works.

  --region      6-digit GB/T 2260 region code the token covers, e.g. 410100 (郑州市), 410000 (河南省)
  --scope       space-separated scopes: ${SCOPES.join(' ')}
  --sub         subject (who is calling); default "admin"
  --ttl         lifetime: seconds or 30m, 1h, 2d; default 1h
  --client-id   client_id claim; default "officer-registry-cli"
  -h, --help    show this help

Signing key: JWT_SECRET from the environment; without it (and without DATABASE_URL) the development
secret of the embedded database, kept in the data folder beside PGLITE_DIR (the one npm start uses).
Issuer and audience: JWT_ISSUER and JWT_AUDIENCE (default officer-registry).
`;

/** A mistake of the caller (arguments or environment): one line on stderr, exit 2. */
export class TokenCliError extends Error {
  override name = 'TokenCliError';
}

export interface TokenCliResult {
  /** The token; undefined when help was asked for. */
  token?: string;
  /** Lines for stdout (help) or stderr (notes). */
  help?: string;
  notes: string[];
}

/** Parses the arguments, picks the key and mints the token. Touches no process state (testable). */
export async function runTokenCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<TokenCliResult> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        region: { type: 'string' },
        scope: { type: 'string' },
        sub: { type: 'string' },
        ttl: { type: 'string', default: '1h' },
        'client-id': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    // parseArgs messages are one line, e.g. "Unknown option '--regoin'".
    throw new TokenCliError(`${err instanceof Error ? err.message.split('\n')[0] : String(err)} (see --help)`);
  }
  if (values.help) return { help: TOKEN_USAGE, notes: [] };

  const region = values.region?.trim();
  if (!region) throw new TokenCliError('--region is required, e.g. --region 410100 (see --help)');
  if (!REGION_CODE_PATTERN.test(region)) throw new TokenCliError(`--region must be a 6-digit GB/T 2260 code, got "${region}"`);

  if (values.scope === undefined) throw new TokenCliError(`--scope is required, e.g. --scope "records:read" (one or more of: ${SCOPES.join(' ')})`);
  const scopes = [...new Set(values.scope.split(/[\s,]+/).filter(Boolean))];
  if (scopes.length === 0) throw new TokenCliError(`--scope is empty; give one or more of: ${SCOPES.join(' ')}`);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw new TokenCliError(`unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.map((s) => `"${s}"`).join(', ')}; known: ${SCOPES.join(' ')}`);
  }

  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtl(values.ttl);
  } catch (err) {
    throw new TokenCliError(`--ttl: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (ttlSeconds <= 0) throw new TokenCliError('--ttl must be longer than 0 seconds');

  const sub = values.sub?.trim();
  if (values.sub !== undefined && !sub) throw new TokenCliError('--sub must not be empty');
  const clientId = values['client-id']?.trim();
  if (values['client-id'] !== undefined && !clientId) throw new TokenCliError('--client-id must not be empty');

  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new TokenCliError(err.message);
    throw err;
  }

  const notes: string[] = [];
  let secret = config.JWT_SECRET;
  if (!secret) {
    if (config.JWT_JWKS_URL || config.JWT_PUBLIC_KEY_FILE) {
      throw new TokenCliError(
        `this service verifies tokens with ${config.JWT_JWKS_URL ? 'JWT_JWKS_URL' : 'JWT_PUBLIC_KEY_FILE'}; npm run token signs with JWT_SECRET only — get a token from your identity provider`,
      );
    }
    if (config.DATABASE_URL) throw new TokenCliError('JWT_SECRET is not set (with DATABASE_URL there is no development secret)');
    // The embedded default: the same development secret `npm start` uses (made now if the data folder has none yet).
    const { keys, created, path } = await loadOrCreateDevKeys(config.PGLITE_DIR);
    if (created) notes.push(`created development keys in ${path}; npm start will use them too`);
    secret = keys.jwtSecret;
  }

  const token = await mintToken({
    secret,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    region,
    scope: scopes.join(' '),
    ...(sub ? { sub } : {}),
    ...(clientId ? { clientId } : {}),
    ttlSeconds,
  });
  return { token, notes };
}

async function main() {
  try {
    const result = await runTokenCommand(process.argv.slice(2), process.env);
    for (const note of result.notes) process.stderr.write(`${note}\n`);
    process.stdout.write(result.help ?? `${result.token}\n`);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`token: ${message.split('\n')[0]}\n`);
    process.exitCode = 2;
  }
}


if (isEntryPoint(import.meta.url)) void main();
