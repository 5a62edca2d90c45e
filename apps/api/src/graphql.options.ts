import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { IncomingMessage } from 'http';
import { Logger } from 'pino';
import { AppConfig, contextFromHeaders, DomainError, formatGraphQLError } from '@linli/core';

/** Apollo configuration: code-first schema kept in memory (committed as schema.gql by `npm run schema`). */
export function graphqlOptions(config: AppConfig, logger: Logger): ApolloDriverConfig {
  const production = config.get('NODE_ENV') === 'production';
  return {
    driver: ApolloDriver,
    autoSchemaFile: true,
    sortSchema: true,
    path: '/graphql',
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    playground: false,
    context: ({ req }: { req: IncomingMessage }) => {
      try {
        return { linli: contextFromHeaders(req.headers, config.devActorAllowed) };
      } catch (err) {
        if (err instanceof DomainError) return { authError: err };
        throw err;
      }
    },
    formatError: (formatted, error) =>
      formatGraphQLError(formatted, error, (cause) => logger.error({ err: cause instanceof Error ? { message: cause.message, stack: cause.stack } : String(cause) }, 'internal error in resolver')),
  };
}
