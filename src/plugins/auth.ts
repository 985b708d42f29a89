import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { todayInShanghai } from '../domain/dates.js';
import { missingScope, unauthorized } from '../errors.js';
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

/** Verifies the bearer token of every route that declares `config.scope`, then checks that scope. */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { verifier: TokenVerifier; identityThrottle?: IdentityThrottle }) => {
    app.decorateRequest('call', undefined as unknown as CallContext);
    app.addHook('onRequest', async (request: FastifyRequest) => {
      const scope = request.routeOptions.config.scope;
      if (!scope) return;
      const header = request.headers.authorization;
      const match = header ? /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header) : null;
      if (!match?.[1]) throw unauthorized('Send an access token as "Authorization: Bearer <token>".');
      const principal = await options.verifier.verify(match[1]);
      if (!principal.scopes.has(scope)) throw missingScope(scope);
      // HEAD shows no body, so it reads no personal data: rendered masked, it writes no read_pii audit row.
      request.call = {
        principal: request.method === 'HEAD' ? withoutPiiRead(principal) : principal,
        requestId: request.id,
        today: todayInShanghai(),
        identityThrottle: options.identityThrottle,
      };
    });
  },
  { name: 'auth', dependencies: ['problem'] },
);
