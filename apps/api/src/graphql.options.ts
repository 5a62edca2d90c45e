import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { IncomingMessage } from 'http';
import { Logger } from 'pino';

import { AppConfig, DomainError, formatGraphQLError } from '@linli/core';
import { accessPlugin, AuditService, ContextFactory, depthAndAliasRules, fieldAccessMiddleware, LinliGraphQLContext } from '@linli/access';

/**
 * Apollo configuration: code-first schema kept in memory (committed as schema.gql by `npm run schema`), the request
 * context from the bearer token, limits checked during validation, the access plugin and the field middleware.
 */
export function graphqlOptions(config: AppConfig, logger: Logger, contexts: ContextFactory, audit: AuditService): ApolloDriverConfig {
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
    buildSchemaOptions: { fieldMiddleware: [fieldAccessMiddleware] },
    plugins: [
      accessPlugin(
        audit,
        config,
        (err) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'audit write failed; response withheld'),
        (err, requestId) => logger.error({ requestId, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'internal error'),
      ),
    ],
    context: async ({ req }: { req: IncomingMessage & { body?: { extensions?: { purpose?: unknown } } } }): Promise<LinliGraphQLContext> => {
      const result = await contexts.fromRequest(req, req.body?.extensions?.purpose);
      return result instanceof DomainError ? { authError: result } : { linli: result };
    },
    // Internal errors are logged with their request id by the access plugin; here they are only hidden.
    formatError: (formatted, error) => formatGraphQLError(formatted, error, () => undefined),
  };
}

