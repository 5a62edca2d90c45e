import { ResidentDto } from '../dtos/resident.dto';
import { HouseholdDto } from '../dtos/household.dto';
import { TagDto } from '../dtos/tag.dto';

/**
 * What a page's own statement already read for one resident (current household, current tags), carried on the DTO
 * under a symbol, so never serialised. A nested field resolver answers from it synchronously: no DataLoader round
 * trip, no promise per field and per row for GraphQL execution to wait on. `undefined` means "not prefetched, load
 * it"; `null` is a real answer (no household, or one outside the jurisdiction).
 */
export interface Prefetched {
  household?: HouseholdDto | null;
  tags?: TagDto[];
}

const PREFETCHED = Symbol('prefetched');

type WithPrefetched = ResidentDto & { [PREFETCHED]?: Prefetched };

export function attachPrefetched(dto: ResidentDto, prefetched: Prefetched): void {
  (dto as WithPrefetched)[PREFETCHED] = prefetched;
}

export function prefetchedOf(dto: ResidentDto): Prefetched | undefined {
  return (dto as WithPrefetched)[PREFETCHED];
}
