import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Allow, checkPageSize, Ctx, Permission, RequestContext } from '@linli/core';
import { SyncService } from './sync.service';
import { ReplaySyncInput, SyncBatchRunStartedDto, SyncDeadLetterPageDto, SyncDriftReportDto, SyncDryRunDto, SyncReconcileReportDto, SyncStatusDto, SyncTargetDto } from './sync.dto';

@Resolver()
export class SyncResolver {
  constructor(private readonly sync: SyncService) {}

  @Allow(Permission.READ_REGISTER)
  @Query(() => [SyncStatusDto], { description: 'Where did my record go: its state at every legacy system that receives it.' })
  async syncStatus(@Ctx() ctx: RequestContext, @Args('residentId', { type: () => ID }) residentId: string): Promise<SyncStatusDto[]> {
    return (await this.sync.status(ctx, residentId)).map((r) => ({
      target: r.target, title: r.title, status: r.status, wantedVersion: r.wanted_version, appliedVersion: r.applied_version, attempts: r.attempts,
      lastError: r.last_error, deliveredAt: r.delivered_at, targetRef: r.target_ref,
    }));
  }

  @Allow(Permission.MANAGE_SYNC)
  @Query(() => [SyncTargetDto], { description: 'Every target with queue depth, lag, deliveries and failures, last batch.' })
  syncTargets(@Ctx() _ctx: RequestContext) {
    return this.sync.targets();
  }

  @Allow(Permission.MANAGE_SYNC)
  @Query(() => SyncDeadLetterPageDto)
  async deadLetters(
    @Ctx() _ctx: RequestContext,
    @Args('target') target: string,
    @Args('first', { type: () => Int, defaultValue: 50 }) first: number,
    @Args('after', { type: () => String, nullable: true }) after: string | null,
  ): Promise<SyncDeadLetterPageDto> {
    checkPageSize(first, 500);
    const page = await this.sync.deadLetters(target, first, after);
    return {
      items: page.rows.map((r) => ({ id: r.id, residentId: r.aggregate_id, version: r.version, answer: r.answer, createdAt: r.created_at })),
      totalCount: page.total, nextCursor: page.next,
    };
  }

  @Allow(Permission.MANAGE_SYNC)
  @Mutation(() => Int, { description: 'Sends again: one record (to one or all targets), or all dead letters of a target. Returns how many.' })
  replaySync(@Ctx() ctx: RequestContext, @Args('input') input: ReplaySyncInput) {
    return this.sync.replay(ctx, input);
  }

  @Allow(Permission.MANAGE_SYNC)
  @Query(() => SyncDryRunDto)
  async dryRunSync(@Ctx() ctx: RequestContext, @Args('target') target: string, @Args('residentId', { type: () => ID }) residentId: string): Promise<SyncDryRunDto> {
    const r = await this.sync.dryRun(ctx, target, residentId);
    return { target, subscribed: r.subscribed, operation: r.record?.operation ?? null, key: r.record?.key ?? null, fields: r.record?.fields ?? null, problem: r.problem };
  }

  @Allow(Permission.MANAGE_SYNC)
  @Mutation(() => [SyncReconcileReportDto], { description: 'Re-enqueues every record a target is behind on (all targets when none is named).' })
  reconcileSync(@Ctx() _ctx: RequestContext, @Args('target', { type: () => String, nullable: true }) target: string | null) {
    return this.sync.reconcile(target);
  }

  @Allow(Permission.MANAGE_SYNC)
  @Query(() => SyncDriftReportDto, { description: 'Compares what a listable target holds with what the hub believes it delivered (keys and content hashes).' })
  syncDrift(@Ctx() _ctx: RequestContext, @Args('target') target: string): Promise<SyncDriftReportDto> {
    return this.sync.drift(target, false);
  }

  @Allow(Permission.MANAGE_SYNC)
  @Mutation(() => SyncDriftReportDto, { description: 'The drift report, then every drifted record sent again (missing, differing, unexpected).' })
  repairSyncDrift(@Ctx() _ctx: RequestContext, @Args('target') target: string): Promise<SyncDriftReportDto> {
    return this.sync.drift(target, true);
  }

  @Allow(Permission.MANAGE_SYNC)
  @Mutation(() => SyncBatchRunStartedDto, { description: 'Starts a batch target\'s run now (the file of every pending record), instead of at its next scheduled time.' })
  runSyncBatch(@Ctx() _ctx: RequestContext, @Args('target') target: string): Promise<SyncBatchRunStartedDto> {
    return this.sync.runBatch(target);
  }
}
