import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { Allow, checkPageSize, Ctx, Permission, RequestContext, requireUuid } from '@linli/core';
import { AuditService } from './audit.service';
import { AccessReportEntryDto, AuditChainReportDto, AuditFilter, AuditRecordPageDto } from './dtos/auth.dto';

/** For auditors (审计员) and discipline inspection: who looked at what, and whether the trail is intact. */
@Resolver()
export class AuditResolver {
  constructor(private readonly audit: AuditService) {}

  @Allow(Permission.READ_AUDIT)
  @Query(() => AuditRecordPageDto, { description: 'Audit records, newest first: who read resident X, what client Y read between dates, reveals by purpose.' })
  async auditTrail(
    @Ctx() _ctx: RequestContext,
    @Args('filter', { type: () => AuditFilter, nullable: true }) filter: AuditFilter | null,
    @Args('first', { type: () => Int, defaultValue: 50 }) first: number,
    @Args('after', { type: () => String, nullable: true }) after: string | null,
  ): Promise<AuditRecordPageDto> {
    checkPageSize(first, 500);
    if (filter?.residentId) requireUuid(filter.residentId, 'filter.residentId');
    const { rows, total } = await this.audit.list(filter ?? {}, first, after && /^\d+$/.test(after) ? after : null);
    const page = rows.slice(0, first);
    return { records: page, totalCount: total, nextCursor: rows.length > first ? page[page.length - 1].id : null };
  }

  @Allow(Permission.READ_AUDIT)
  @Query(() => [AccessReportEntryDto], { description: 'A resident\'s own access report: who looked at my data, when, for what.' })
  async residentAccessReport(@Ctx() _ctx: RequestContext, @Args('residentId', { type: () => ID }) residentId: string) {
    const { rows } = await this.audit.list({ residentId: requireUuid(residentId, 'residentId') }, 500, null);
    return rows.map((r) => ({ occurredAt: r.occurredAt, actor: r.actor, department: r.department, purpose: r.purpose, operation: r.operation, fieldsClear: r.fieldsClear }));
  }

  @Allow(Permission.READ_AUDIT)
  @Query(() => AuditChainReportDto, { description: 'Recomputes the hash chain and reports the first broken link.' })
  verifyAuditChain(@Ctx() _ctx: RequestContext) {
    return this.audit.verify();
  }
}
