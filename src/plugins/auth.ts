import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { todayInShanghai } from '../domain/dates.js';
import { missingScope, unauthorized } from '../errors.js';
import type { CallContext } from '../records/write-scope.js';
import type { Scope, TokenVerifier } from '../security/tokens.js';

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

/** Verifies the bearer token of every route that declares `config.scope`, then checks that scope. */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { verifier: TokenVerifier }) => {
    app.decorateRequest('call', undefined as unknown as CallContext);
    app.addHook('onRequest', async (request: FastifyRequest) => {
      const scope = request.routeOptions.config.scope;
      if (!scope) return;
      const header = request.headers.authorization;
      const match = header ? /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header) : null;
      if (!match?.[1]) throw unauthorized('Send an access token as "Authorization: Bearer <token>".');
      const principal = await options.verifier.verify(match[1]);
      if (!principal.scopes.has(scope)) throw missingScope(scope);
      request.call = { principal, requestId: request.id, today: todayInShanghai() };
    });
  },
  { name: 'auth', dependencies: ['problem'] },
);
