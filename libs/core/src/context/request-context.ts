import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { randomUUID } from 'crypto';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { AccessGrant, FULL_ACCESS } from './access';

export type ActorKind = 'USER' | 'CLIENT' | 'DEVELOPMENT' | 'SYSTEM';

/** Who is acting: a signed-in person, a department's system, a command-line tool, or (tests only) a development actor. */
export interface Actor {
  /** Stable identifier written into history and audit rows, e.g. `user:wang.fang`, `client:mz-dibao`. */
  id: string;
  kind: ActorKind;
  role: string;
  departmentCode: string | null;
  sessionId: string | null;
}

/** What a request touched, collected while resolving and written to the audit trail before the response leaves. */
export interface AuditCollector {
  residentIds: Set<string>;
  householdIds: Set<string>;
  /** `Type.field` names returned in clear. */
  clearFields: Set<string>;
  maskedFields: Set<string>;
}

/** Passed explicitly as the first argument of every service method (no request-scoped providers). */
export interface RequestContext {
  actor: Actor;
  access: AccessGrant;
  requestId: string;
  /** The stated purpose of the request (header `x-linli-purpose` or argument), checked against the registered ones. */
  purpose: string | null;
  sourceAddress: string | null;
  /** Per-request caches (DataLoaders) live here so they never leak between requests. */
  loaders: Map<string, unknown>;
  audit: AuditCollector;
}

export function newAuditCollector(): AuditCollector {
  return { residentIds: new Set(), householdIds: new Set(), clearFields: new Set(), maskedFields: new Set() };
}

export function newContext(actor: Actor, access: AccessGrant, extra: Partial<Pick<RequestContext, 'requestId' | 'purpose' | 'sourceAddress'>> = {}): RequestContext {
  return {
    actor, access, requestId: extra.requestId ?? randomUUID(), purpose: extra.purpose ?? null, sourceAddress: extra.sourceAddress ?? null,
    loaders: new Map(), audit: newAuditCollector(),
  };
}

/** A context for command-line tools and jobs: full access, recorded as `system:<name>`. */
export function systemContext(name: string): RequestContext {
  return newContext({ id: `system:${name}`, kind: 'SYSTEM', role: 'SYSTEM', departmentCode: null, sessionId: null }, FULL_ACCESS);
}

/** The GraphQL context object as the API builds it: the request context, or why there is none. */
export interface GraphQLContextValue {
  linli?: RequestContext;
  authError?: DomainError;
}

/** The request context of a GraphQL context object; throws UNAUTHENTICATED when there is no actor. */
export function requestContextOf(gqlContext: GraphQLContextValue): RequestContext {
  if (!gqlContext.linli) {
    throw gqlContext.authError ?? new DomainError(ErrorCode.UNAUTHENTICATED, '未认证', 'Unauthenticated');
  }
  return gqlContext.linli;
}

/** Resolver parameter decorator: `@Ctx() ctx: RequestContext`. Throws UNAUTHENTICATED when there is no actor. */
export const Ctx = createParamDecorator((_data: unknown, execution: ExecutionContext): RequestContext =>
  requestContextOf(GqlExecutionContext.create(execution).getContext<GraphQLContextValue>()));
