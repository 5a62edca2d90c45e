import { ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { GqlContextType } from '@nestjs/graphql';

/**
 * An error thrown by a GraphQL resolver or guard goes back to graphql-js unlogged: the access plugin logs every fault
 * once, with the request's id (the id the client is told), and refusals and bad input (DomainError) are expected
 * outcomes, not faults. Without this filter Nest's handler would log each fault a second time, at error level and
 * without the request id. HTTP routes (health) keep Nest's default handling.
 */
@Catch()
export class GraphQLFaultsFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): unknown {
    // Returned, a resolver's error is what graphql-js records for the field, as if the resolver had thrown it.
    if (host.getType<GqlContextType>() === 'graphql') return exception;
    return super.catch(exception, host);
  }
}
