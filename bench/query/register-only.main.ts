import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import cluster from 'cluster';
import { AppConfig, ConfigError, ConfigModule, createLogger, DatabaseModule, FULL_ACCESS, newContext, RedisModule, RequestContext } from '@linli/core';
import { CodesModule } from '@linli/codes';
import { PlacesModule } from '@linli/places';
import { RegistryModule } from '@linli/registry';
import { runClustered } from '../../apps/api/src/cluster';
import { configureHttp } from '../../apps/api/src/http';

/**
 * BENCH ONLY: the "register only" baseline of `npm run bench:query`. Not a product entry point.
 *
 * The same feature modules, resolvers and services as the API (codes, places, registry over the same database and
 * Redis), but with none of the access layer: no AccessModule (so no global guard, no sign-in, no ContextFactory),
 * no access plugin (no inspection, cost budget or audit append), no field middleware, no validation rules. Every
 * request gets a full-access development context. The difference between this process and the real API under the
 * same load is what identities, access rules, masking and audit cost.
 *
 * Started by bench/query.bench.ts as a child process with DATABASE_URL, PORT, LOG_LEVEL and API_PROCESSES set.
 */

const BENCH_ACTOR = { id: 'dev:bench', kind: 'DEVELOPMENT' as const, role: 'DEVELOPMENT', departmentCode: null, sessionId: null };

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    RedisModule,
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      path: '/graphql',
      playground: false,
      includeStacktraceInErrorResponses: false,
      plugins: [ApolloServerPluginCacheControlDisabled()], // as the API: no cache hints
      context: (): { linli: RequestContext } => ({ linli: newContext(BENCH_ACTOR, FULL_ACCESS) }),
    }),
    CodesModule,
    PlacesModule,
    RegistryModule,
  ],
})
class RegisterOnlyBenchModule {}

async function main(): Promise<void> {
  const config = AppConfig.fromEnv();
  if (config.get('NODE_ENV') === 'production') throw new Error('the register-only bench server grants full access to everyone; refused with NODE_ENV=production');
  // Run as the API runs (a supervising primary, API_PROCESSES workers, the same V8 flags): compared like for like.
  if (cluster.isPrimary) return runClustered(config.get('API_PROCESSES'), createLogger('warn', 'bench-register-only'));
  const app = await NestFactory.create<NestExpressApplication>(RegisterOnlyBenchModule, { logger: ['error', 'warn'], bodyParser: true });
  configureHttp(app); // the API's body limit, no ETag, shutdown hooks
  await app.listen(config.get('PORT'));
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
