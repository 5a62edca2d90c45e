import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { randomUUID } from 'crypto';
import { DomainError, ErrorCode } from '../errors/domain-error';

/** Who is acting. Real identities arrive with the access issue; until then only the development actor exists. */
export interface Actor {
  /** Stable identifier written into history rows, e.g. `dev:wang.fang`. */
  id: string;
  kind: 'DEVELOPMENT' | 'SYSTEM';
}

/** Passed explicitly as the first argument of every service method (no request-scoped providers). */
export interface RequestContext {
  actor: Actor;
  requestId: string;
  /** Per-request caches (DataLoaders) live here so they never leak between requests. */
  loaders: Map<string, unknown>;
}

export const DEV_ACTOR_HEADER = 'x-linli-dev-actor';
const ACTOR_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the context from HTTP headers. The development actor is honoured only when `devActorAllowed`. */
export function contextFromHeaders(
  headers: Record<string, string | string[] | undefined>,
  devActorAllowed: boolean,
): RequestContext {
  const header = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const requestId = header('x-request-id') && /^[\w.-]{1,100}$/.test(header('x-request-id')!) ? header('x-request-id')! : randomUUID();
  const devActor = header(DEV_ACTOR_HEADER);
  if (!devActorAllowed || !devActor) {
    throw new DomainError(
      ErrorCode.UNAUTHENTICATED,
      '请求未携带身份，请先登录',
      'The request carries no actor; sign in first',
      { details: { requestId } },
    );
  }
  if (!ACTOR_PATTERN.test(devActor)) {
    throw new DomainError(ErrorCode.UNAUTHENTICATED, '身份标识格式无效', 'The actor id is malformed', {
      field: DEV_ACTOR_HEADER,
    });
  }
  return { actor: { id: `dev:${devActor}`, kind: 'DEVELOPMENT' }, requestId, loaders: new Map() };
}

/** A context for command-line tools and jobs. */
export function systemContext(name: string): RequestContext {
  return { actor: { id: `system:${name}`, kind: 'SYSTEM' }, requestId: randomUUID(), loaders: new Map() };
}

/** Resolver parameter decorator: `@Ctx() ctx: RequestContext`. Throws UNAUTHENTICATED when there is no actor. */
export const Ctx = createParamDecorator((_data: unknown, execution: ExecutionContext): RequestContext => {
  const gqlContext = GqlExecutionContext.create(execution).getContext<{ linli?: RequestContext; authError?: DomainError }>();
  if (!gqlContext.linli) {
    throw gqlContext.authError ?? new DomainError(ErrorCode.UNAUTHENTICATED, '未认证', 'Unauthenticated');
  }
  return gqlContext.linli;
});
