import { DataSource } from 'typeorm';
import { communitySeeds, DivisionSeed, upsertDivisions } from '@linli/codes';
import { isIsoDate } from './calendar';
import { distributeResidents, generateCommunity } from './community.generator';
import { CommunityData, HouseholdBundle } from './register-rows';
import { addCounts, emptyCounts, RegisterWriter, WrittenCounts } from './register.writer';

/** Manual tags the demo writes; their definitions must be in the database (they are synced by `migrate`). */
export const SEEDED_TAG_CODES = ['FLOATING', 'PARTY_MEMBER', 'DISABLED', 'ELDERLY_LIVING_ALONE', 'VETERAN', 'HARD_TO_EMPLOY', 'LOW_INCOME', 'LOW_INCOME_MEMBER'] as const;

export const DEFAULT_RESIDENTS = 20_000;
export const MAX_RESIDENTS = 1_000_000;
export const DEFAULT_SEED_VALUE = 'linli-demo';
/** Fixed reference date, so the same arguments give the same data on any day (capped at today if the clock is behind). */
export const DEFAULT_AS_OF = '2026-06-30';
/** Communities per township in the default demo district: 17 townships × 4 = 68 synthetic communities. */
export const DEFAULT_COMMUNITIES_PER_TOWNSHIP = 4;

export interface SeedOptions {
  /** Residents to create over all communities (1 … 1,000,000). */
  residents?: number;
  /** Seed of the pseudo-random streams; the same value and options give the same data. */
  seedValue?: string;
  /**
   * The synthetic communities to fill (created or updated with `upsertDivisions`; their township must exist).
   * Defaults to `communitySeeds(4)`. Tests pass their own code range so they never meet other tests' data.
   */
  communities?: DivisionSeed[];
  /** Reference date (YYYY-MM-DD) for ages and dates. */
  asOf?: string;
  /** Delete the communities' data first, then seed again. */
  reset?: boolean;
  /** Allow the fast reset (superuser only; falls back to ordinary deletes otherwise). Default true. */
  fastReset?: boolean;
  /** Residents per transaction. */
  batchResidents?: number;
  /** Transactions written in parallel while the next community is generated. */
  concurrency?: number;
  log?: (line: string) => void;
}

export interface SeedSummary extends WrittenCounts {
  /** True when the communities already held data and nothing was written. */
  skipped: boolean;
  communities: number;
  /** Residents per population type and tags per code, as written. */
  floatingResidents: number;
  tagCounts: Record<string, number>;
  elapsedMs: number;
}

export class SeedError extends Error {}

export interface ResolvedOptions {
  residents: number;
  seedValue: string;
  communities: DivisionSeed[];
  asOf: string;
  reset: boolean;
  fastReset: boolean;
  batchResidents: number;
  concurrency: number;
  log: (line: string) => void;
}

/** Checks and completes the options; throws a SeedError naming the bad option. */
export function resolveSeedOptions(options: SeedOptions): ResolvedOptions {
  const residents = options.residents ?? DEFAULT_RESIDENTS;
  if (!Number.isInteger(residents) || residents < 1 || residents > MAX_RESIDENTS) {
    throw new SeedError(`residents must be an integer from 1 to ${MAX_RESIDENTS}, got ${residents}`);
  }
  const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10); // China Standard Time
  const asOf = options.asOf ?? (DEFAULT_AS_OF <= today ? DEFAULT_AS_OF : today);
  if (!isIsoDate(asOf) || asOf > today) throw new SeedError(`asOf must be a real date (YYYY-MM-DD) not after today, got ${asOf}`);
  const communities = options.communities ?? communitySeeds(DEFAULT_COMMUNITIES_PER_TOWNSHIP);
  if (communities.length === 0) throw new SeedError('no communities to seed');
  for (const c of communities) {
    if (c.level !== 'COMMUNITY' || !/^\d{12}$/.test(c.code) || !c.parentCode) throw new SeedError(`not a community division: ${c.code}`);
  }
  return {
    residents, asOf, communities,
    seedValue: options.seedValue ?? DEFAULT_SEED_VALUE,
    reset: options.reset ?? false,
    fastReset: options.fastReset ?? true,
    batchResidents: Math.max(100, options.batchResidents ?? 5_000),
    concurrency: Math.max(1, Math.min(8, options.concurrency ?? 2)),
    log: options.log ?? (() => undefined),
  };
}

