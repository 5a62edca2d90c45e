import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessPolicyEntity, ApiClientEntity, AuditLogEntity, DepartmentEntity, SessionEntity, UserEntity } from './entities/identity.entities';
import { AuthService } from './auth.service';
import { AuditService } from './audit.service';
import { IdentitiesService } from './identities.service';
import { ContextFactory } from './context.factory';
import { AccessGuard } from './access.guard';
import { QueryBudget } from './query-budget';
import { AuthResolver } from './auth.resolver';
import { AuditResolver } from './audit.resolver';
import { PrincipalChanges } from './principal-changes';

/** Identities, sessions (and their revocation across processes), the global access guard and the audit trail. */
@Module({
  imports: [TypeOrmModule.forFeature([DepartmentEntity, AccessPolicyEntity, UserEntity, ApiClientEntity, SessionEntity, AuditLogEntity])],
  providers: [AuthService, PrincipalChanges, AuditService, IdentitiesService, ContextFactory, QueryBudget, AuthResolver, AuditResolver, { provide: APP_GUARD, useClass: AccessGuard }],
  exports: [AuthService, PrincipalChanges, AuditService, IdentitiesService, ContextFactory, QueryBudget],
})
export class AccessModule {}
