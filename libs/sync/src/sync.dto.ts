import { Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { JSONObjectScalar } from '@linli/core';

@ObjectType('SyncStatus', { description: 'Where a record went: its state at one legacy system.' })
export class SyncStatusDto {
  @Field() target: string;
  @Field() title: string;
  @Field({ description: 'PENDING, DELIVERED, NOT_SUBSCRIBED, FAILED (gave up after retries) or DEAD (rejected by the target).' }) status: string;
  @Field(() => Int) wantedVersion: number;
  @Field(() => Int, { nullable: true }) appliedVersion: number | null;
  @Field(() => Int) attempts: number;
  @Field(() => String, { nullable: true }) lastError: string | null;
  @Field(() => Date, { nullable: true }) deliveredAt: Date | null;
  @Field(() => String, { nullable: true, description: 'The target\'s own reference, where it gives one.' }) targetRef: string | null;
}

@ObjectType('SyncTarget', { description: 'A legacy system the hub feeds, with its queue and health.' })
export class SyncTargetDto {
  @Field() name: string;
  @Field() title: string;
  @Field() protocol: string;
  @Field({ description: 'realtime or batch' }) mode: string;
  @Field(() => Int) waiting: number;
  @Field(() => Int) delayed: number;
  @Field(() => Int) active: number;
  @Field(() => Int, { description: 'Records whose newest version has not reached the target yet.' }) pending: number;
  @Field(() => Float, { nullable: true, description: 'Age in seconds of the oldest pending change (lag).' }) behindSeconds: number | null;
  @Field(() => Int) delivered24h: number;
  @Field(() => Int) failures24h: number;
  @Field(() => Int, { description: 'Open dead letters.' }) deadLetters: number;
  @Field(() => Date, { nullable: true }) lastBatchAt: Date | null;
  @Field(() => String, { nullable: true }) lastBatchStatus: string | null;
}

@ObjectType('SyncDeadLetter')
export class SyncDeadLetterDto {
  @Field(() => ID) id: string;
  @Field(() => ID) residentId: string;
  @Field(() => Int) version: number;
  @Field({ description: 'The target\'s answer.' }) answer: string;
  @Field() createdAt: Date;
}

@ObjectType('SyncDeadLetterPage')
export class SyncDeadLetterPageDto {
  @Field(() => [SyncDeadLetterDto]) items: SyncDeadLetterDto[];
  @Field(() => Int) totalCount: number;
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('SyncDryRun', { description: 'Exactly what would be sent, after mapping, without sending.' })
export class SyncDryRunDto {
  @Field() target: string;
  @Field() subscribed: boolean;
  @Field(() => String, { nullable: true }) operation: string | null;
  @Field(() => String, { nullable: true }) key: string | null;
  @Field(() => JSONObjectScalar, { nullable: true, description: 'Target field names and codes.' }) fields: Record<string, unknown> | null;
  @Field(() => String, { nullable: true, description: 'Why the record cannot be mapped, if it cannot.' }) problem: string | null;
}

@ObjectType('SyncReconcileReport')
export class SyncReconcileReportDto {
  @Field() target: string;
  @Field(() => Int) requeued: number;
  @Field(() => Int) initialLoad: number;
  @Field({ description: 'A batch target\'s schedule was missing from Redis (lost with its data) and was registered again.' }) schedulerRestored: boolean;
}

@InputType()
export class ReplaySyncInput {
  @Field(() => String, { nullable: true }) target?: string | null;
  @Field(() => ID, { nullable: true }) residentId?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'With target: every open dead letter of that target.' }) allDeadLetters?: boolean | null;
}

@ObjectType('SyncDriftReport', { description: 'What a target holds compared with what the hub believes it delivered. Resident ids only, no personal data.' })
export class SyncDriftReportDto {
  @Field() target: string;
  @Field({ description: 'False when the target cannot be listed (batch and SOAP targets): the other fields are then empty.' }) comparable: boolean;
  @Field({ description: 'True when content hashes were compared as well as keys.' }) comparesContent: boolean;
  @Field(() => Int, { description: 'Records the target should hold.' }) expected: number;
  @Field(() => Int, { description: 'Keys the target holds.' }) atTarget: number;
  @Field(() => Int) missing: number;
  @Field(() => Int, { description: 'Held with other content than the current mapping.' }) differing: number;
  @Field(() => Int, { description: 'Held although the record left the target\'s group or was never sent.' }) unexpected: number;
  @Field(() => Int, { description: 'Keys at the target that match no record the hub knows for it.' }) unknownAtTarget: number;
  @Field(() => Int, { description: 'Records with a change on its way (pending, failed, dead), not compared.' }) notCompared: number;
  @Field(() => [ID], { description: 'At most 1,000.' }) missingIds: string[];
  @Field(() => [ID], { description: 'At most 1,000.' }) differingIds: string[];
  @Field(() => [ID], { description: 'At most 1,000.' }) unexpectedIds: string[];
  @Field(() => Int, { description: 'Records sent again (repairSyncDrift only).' }) requeued: number;
}

@ObjectType('SyncBatchRunStarted', { description: 'A batch target\'s run, queued for the worker.' })
export class SyncBatchRunStartedDto {
  @Field() target: string;
  @Field({ description: 'The BullMQ job id of the run.' }) jobId: string;
}