/** Refuses to start on a database without the schema or the reference data that `npm run migrate` provides. */
async function checkPrerequisites(ds: DataSource, communities: DivisionSeed[]): Promise<Map<string, string>> {
  const [schema] = (await ds.query(`SELECT to_regclass('public.resident') IS NOT NULL AS ok`)) as { ok: boolean }[];
  if (!schema?.ok) throw new SeedError('the database has no register tables: run `npm run migrate` first');
  const tags = (await ds.query(`SELECT code FROM tag_definition WHERE code = ANY($1)`, [[...SEEDED_TAG_CODES]])) as { code: string }[];
  const missingTags = SEEDED_TAG_CODES.filter((code) => !tags.some((t) => t.code === code));
  if (missingTags.length) throw new SeedError(`tag definitions missing (${missingTags.join(', ')}): run \`npm run migrate\` first`);
  const parents = [...new Set(communities.map((c) => c.parentCode as string))];
  const rows = (await ds.query(`SELECT code, name FROM division WHERE code = ANY($1::bpchar[])`, [parents])) as { code: string; name: string }[];
  const names = new Map(rows.map((r) => [r.code, r.name]));
  const missing = parents.filter((p) => !names.has(p));
  if (missing.length) throw new SeedError(`parent divisions missing (${missing.join(', ')}): run \`npm run migrate\` first`);
  return names;
}

/** Groups household bundles into transactions of about `size` residents (a household is never split). */
function* batches(bundles: readonly HouseholdBundle[], size: number): Generator<HouseholdBundle[]> {
  let batch: HouseholdBundle[] = [];
  let residents = 0;
  for (const bundle of bundles) {
    batch.push(bundle);
    residents += bundle.residents.length;
    if (residents >= size) {
      yield batch;
      batch = [];
      residents = 0;
    }
  }
  if (batch.length) yield batch;
}

function tally(data: CommunityData, tagCounts: Record<string, number>): number {
  let floating = 0;
  for (const bundle of data.households) {
    for (const r of bundle.residents) if (r.populationType === 'FLOATING') floating++;
    for (const t of bundle.residentTags) tagCounts[t.tagCode] = (tagCounts[t.tagCode] ?? 0) + 1;
    for (const t of bundle.householdTags) tagCounts[t.tagCode] = (tagCounts[t.tagCode] ?? 0) + 1;
  }
  return floating;
}

/**
 * Builds the synthetic demo district (演示辖区): communities, grids, places, households, residents, residences,
 * manual tags and one change_history row per resident. Safe to re-run: when the communities already hold data it
 * writes nothing (unless `reset`). Generation of the next community overlaps with writing the previous ones.
 */
