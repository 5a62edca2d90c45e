import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { ALLOW_KEY, DomainError, ErrorCode, GraphQLContextValue, Permission, PUBLIC, requestContextOf } from '@linli/core';

/**
 * A resolver's context and info. Query, Mutation and field resolvers get graphql-js's (source, args, context, info);
 * GqlExecutionContext.create normalises other shapes too, at the price of a GraphQL type check on every call, so it is
 * only the fallback.
 */
function resolverArgs(execution: ExecutionContext): { context: GraphQLContextValue; info: { fieldName?: string } | undefined } {
  const args = execution.getArgs();
  if (args.length === 4 && typeof (args[3] as { fieldName?: unknown } | undefined)?.fieldName === 'string') {
    return { context: args[2] as GraphQLContextValue, info: args[3] as { fieldName: string } };
  }
  const gql = GqlExecutionContext.create(execution);
  return { context: gql.getContext<GraphQLContextValue>(), info: gql.getInfo<{ fieldName?: string }>() };
}

/**
 * The global guard. A GraphQL operation without @Allow is refused (deny by default); one with it needs a signed-in
 * principal holding one of the listed permissions, unless it is PUBLIC. HTTP routes are plain controllers (health).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  /** @Allow of each resolver method, read once: decorators do not change at run time. */
  private readonly allowedOf = new WeakMap<object, (Permission | typeof PUBLIC)[] | undefined>();

  constructor(private readonly reflector: Reflector) {}

  canActivate(execution: ExecutionContext): boolean {
    if (execution.getType<string>() !== 'graphql') return true;
    const handler = execution.getHandler();
    let allowed = this.allowedOf.get(handler);
    if (allowed === undefined && !this.allowedOf.has(handler)) {
      allowed = this.reflector.getAllAndOverride<(Permission | typeof PUBLIC)[] | undefined>(ALLOW_KEY, [handler, execution.getClass()]);
      this.allowedOf.set(handler, allowed);
    }
    const { context, info } = resolverArgs(execution);
    const field = () => info?.fieldName;
    if (!allowed || allowed.length === 0) {
      throw new DomainError(ErrorCode.FORBIDDEN, '该操作未开放', 'This operation is not open to anyone', { field: field() });
    }
    if (allowed.includes(PUBLIC)) return true;
    const ctx = requestContextOf(context);
    if (!allowed.some((p) => p !== PUBLIC && ctx.access.permissions.has(p))) {
      throw new DomainError(ErrorCode.FORBIDDEN, '无权执行该操作', 'You are not permitted to perform this operation', { field: field(), details: { requires: allowed } });
    }
    return true;
  }
}
