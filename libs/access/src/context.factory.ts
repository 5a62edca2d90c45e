import { Injectable } from '@nestjs/common';
import { IncomingMessage } from 'http';
import { randomUUID } from 'crypto';
import { AppConfig, DomainError, ErrorCode, FULL_ACCESS, newContext, RequestContext } from '@linli/core';
import { AuthService, Principal } from './auth.service';

export const DEV_ACTOR_HEADER = 'x-linli-dev-actor';
export const PURPOSE_HEADER = 'x-linli-purpose';
const ACTOR_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const PURPOSE_PATTERN = /^[A-Z0-9_]{1,64}$/;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Builds the request context: the bearer token's principal, the stated purpose, the request id and the source
 * address. The development actor (full access) exists only when NODE_ENV is `test`.
 */
@Injectable()
export class ContextFactory {
  constructor(private readonly auth: AuthService, private readonly config: AppConfig) {}

  /**
   * The request's context, or why there is none. Synchronous when the bearer token's principal is cached (the common
   * case), so a signed-in request takes no promise here.
   */
  fromRequest(req: IncomingMessage, bodyPurpose?: unknown): RequestContext | DomainError | Promise<RequestContext | DomainError> {
    const rid = header(req, 'x-request-id');
    const requestId = rid && /^[\w.-]{1,100}$/.test(rid) ? rid : randomUUID();
    const sourceAddress = req.socket?.remoteAddress ?? null;
    const purposeRaw = header(req, PURPOSE_HEADER) ?? (typeof bodyPurpose === 'string' ? bodyPurpose : undefined);
    const purpose = purposeRaw && PURPOSE_PATTERN.test(purposeRaw) ? purposeRaw : null;
    const authorization = header(req, 'authorization');
    if (authorization?.startsWith('Bearer ')) {
      const withPrincipal = (principal: Principal | null): RequestContext | DomainError => principal
        ? newContext(principal.actor, principal.access, { requestId, purpose, sourceAddress })
        : new DomainError(ErrorCode.UNAUTHENTICATED, '登录已失效，请重新登录', 'The access token is invalid, expired or revoked', { details: { requestId } });
      const principal = this.auth.principalFor(authorization.slice(7).trim());
      return principal instanceof Promise ? principal.then(withPrincipal) : withPrincipal(principal);
    }
    const devActor = header(req, DEV_ACTOR_HEADER);
    if (devActor && this.config.devActorAllowed && ACTOR_PATTERN.test(devActor)) {
      return newContext({ id: `dev:${devActor}`, kind: 'DEVELOPMENT', role: 'DEVELOPMENT', departmentCode: null, sessionId: null }, FULL_ACCESS, { requestId, purpose, sourceAddress });
    }
    return new DomainError(ErrorCode.UNAUTHENTICATED, '请求未携带有效身份，请先登录', 'The request carries no valid identity; sign in first', { details: { requestId } });
  }
}