export async function seedDemoDistrict(ds: DataSource, options: SeedOptions = {}): Promise<SeedSummary> {
  const started = Date.now();
  const o = resolveSeedOptions(options);
  const codes = o.communities.map((c) => c.code);
  const townshipNames = await checkPrerequisites(ds, o.communities);
  const writer = new RegisterWriter(ds);
  const summary: SeedSummary = { ...emptyCounts(), skipped: false, communities: o.communities.length, floatingResidents: 0, tagCounts: {}, elapsedMs: 0 };

  // Demo data is recognised by its source (resident.source = 'SEED'); records entered by workers in the same
  // communities do not count as demo data, but --reset deletes them too (the communities are synthetic).
  const existing = await writer.existing(codes);
  if (existing.seeded > 0 && !o.reset) {
    o.log(`demo data already present in these ${codes.length} communities (${existing.seeded} seeded residents, ${existing.households} households); nothing written. Use --reset to rebuild it.`);
    return { ...summary, skipped: true, residents: existing.residents, households: existing.households, compounds: existing.compounds, elapsedMs: Date.now() - started };
  }
  if (o.reset && existing.residents + existing.households + existing.compounds > 0) {
    const bypass = o.fastReset && (await writer.isSuperuser());
    o.log(`deleting all data of ${codes.length} demo communities (${existing.residents} residents)${bypass ? '' : ' with per-row checks (slow for large districts)'} …`);
    await writer.deleteCommunities(codes, bypass);
  }

  await ds.transaction((m) => upsertDivisions(m, o.communities));
  const usedIdNumbers = await writer.takenIdNumbers();
  const pinyinCache = new Map<string, string>();
  const perCommunity = distributeResidents(o.residents, codes, o.seedValue);

  // A small pipeline: generate a community (CPU, this process) while earlier ones are written (PostgreSQL).
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const write = async (data: CommunityData): Promise<void> => {
    addCounts(summary, await writer.writePlaces(data.places));
    for (const batch of batches(data.households, o.batchResidents)) {
      if (failure) return;
      addCounts(summary, await writer.writeHouseholds(batch));
    }
  };
  let done = 0;
  for (const community of o.communities) {
    if (failure) break;
    const data = generateCommunity({
      community, townshipName: townshipNames.get(community.parentCode as string) ?? '', residents: perCommunity.get(community.code) ?? 0,
      seedValue: o.seedValue, asOf: o.asOf, usedIdNumbers, pinyinCache,
    });
    summary.floatingResidents += tally(data, summary.tagCounts);
    while (inFlight.size >= o.concurrency) await Promise.race(inFlight);
    const task: Promise<void> = write(data)
      .catch((err: unknown) => { failure = failure ?? err; })
      .finally(() => {
        inFlight.delete(task);
        done++;
        if (done % 10 === 0 || done === o.communities.length) o.log(`  ${done}/${o.communities.length} communities, ${summary.residents} residents written`);
      });
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  if (failure) {
    const message = failure instanceof Error ? failure.message : String(failure);
    throw new SeedError(`seeding failed after ${summary.residents} residents: ${message}. Rerun with --reset to start over.`);
  }
  await writer.analyze();
  summary.elapsedMs = Date.now() - started;
  return summary;
}

/** One-paragraph summary for the console. */
export function formatSummary(s: SeedSummary): string {
  const seconds = (s.elapsedMs / 1000).toFixed(1);
  if (s.skipped) return `skipped (already seeded): ${s.communities} communities, ${s.households} households, ${s.residents} residents (${seconds} s)`;
  const tags = Object.entries(s.tagCounts).sort(([a], [b]) => a.localeCompare(b)).map(([code, n]) => `${code} ${n}`).join(', ');
  return [
    `seeded in ${seconds} s:`,
    `  communities ${s.communities}, grids ${s.grids}, compounds ${s.compounds}, buildings ${s.buildings}, units ${s.units}, dwellings ${s.dwellings}`,
    `  households ${s.households}, residents ${s.residents} (floating ${s.floatingResidents}), memberships ${s.members}, residences ${s.residences}`,
    `  resident tags ${s.residentTags}, household tags ${s.householdTags}, change_history rows ${s.historyRows}`,
    `  tags: ${tags}`,
  ].join('\n');
}

/**
 * Deletes all data of the given demo communities (their division rows stay). Used by tests to leave nothing behind
 * that could meet other tests' data, e.g. an ID number drawn at random elsewhere.
 */
export async function removeDemoDistrict(ds: DataSource, communities: DivisionSeed[], fastReset = true): Promise<void> {
  const writer = new RegisterWriter(ds);
  await writer.deleteCommunities(communities.map((c) => c.code), fastReset && (await writer.isSuperuser()));
}
