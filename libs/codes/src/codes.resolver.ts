import { Args, Query, Resolver } from '@nestjs/graphql';
import { Allow, Ctx, Permission, RequestContext } from '@linli/core';
import { CodesService } from './codes.service';
import { CodeEntryDto, CodeListNameEnum, DivisionDto } from './dtos/code-list.dto';

@Resolver()
export class CodesResolver {
  constructor(private readonly codes: CodesService) {}

  @Allow(Permission.READ_REFERENCE)
  @Query(() => [CodeEntryDto], { description: 'A code list (代码表), optionally only the entries valid on a date.' })
  codeList(
    @Ctx() _ctx: RequestContext,
    @Args('name', { type: () => CodeListNameEnum }) name: CodeListNameEnum,
    @Args('validOn', { type: () => String, nullable: true }) validOn?: string,
  ): CodeEntryDto[] {
    return this.codes.codeList(name, validOn ?? undefined);
  }

  @Allow(Permission.READ_REFERENCE)
  @Query(() => [DivisionDto], { description: 'Divisions under a parent code; the top level when no parent is given.' })
  divisions(
    @Ctx() _ctx: RequestContext,
    @Args('parentCode', { type: () => String, nullable: true }) parentCode?: string,
  ): DivisionDto[] {
    return this.codes.children(parentCode ?? null);
  }
}
