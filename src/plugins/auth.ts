import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { todayInShanghai } from '../domain/dates.js';
import { type AppError, missingScope, unauthorized } from '../errors.js';
import { routeHooks } from '../http/admission.js';
import type { IdentityThrottle } from '../records/identity-throttle.js';
import type { CallContext } from '../records/write-scope.js';
import type { Principal, Scope, TokenVerifier } from '../security/tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public (health, docs). */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** Set for every route that declares a scope, before its body is validated. */
    call: CallContext;
  }
}

/** The same caller without `pii:read`: for renderings whose personal data nobody will see. */
export function withoutPiiRead<T extends Principal | CallContext>(subject: T): T {
  if ('principal' in subject) return { ...subject, principal: withoutPiiRead(subject.principal) };
  if (!subject.scopes.has('pii:read')) return subject;
  return { ...subject, scopes: new Set([...subject.scopes].filter((s) => s !== 'pii:read')) };
}

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i;

/**
 * Verifies the bearer token of every route that declares `config.scope`, then checks that scope. The check
 * is added to each such route as it is declared (public routes run none of it), behind the admission
 * plugin's refusal of a full queue. A token the verifier already holds verified (tokens.ts: bounded, never
 * past its `exp`) is checked without a promise; any other is verified in full.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { verifier: TokenVerifier; identityThrottle?: IdentityThrottle }) => {
    const { verifier, identityThrottle } = options;
    app.decorateRequest('call', undefined as unknown as CallContext);

    function admit(request: FastifyRequest, principal: Principal, scope: Scope): AppError | undefined {
      if (!principal.scopes.has(scope)) return missingScope(scope);
      // HEAD shows no body, so it reads no personal data: rendered masked, it writes no read_pii audit row.
      request.call = {
        principal: request.method === 'HEAD' ? withoutPiiRead(principal) : principal,
        requestId: request.id,
        today: todayInShanghai(),
        identityThrottle,
      };
      return undefined;
    }

    function authenticate(scope: Scope) {
      return function checkToken(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) {
        const header = request.headers.authorization;
        const token = header ? BEARER.exec(header)?.[1] : undefined;
        if (!token) return done(unauthorized('Send an access token as "Authorization: Bearer <token>".'));
        const known = verifier.cached?.(token);
        if (known) return done(admit(request, known, scope));
        verifier.verify(token).then(
          (principal) => done(admit(request, principal, scope)),
          (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
        );
      };
    }

    app.addHook('onRoute', (route) => {
      const scope = route.config?.scope;
      if (scope) route.onRequest = [...routeHooks(route.onRequest), authenticate(scope)];
    });
  },
  { name: 'auth', dependencies: ['problem', 'admission'] },
);
