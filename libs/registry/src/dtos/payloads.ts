import { Field, ID, ObjectType } from '@nestjs/graphql';

@ObjectType('TagChangePayload', { description: 'Result of assignTag / removeTag: the record that now holds (or no longer holds) the tag.' })
export class TagChangePayload {
  @Field(() => ID, { nullable: true }) residentId: string | null;
  @Field(() => ID, { nullable: true }) householdId: string | null;
}
