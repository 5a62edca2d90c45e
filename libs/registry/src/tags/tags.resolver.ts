import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Allow, Ctx, Permission, RequestContext } from '@linli/core';
import { TagDefinitionDto } from '../dtos/tag.dto';
import { TagChangePayload } from '../dtos/payloads';
import { AssignTagInput, RemoveTagInput } from '../dtos/inputs';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { TagsService } from './tags.service';

const KEY = { type: () => String, nullable: true, description: 'Same key and input return the first result; same key, other input is refused.' };

@Resolver()
export class TagsResolver {
  constructor(private readonly tags: TagsService, private readonly idempotency: IdempotencyService) {}

  @Allow(Permission.READ_REFERENCE)
  @Query(() => [TagDefinitionDto], { description: 'The special groups that can be tagged, with their attribute schemas.' })
  tagDefinitions(@Ctx() _ctx: RequestContext) {
    return this.tags.listDefinitions();
  }

  @Allow(Permission.WRITE_REGISTER, Permission.WRITE_OWN_LINE_TAGS)
  @Mutation(() => TagChangePayload, { description: 'Assigns a manual tag (replacing the current one of the same code).' })
  assignTag(@Ctx() ctx: RequestContext, @Args('input') input: AssignTagInput, @Args('idempotencyKey', KEY) key?: string) {
    return this.idempotency.run(ctx, key, 'assignTag', input, (m) => this.tags.assign(m, ctx, input));
  }

  @Allow(Permission.WRITE_REGISTER, Permission.WRITE_OWN_LINE_TAGS)
  @Mutation(() => TagChangePayload)
  removeTag(@Ctx() ctx: RequestContext, @Args('input') input: RemoveTagInput, @Args('idempotencyKey', KEY) key?: string) {
    return this.idempotency.run(ctx, key, 'removeTag', input, (m) => this.tags.remove(m, ctx, input));
  }
}
