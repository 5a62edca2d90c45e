import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig, ConfigModule, createLogger, DatabaseModule, RedisModule } from '@linli/core';
import { CodesModule } from '@linli/codes';
import { PlacesModule } from '@linli/places';
import { RegistryModule } from '@linli/registry';
import { AccessModule, AuditService, ContextFactory, QueryBudget } from '@linli/access';
import { SyncModule } from '@linli/sync';
import { HealthController } from './health/health.controller';
import { graphqlOptions } from './graphql.options';
import { GraphQLFaultsFilter } from './graphql-faults.filter';

/** The GraphQL API process: composes the feature modules; holds no domain logic of its own. */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    RedisModule,
    TerminusModule,
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      imports: [ConfigModule, AccessModule],
      inject: [AppConfig, ContextFactory, AuditService, QueryBudget],
      useFactory: (config: AppConfig, contexts: ContextFactory, audit: AuditService, budget: QueryBudget) =>
        graphqlOptions(config, createLogger(config.get('LOG_LEVEL'), 'api'), contexts, audit, budget),
    }),
    AccessModule,
    CodesModule,
    PlacesModule,
    RegistryModule,
    SyncModule,
  ],
  controllers: [HealthController],
  providers: [{ provide: APP_FILTER, useClass: GraphQLFaultsFilter }],
})
export class AppModule {}
