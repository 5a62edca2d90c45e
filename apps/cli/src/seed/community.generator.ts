import { DivisionSeed } from '@linli/codes';
import { dayOf } from './calendar';
import { HouseholdGenerator } from './households.generator';
import { generatePlaces } from './places.generator';
import { CommunityData } from './register-rows';
import { SeededRandom } from './seeded-random';
import { DEFAULT_STREETS, STREETS_BY_TOWNSHIP } from './vocabulary';

export interface CommunityInput {
  community: DivisionSeed;
  /** Name of the parent township (街道 / 镇 / 乡), for addresses. */
  townshipName: string;
  residents: number;
  seedValue: string;
  /** Reference date YYYY-MM-DD: ages, dates and "today" of the synthetic data. */
  asOf: string;
  usedIdNumbers: Set<string>;
  pinyinCache: Map<string, string>;
}

/**
 * Generates one synthetic community (演示社区): places sized to its households, then the households, their members,
 * residences and tags. Depends only on the input (and on which ID numbers are already taken), so the same seed value,
 * community and size always give the same rows.
 */
export function generateCommunity(input: CommunityInput): CommunityData {
  const { community } = input;
  const rng = new SeededRandom(`${input.seedValue}/community/${community.code}/${input.residents}`);
  const ids = rng.fork('keys');
  // Townships 100+ are towns (镇) and rural townships (乡): their communities are villages (村).
  const rural = Number(community.code.slice(6, 9)) >= 100;
  const generator = new HouseholdGenerator({
    rng: rng.fork('people'), ids, asOfDay: dayOf(input.asOf), communityCode: community.code, communityName: community.name,
    townshipName: input.townshipName, rural, usedIdNumbers: input.usedIdNumbers, pinyinCache: input.pinyinCache,
  });
  // Floating share of residents varies by community around 15 % (more in industrial towns, less in the old city).
  const floatingShare = (rural ? rng.int(10, 24) : rng.int(6, 22)) / 100;
  const plans = generator.planHouseholds(input.residents, floatingShare);
  const built = generatePlaces({
    communityCode: community.code, communityName: community.name, rural,
    streets: STREETS_BY_TOWNSHIP[community.code.slice(0, 9)] ?? DEFAULT_STREETS,
    familyHouseholds: plans.filter((p) => p.kind === 'FAMILY').length,
    collectiveHouseholds: plans.filter((p) => p.kind === 'COLLECTIVE').length,
  }, rng.fork('places'), ids);
  const households = generator.generate(plans, built.homes, built.dormRooms, built.employer);
  return { communityCode: community.code, places: built.places, households };
}

/**
 * Splits `total` residents over communities with weights drawn from the seed (largest remainders), so every
 * community gets a plausible, different size and the sum is exact.
 */
export function distributeResidents(total: number, communityCodes: readonly string[], seedValue: string): Map<string, number> {
  const rng = new SeededRandom(`${seedValue}/distribution`);
  const weights = communityCodes.map(() => 0.6 + rng.next() * 0.8);
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    counts[i] = (counts[i] ?? 0) + 1;
    left--;
  }
  return new Map(communityCodes.map((code, i) => [code, counts[i] ?? 0]));
}
