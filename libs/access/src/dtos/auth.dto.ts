import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('AuthTokens', { description: 'A bearer access token (send as `Authorization: Bearer …`) and, for people, a refresh token.' })
export class AuthTokensDto {
  @Field() accessToken: string;
  @Field(() => Int, { description: 'Seconds until the access token expires.' }) expiresIn: number;
  @Field(() => String, { nullable: true }) refreshToken: string | null;
  @Field(() => ID) sessionId: string;
}

@ObjectType('Me', { description: 'The signed-in principal and what it may do.' })
export class MeDto {
  @Field() actor: string;
  @Field() kind: string;
  @Field() role: string;
  @Field(() => String, { nullable: true }) department: string | null;
  @Field(() => [String]) permissions: string[];
  @Field(() => [String], { nullable: true, description: 'Division codes; null = everywhere.' }) jurisdiction: string[] | null;
  @Field(() => [String], { nullable: true }) purposes: string[] | null;
}

@ObjectType('ClientSecret', { description: 'A client secret, shown once.' })
export class ClientSecretDto {
  @Field() clientId: string;
  @Field() secret: string;
}

@ObjectType('AuditRecord')
export class AuditRecordDto {
  @Field(() => ID) id: string;
  @Field() occurredAt: Date;
  @Field() actor: string;
  @Field() actorKind: string;
  @Field() role: string;
  @Field(() => String, { nullable: true }) department: string | null;
  @Field(() => String, { nullable: true }) purpose: string | null;
  @Field() operation: string;
  @Field(() => [ID]) residentIds: string[];
  @Field(() => [ID]) householdIds: string[];
  @Field(() => [String]) fieldsClear: string[];
  @Field(() => [String]) fieldsMasked: string[];
  @Field() outcome: string;
  @Field() requestId: string;
  @Field(() => String, { nullable: true }) sourceAddress: string | null;
}

@ObjectType('AuditRecordPage')
export class AuditRecordPageDto {
  @Field(() => [AuditRecordDto]) records: AuditRecordDto[];
  @Field(() => Int) totalCount: number;
  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next (older) page.' }) nextCursor: string | null;
}

@ObjectType('AuditChainReport')
export class AuditChainReportDto {
  @Field() ok: boolean;
  @Field(() => Int) checked: number;
  @Field(() => ID, { nullable: true, description: 'The first record whose content or link does not match.' }) firstBrokenId: string | null;
  @Field(() => String, { nullable: true }) reason: string | null;
}

@InputType()
export class AuditFilter {
  @Field(() => ID, { nullable: true }) residentId?: string | null;
  @Field(() => String, { nullable: true, description: 'e.g. `client:mz-dibao` or `user:wang.fang`' }) actor?: string | null;
  @Field(() => Date, { nullable: true }) from?: Date | null;
  @Field(() => Date, { nullable: true }) to?: Date | null;
  @Field(() => String, { nullable: true }) purpose?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Only records that revealed fields in clear.' }) clearOnly?: boolean | null;
}

@ObjectType('AccessReportEntry', { description: 'One look at a resident\'s data: who, for what, when, which fields.' })
export class AccessReportEntryDto {
  @Field() occurredAt: Date;
  @Field() actor: string;
  @Field(() => String, { nullable: true }) department: string | null;
  @Field(() => String, { nullable: true }) purpose: string | null;
  @Field() operation: string;
  @Field(() => [String]) fieldsClear: string[];
}
