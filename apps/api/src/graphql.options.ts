import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { IncomingMessage } from 'http';
import { Logger } from 'pino';

import { AppConfig, DomainError, formatGraphQLError, RequestContext } from '@linli/core';
import { accessPlugin, AuditService, ContextFactory, applyFieldAccess, depthAndAliasRules, LinliGraphQLContext, QueryBudget } from '@linli/access';

function contextValue(result: RequestContext | DomainError): LinliGraphQLContext {
  return result instanceof DomainError ? { authError: result } : { linli: result };
}

/**
 * Apollo configuration: code-first schema kept in memory (committed as schema.gql by `npm run schema`), the request
 * context from the bearer token, limits checked during validation, the access plugin and the field access wrappers.
 */
export function graphqlOptions(config: AppConfig, logger: Logger, contexts: ContextFactory, audit: AuditService, budget: QueryBudget): ApolloDriverConfig {
  const production = config.get('NODE_ENV') === 'production';
  return {
    driver: ApolloDriver,
    autoSchemaFile: true,
    sortSchema: true,
    path: '/graphql',
    introspection: !production,
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: false,
    playground: false,
    validationRules: [...depthAndAliasRules(config.get('QUERY_MAX_DEPTH'), config.get('QUERY_MAX_ALIASES'))],
    // Masking and the audit's record ids: wrapped into the few resolvers that need them (see applyFieldAccess).
    transformSchema: applyFieldAccess,
    plugins: [
      // No cache hints: responses carry personal data and are never cached (cache-control: no-store). The default
      // cache-control plugin would also wrap every field's resolver to collect hints nobody reads.
      ApolloServerPluginCacheControlDisabled(),
      accessPlugin(
        audit,
        budget,
        config,
        (err) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'audit write failed; response withheld'),
        (err, requestId) => logger.error({ requestId, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'internal error'),
      ),
    ],
    // Synchronous when the principal is cached (see ContextFactory.fromRequest); Apollo awaits either.
    context: ({ req }: { req: IncomingMessage & { body?: { extensions?: { purpose?: unknown } } } }): LinliGraphQLContext | Promise<LinliGraphQLContext> => {
      const result = contexts.fromRequest(req, req.body?.extensions?.purpose);
      return result instanceof Promise ? result.then(contextValue) : contextValue(result);
    },
    // Internal errors are logged with their request id by the access plugin; here they are only hidden.
    formatError: (formatted, error) => formatGraphQLError(formatted, error, () => undefined),
  };
}

