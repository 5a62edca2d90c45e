import { Args, Context, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { IncomingMessage } from 'http';
import { Allow, Ctx, DomainError, Permission, PUBLIC, RequestContext, requireUuid } from '@linli/core';
import { AuthService } from './auth.service';
import { AuthTokensDto, ClientSecretDto, MeDto } from './dtos/auth.dto';

@Resolver()
export class AuthResolver {
  constructor(private readonly auth: AuthService) {}

  @Allow(PUBLIC)
  @Mutation(() => AuthTokensDto, { description: 'Signs a person in. Repeated failures lock the account for a while.' })
  login(@Args('username') username: string, @Args('password') password: string, @Context('req') req: IncomingMessage) {
    return this.auth.login(username, password, req.socket?.remoteAddress ?? null);
  }

  @Allow(PUBLIC)
  @Mutation(() => AuthTokensDto, { description: 'A department\'s system exchanges its client id and secret for an access token.' })
  clientToken(@Args('clientId') clientId: string, @Args('clientSecret') clientSecret: string, @Context('req') req: IncomingMessage) {
    return this.auth.clientToken(clientId, clientSecret, req.socket?.remoteAddress ?? null);
  }

  @Allow(PUBLIC)
  @Mutation(() => AuthTokensDto, { description: 'A new token pair for a refresh token; the old refresh token stops working.' })
  refreshToken(@Args('refreshToken') refreshToken: string) {
    return this.auth.refresh(refreshToken);
  }

  @Allow(...Object.values(Permission))
  @Mutation(() => Boolean, { description: 'Ends the current session: its access and refresh tokens stop working at once.' })
  async logout(@Ctx() ctx: RequestContext) {
    if (!ctx.actor.sessionId) throw DomainError.invalidState('当前请求没有会话', 'This request has no session');
    await this.auth.revokeSession(ctx.actor.sessionId);
    return true;
  }

  @Allow(...Object.values(Permission))
  @Query(() => MeDto)
  me(@Ctx() ctx: RequestContext): MeDto {
    const a = ctx.access;
    return {
      actor: ctx.actor.id, kind: ctx.actor.kind, role: ctx.actor.role, department: ctx.actor.departmentCode, permissions: [...a.permissions].sort(),
      jurisdiction: a.jurisdiction ? a.jurisdiction.map((r) => r.from) : null, purposes: a.purposes ? [...a.purposes].sort() : null,
    };
  }

  @Allow(Permission.MANAGE_IDENTITIES)
  @Mutation(() => ClientSecretDto, { description: 'Rotates a client\'s secret; the old one works for overlapMinutes more.' })
  async rotateClientSecret(@Args('clientId') clientId: string, @Args('overlapMinutes', { type: () => Int, defaultValue: 60 }) overlapMinutes: number) {
    return { clientId, secret: await this.auth.rotateClientSecret(clientId, overlapMinutes) };
  }

  @Allow(Permission.MANAGE_SECURITY)
  @Mutation(() => Int, { description: 'Ends every session of a user or client (returns how many).' })
  revokeSessions(@Args('principalKind') principalKind: string, @Args('principalId', { type: () => ID }) principalId: string) {
    if (principalKind !== 'USER' && principalKind !== 'CLIENT') throw DomainError.badInput('principalKind', '类型须为 USER 或 CLIENT', 'principalKind must be USER or CLIENT');
    return this.auth.revokeAllSessions(principalKind, requireUuid(principalId, 'principalId'));
  }
}
