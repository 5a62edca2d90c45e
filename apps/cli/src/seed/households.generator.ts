import { generateIdNumber } from '@linli/codes';
import { namePinyin } from '@linli/registry';
import { addYears, ageOn, dayOf, isoOf, yearOf } from './calendar';
import { SeededRandom, WeightedTable } from './seeded-random';
import { DwellingSlot } from './places.generator';
import { DwellingRow, HouseholdBundle, HouseholdTagRow, ResidenceRow, ResidentRow, TagAttributes } from './register-rows';
import {
  cohortOf, CountyOfOrigin, FLOATING_ORIGINS, GIVEN_NAMES, HOME_TOWN_STEMS, MOBILE_PREFIXES, MOVED_IN_ORIGINS, SURNAMES,
  VETERAN_CATEGORIES,
} from './vocabulary';

/*
 * Synthetic people (合成居民) and their households (户). Every value is invented; the distributions are rough
 * guesses at an urban district of Zhejiang, good enough for demos, tests and benchmarks, never for statistics.
 */

type Sex = '1' | '2';
type Role = 'HEAD' | 'SPOUSE' | 'CHILD' | 'PARENT' | 'CHILD_IN_LAW' | 'GRANDCHILD' | 'COLLECTIVE_MEMBER';
type Shape = 'SINGLE' | 'COUPLE' | 'COUPLE_CHILDREN' | 'SINGLE_PARENT' | 'THREE_GENERATIONS' | 'ELDER_THREE_GENERATIONS' | 'COUPLE_PARENT';
type PopulationType = ResidentRow['populationType'];

export interface HouseholdPlan {
  kind: 'FAMILY' | 'COLLECTIVE';
  populationType: PopulationType;
  shape: Shape;
  size: number;
}

/** A person while the household is being composed: who they are to the head, and when they were born. */
interface Draft {
  role: Role;
  sex: Sex;
  birthDay: number;
  surname: string;
  maritalStatus: string;
  /** GB/T 4761 relationship to the head; children get theirs once the set of children is final. */
  relationship: string;
}

/** Who the household is, decided once for all members. */
interface HouseholdProfile {
  populationType: PopulationType;
  origin: CountyOfOrigin | null;
  ethnicity: string;
}

export interface HouseholdContext {
  rng: SeededRandom;
  ids: SeededRandom;
  asOfDay: number;
  communityCode: string;
  communityName: string;
  townshipName: string;
  rural: boolean;
  /** ID numbers already taken (in the database or earlier in this run). */
  usedIdNumbers: Set<string>;
  /** Cache of name → pinyin (the same few thousand names recur). */
  pinyinCache: Map<string, string>;
}

const RELATIONSHIP = {
  HEAD: '02', SPOUSE: '10', HUSBAND: '11', WIFE: '12', SON: '20', ONLY_SON: '21', ELDEST_SON: '22', SECOND_SON: '23',
  SON_IN_LAW: '28', DAUGHTER: '30', ONLY_DAUGHTER: '31', ELDEST_DAUGHTER: '32', DAUGHTER_IN_LAW: '38', GRANDSON: '41',
  GRANDDAUGHTER: '42', DAUGHTERS_SON: '43', DAUGHTERS_DAUGHTER: '44', PARENT: '50', FATHER: '51', MOTHER: '52',
  OTHER: '80', NON_RELATIVE: '99',
} as const;

const surnames = new WeightedTable(SURNAMES);
const floatingOrigins = new WeightedTable(FLOATING_ORIGINS);
const movedInOrigins = new WeightedTable(MOVED_IN_ORIGINS);
const veteranCategories = new WeightedTable(VETERAN_CATEGORIES);

const registeredShapes = new WeightedTable<Shape>([
  ['SINGLE', 17], ['COUPLE', 26], ['COUPLE_CHILDREN', 34], ['SINGLE_PARENT', 6], ['THREE_GENERATIONS', 9],
  ['ELDER_THREE_GENERATIONS', 5], ['COUPLE_PARENT', 3],
]);
const floatingShapes = new WeightedTable<Shape>([
  ['SINGLE', 34], ['COUPLE', 24], ['COUPLE_CHILDREN', 36], ['SINGLE_PARENT', 3], ['THREE_GENERATIONS', 3],
]);

/** Minorities seen among registered Ningbo residents besides 畲族 (22): 回 03, 壮 08, 苗 06, 土家 15, 满 11, 侗 12, 蒙古 02. */
const localMinorities = new WeightedTable<string>([['03', 3], ['08', 2], ['06', 2], ['15', 2], ['11', 2], ['12', 1], ['02', 1]]);

const marriedCodes = new WeightedTable<string>([['21', 88], ['22', 10], ['23', 2]]);

/** GB/T 4658 education of adults by birth cohort; the floating population is tilted to lower levels. */
const educationByCohort: ReadonlyArray<readonly [number, WeightedTable<string>]> = [
  [1950, new WeightedTable([['80', 35], ['70', 30], ['60', 15], ['90', 14], ['40', 3], ['30', 2], ['20', 1]])],
  [1965, new WeightedTable([['70', 38], ['60', 25], ['80', 18], ['40', 8], ['30', 6], ['20', 4], ['90', 1]])],
  [1980, new WeightedTable([['70', 28], ['60', 25], ['40', 15], ['30', 14], ['20', 14], ['14', 3], ['80', 1]])],
  [1995, new WeightedTable([['20', 33], ['30', 25], ['60', 12], ['40', 12], ['70', 9], ['14', 8], ['11', 1]])],
  [9999, new WeightedTable([['20', 38], ['30', 28], ['60', 10], ['40', 12], ['70', 4], ['14', 8]])],
];
const floatingEducation = new WeightedTable([['70', 38], ['60', 22], ['40', 14], ['30', 12], ['20', 10], ['80', 4]]);

/** GB/T 2261.4 employment of people of working age. */
const urbanWork = new WeightedTable([
  ['17', 18], ['24', 17], ['13', 15], ['54', 9], ['21', 7], ['51', 7], ['11', 3], ['70', 6], ['90', 10], ['27', 1],
]);
const ruralWork = new WeightedTable([
  ['24', 26], ['27', 12], ['17', 12], ['54', 11], ['13', 8], ['21', 4], ['51', 6], ['11', 2], ['70', 6], ['90', 13],
]);
const floatingWork = new WeightedTable([['24', 42], ['54', 18], ['17', 9], ['51', 8], ['13', 4], ['21', 2], ['70', 6], ['90', 11]]);

/** 残疾类别 (1 visual, 2 hearing, 3 speech, 4 physical, 5 intellectual, 6 mental, 7 multiple) and 等级 (1 most severe … 4). */
const disabilityCategories = new WeightedTable([['1', 14], ['2', 18], ['3', 3], ['4', 40], ['5', 8], ['6', 10], ['7', 7]]);
const disabilityGrades = new WeightedTable([['1', 10], ['2', 20], ['3', 30], ['4', 40]]);

/** Marital status (GB/T 2261.2) of people living alone or as single parents. */
const singleMaritalMiddle = new WeightedTable([['10', 50], ['40', 35], ['30', 15]]);
const singleMaritalOld = new WeightedTable([['30', 68], ['40', 14], ['10', 18]]);
const retiredUrban = new WeightedTable([['80', 90], ['90', 5], ['54', 5]]);
const retiredRural = new WeightedTable([['80', 55], ['27', 35], ['90', 10]]);
const registeredResidenceKinds = new WeightedTable<ResidenceRow['kind']>([['OWNER', 88], ['TENANT', 6], ['RELATIVE', 4], ['OTHER', 2]]);
const floatingResidenceKinds = new WeightedTable<ResidenceRow['kind']>([['TENANT', 85], ['RELATIVE', 8], ['OWNER', 5], ['OTHER', 2]]);
const leftoverUse = new WeightedTable<DwellingRow['use']>([['VACANT', 78], ['RENTED', 13], ['BUSINESS', 9]]);
/** Age bands [min, max] of heads living alone and of couples without children at home (registered population). */
const singleAges = new WeightedTable<readonly [number, number]>([[[20, 34], 30], [[35, 59], 28], [[60, 69], 15], [[70, 96], 27]]);
const coupleAges = new WeightedTable<readonly [number, number]>([[[24, 35], 30], [[36, 59], 25], [[60, 90], 45]]);

const democraticParties = ['04', '05', '06', '07', '08', '09', '10', '11'] as const;

export class HouseholdGenerator {
  private readonly rng: SeededRandom;
  private readonly asOf: number;
  private householdSerial = 0;
  private lowIncomeSerial = 0;

  constructor(private readonly ctx: HouseholdContext) {
    this.rng = ctx.rng;
    this.asOf = ctx.asOfDay;
  }

  /**
   * Plans the households of a community (kind, population type, shape and exact size) so that their sizes add up to
   * exactly `residents`. Floating households are smaller than registered ones, so their share of households is scaled
   * up to reach `floatingShare` of the residents.
   */
  planHouseholds(residents: number, floatingShare: number): HouseholdPlan[] {
    const plans: HouseholdPlan[] = [];
    const floatingHouseholdShare = Math.min(0.9, floatingShare * 1.1);
    let left = residents;
    while (left > 0) {
      if (left >= 4 && this.rng.chance(0.01)) {
        const size = Math.min(left, this.rng.int(3, 10));
        plans.push({ kind: 'COLLECTIVE', populationType: 'REGISTERED', shape: 'SINGLE', size });
        left -= size;
        continue;
      }
      const populationType: PopulationType = this.rng.chance(floatingHouseholdShare) ? 'FLOATING' : 'REGISTERED';
      const shape = (populationType === 'FLOATING' ? floatingShapes : registeredShapes).pick(this.rng);
      const size = Math.min(left, this.sizeOf(shape));
      plans.push({ kind: 'FAMILY', populationType, shape: size === 1 ? 'SINGLE' : shape, size });
      left -= size;
    }
    return plans;
  }

  private sizeOf(shape: Shape): number {
    const r = this.rng;
    switch (shape) {
      case 'SINGLE': return 1;
      case 'COUPLE': return 2;
      case 'COUPLE_CHILDREN': return 2 + r.pick([1, 1, 1, 1, 1, 1, 2, 2, 2, 3]);
      case 'SINGLE_PARENT': return 1 + r.pick([1, 1, 1, 2]);
      case 'THREE_GENERATIONS': return 3 + r.pick([1, 1, 2, 2, 3]);
      case 'ELDER_THREE_GENERATIONS': return 4 + r.pick([1, 1, 2]);
      case 'COUPLE_PARENT': return 3;
    }
  }

  /**
   * Generates the households of a community from its plan. Each family household takes a home (floating households
   * prefer rented rooms in village houses); collective households take dormitory rooms. Homes left over become
   * vacant, let, or shops. Returns the bundles in plan order.
   */
  generate(plans: HouseholdPlan[], homes: DwellingSlot[], dormRooms: DwellingSlot[], employer: string): HouseholdBundle[] {
    const bundles: HouseholdBundle[] = [];
    const rooms = homes.filter((h) => h.room);
    const whole = homes.filter((h) => !h.room);
    let dormIndex = 0;
    for (const plan of plans) {
      if (plan.kind === 'COLLECTIVE') {
        const slot = dormRooms[dormIndex++];
        if (!slot) throw new Error('not enough dormitory rooms were built');
        bundles.push(this.collectiveHousehold(plan.size, slot, employer));
        continue;
      }
      const slot = plan.populationType === 'FLOATING' ? rooms.shift() ?? whole.shift() : whole.shift() ?? rooms.shift();
      if (!slot) throw new Error('not enough homes were built');
      bundles.push(this.familyHousehold(plan.shape, plan.size, plan.populationType, slot));
    }
    for (const slot of [...whole, ...rooms]) {
      slot.row.use = slot.room ? (this.rng.chance(0.5) ? 'RENTED' : 'VACANT') : leftoverUse.pick(this.rng);
    }
    return bundles;
  }

  // ---------------------------------------------------------------- composition

  private birthForAge(age: number): number {
    const latest = addYears(this.asOf, -age);
    const earliest = addYears(this.asOf, -(age + 1)) + 1;
    return this.rng.int(earliest, latest);
  }

  private ageOf(birthDay: number): number {
    return ageOn(birthDay, this.asOf);
  }

  private surname(): string {
    return surnames.pick(this.rng);
  }

  /** A spouse of the other sex, usually of similar age (husbands a little older). */
  private spouseOf(head: Draft): Draft {
    const headAge = this.ageOf(head.birthDay);
    const gap = this.rng.around(2, 2, -4, 10); // husband's age minus wife's age
    const spouseAge = Math.max(20, head.sex === '1' ? headAge - gap : headAge + gap);
    return {
      role: 'SPOUSE', sex: head.sex === '1' ? '2' : '1', birthDay: this.birthForAge(Math.min(spouseAge, 99)), surname: this.surname(),
      maritalStatus: head.maritalStatus, relationship: this.rng.chance(0.1) ? RELATIONSHIP.SPOUSE : head.sex === '1' ? RELATIONSHIP.WIFE : RELATIONSHIP.HUSBAND,
    };
  }

  /** Children of a mother born on `motherBirth`: born when she was 22–38, none over 35 years old today. */
  private childrenOf(motherBirth: number, count: number, surname: string): Draft[] {
    const children: Draft[] = [];
    let earliest = Math.max(addYears(motherBirth, 22), addYears(this.asOf, -35));
    const latestPossible = Math.min(addYears(motherBirth, 38), this.asOf - 1);
    for (let i = 0; i < count && earliest <= latestPossible; i++) {
      const birthDay = this.rng.int(earliest, Math.min(latestPossible, earliest + 365 * 6));
      const sex: Sex = this.rng.chance(0.52) ? '1' : '2';
      children.push({ role: 'CHILD', sex, birthDay, surname, maritalStatus: '10', relationship: sex === '1' ? RELATIONSHIP.SON : RELATIONSHIP.DAUGHTER });
      earliest = birthDay + 365 * this.rng.int(2, 6);
    }
    return children;
  }

  /** 21/31 for an only child, 22/23 and 32 for eldest and second, generic 20/30 otherwise (and in some registers). */
  private labelChildren(members: Draft[]): void {
    const children = members.filter((m) => m.role === 'CHILD').sort((a, b) => a.birthDay - b.birthDay);
    const generic = this.rng.chance(0.1);
    const sons = children.filter((c) => c.sex === '1');
    const daughters = children.filter((c) => c.sex === '2');
    for (const child of children) {
      if (generic) child.relationship = child.sex === '1' ? RELATIONSHIP.SON : RELATIONSHIP.DAUGHTER;
      else if (children.length === 1) child.relationship = child.sex === '1' ? RELATIONSHIP.ONLY_SON : RELATIONSHIP.ONLY_DAUGHTER;
      else if (child.sex === '1') child.relationship = [RELATIONSHIP.ELDEST_SON, RELATIONSHIP.SECOND_SON][sons.indexOf(child)] ?? RELATIONSHIP.SON;
      else child.relationship = daughters.indexOf(child) === 0 ? RELATIONSHIP.ELDEST_DAUGHTER : RELATIONSHIP.DAUGHTER;
    }
  }

  private singleMarital(age: number): string {
    if (age < 28) return '10';
    return (age < 60 ? singleMaritalMiddle : singleMaritalOld).pick(this.rng);
  }

  private head(age: number, sex: Sex, maritalStatus: string): Draft {
    return { role: 'HEAD', sex, birthDay: this.birthForAge(age), surname: this.surname(), maritalStatus, relationship: RELATIONSHIP.HEAD };
  }

  /** Draws the members of a family household of exactly `size` people (head first). */
  private compose(shape: Shape, size: number, floating: boolean): Draft[] {
    const r = this.rng;
    const married = () => marriedCodes.pick(r);
    const father = (members: Draft[]) => members.find((m) => (m.role === 'HEAD' || m.role === 'SPOUSE') && m.sex === '1');
    let members: Draft[];
    switch (size === 1 ? 'SINGLE' : shape) {
      case 'SINGLE': {
        const band = singleAges.pick(r);
        const age = floating ? r.int(18, 50) : r.int(band[0], band[1]);
        const sex: Sex = age >= 70 ? (r.chance(0.66) ? '2' : '1') : r.chance(0.55) ? '1' : '2';
        members = [this.head(age, sex, this.singleMarital(age))];
        break;
      }
      case 'COUPLE': {
        const band = coupleAges.pick(r);
        const age = floating ? r.int(20, 50) : r.int(band[0], band[1]);
        const head = this.head(age, r.chance(0.75) ? '1' : '2', married());
        members = [head, this.spouseOf(head)];
        break;
      }
      case 'COUPLE_CHILDREN':
      case 'THREE_GENERATIONS':
      case 'COUPLE_PARENT': {
        const age = shape === 'COUPLE_CHILDREN' ? (floating ? r.int(24, 48) : r.int(27, 62)) : r.int(32, 56);
        const head = this.head(age, r.chance(0.75) ? '1' : '2', married());
        const spouse = this.spouseOf(head);
        members = [head, spouse];
        const mother = head.sex === '2' ? head : spouse;
        const dad = father(members);
        const childSurname = dad && r.chance(0.96) ? dad.surname : mother.surname;
        const parents = shape === 'COUPLE_CHILDREN' ? 0 : shape === 'COUPLE_PARENT' ? 1 : r.chance(0.55) ? 2 : 1;
        const children = Math.max(0, size - 2 - parents);
        members.push(...this.childrenOf(mother.birthDay, children, childSurname));
        members.push(...this.parentsOf(head, Math.min(parents, size - members.length)));
        break;
      }
      case 'SINGLE_PARENT': {
        const sex: Sex = r.chance(0.7) ? '2' : '1';
        const head = this.head(r.int(28, 55), sex, r.chance(0.6) ? '40' : '30');
        const motherBirth = sex === '2' ? head.birthDay : head.birthDay + 365 * 2;
        members = [head, ...this.childrenOf(motherBirth, size - 1, head.surname)];
        break;
      }
      case 'ELDER_THREE_GENERATIONS': {
        // An older couple living with a married son (or daughter) and grandchildren.
        const head = this.head(r.int(58, 85), r.chance(0.7) ? '1' : '2', married());
        const spouse = this.spouseOf(head);
        members = [head, spouse];
        const mother = head.sex === '2' ? head : spouse;
        const familySurname = (father(members) ?? head).surname;
        const viaSon = r.chance(0.7);
        const childBirth = Math.min(this.rng.int(addYears(mother.birthDay, 22), addYears(mother.birthDay, 34)), addYears(this.asOf, -24));
        const child: Draft = {
          role: 'CHILD', sex: viaSon ? '1' : '2', birthDay: childBirth, surname: familySurname,
          maritalStatus: married(), relationship: viaSon ? RELATIONSHIP.SON : RELATIONSHIP.DAUGHTER,
        };
        const inLawAge = Math.max(22, this.ageOf(childBirth) + (viaSon ? -r.int(0, 4) : r.int(0, 4)));
        const inLaw: Draft = {
          role: 'CHILD_IN_LAW', sex: viaSon ? '2' : '1', birthDay: this.birthForAge(inLawAge), surname: this.surname(),
          maritalStatus: child.maritalStatus, relationship: viaSon ? RELATIONSHIP.DAUGHTER_IN_LAW : RELATIONSHIP.SON_IN_LAW,
        };
        members.push(child, inLaw);
        const grandchildrensMother = viaSon ? inLaw : child;
        const grandchildrensSurname = viaSon ? child.surname : inLaw.surname;
        for (const g of this.childrenOf(grandchildrensMother.birthDay, size - members.length, grandchildrensSurname)) {
          g.role = 'GRANDCHILD';
          g.relationship = viaSon ? (g.sex === '1' ? RELATIONSHIP.GRANDSON : RELATIONSHIP.GRANDDAUGHTER)
            : g.sex === '1' ? RELATIONSHIP.DAUGHTERS_SON : RELATIONSHIP.DAUGHTERS_DAUGHTER;
          members.push(g);
        }
        break;
      }
    }
    // Composition may come out smaller than planned (no room for children at the parents' age): fill with a parent
    // or, failing that, with an adult child so the community total stays exact.
    while (members.length < size) {
      const head = members[0] as Draft;
      const extra = this.parentsOf(head, 1, members);
      if (extra.length) { members.push(...extra); continue; }
      const headAge = this.ageOf(head.birthDay);
      const childAge = Math.max(0, Math.min(35, headAge - r.int(22, 34)));
      const sex: Sex = r.chance(0.5) ? '1' : '2';
      members.push({ role: 'CHILD', sex, birthDay: this.birthForAge(childAge), surname: head.surname, maritalStatus: '10', relationship: sex === '1' ? RELATIONSHIP.SON : RELATIONSHIP.DAUGHTER });
    }
    this.labelChildren(members);
    return members.slice(0, size);
  }

  /**
   * The head's mother (52) and / or father (51): the mother 24–34 years older than the head, the father about two
   * years older than her; nobody over 99. A parent already in `existing` fixes the other's age and marks both married.
   */
  private parentsOf(head: Draft, count: number, existing: Draft[] = []): Draft[] {
    if (count <= 0) return [];
    const r = this.rng;
    const known = existing.find((m) => m.role === 'PARENT');
    const gap = r.around(2, 2, -3, 8);
    const motherBirth = known ? (known.sex === '2' ? known.birthDay : addYears(known.birthDay, gap)) : addYears(head.birthDay, -r.int(24, 34));
    const fatherBirth = known?.sex === '1' ? known.birthDay : addYears(motherBirth, -gap);
    const generic = r.chance(0.08);
    const out: Draft[] = [];
    // When only one parent lives here it is more often the (widowed) mother, so she comes first.
    if (known?.sex !== '2' && this.ageOf(motherBirth) <= 99) {
      out.push({ role: 'PARENT', sex: '2', birthDay: motherBirth, surname: this.surname(), maritalStatus: '30', relationship: generic ? RELATIONSHIP.PARENT : RELATIONSHIP.MOTHER });
    }
    if (known?.sex !== '1' && this.ageOf(fatherBirth) <= 99) {
      out.push({ role: 'PARENT', sex: '1', birthDay: fatherBirth, surname: head.surname, maritalStatus: '30', relationship: generic ? RELATIONSHIP.PARENT : RELATIONSHIP.FATHER });
    }
    const chosen = out.slice(0, count);
    if (chosen.length + (known ? 1 : 0) >= 2) {
      for (const p of chosen) p.maritalStatus = '21';
      if (known) known.maritalStatus = '21';
    }
    return chosen;
  }

  // ---------------------------------------------------------------- households

  private nextHouseholdNumber(): string {
    this.householdSerial++;
    return `${this.ctx.communityCode}-${String(this.householdSerial).padStart(5, '0')}`;
  }

  private profile(populationType: PopulationType): HouseholdProfile {
    const origin = populationType === 'FLOATING' ? floatingOrigins.pick(this.rng) : null;
    let ethnicity = '01';
    if (origin?.sheShare && this.rng.chance(origin.sheShare)) ethnicity = '22';
    else if (origin?.minority && this.rng.chance(origin.minority[1])) ethnicity = origin.minority[0];
    else if (!origin && this.rng.chance(0.004)) ethnicity = '22';
    else if (!origin && this.rng.chance(0.006)) ethnicity = localMinorities.pick(this.rng);
    return { populationType, origin, ethnicity };
  }

  private familyHousehold(shape: Shape, size: number, populationType: PopulationType, slot: DwellingSlot): HouseholdBundle {
    const r = this.rng;
    const floating = populationType === 'FLOATING';
    const profile = this.profile(populationType);
    const drafts = this.compose(shape, size, floating);
    const head = drafts[0] as Draft;
    // Registered: 立户, when the household was set up here (the head at least 18, at most 40 years ago).
    // Floating: 流入, when the family arrived (the head at least 16, at most 12 years ago). Then 入住 this dwelling.
    const earliest = floating ? Math.max(addYears(head.birthDay, 16), addYears(this.asOf, -12)) : Math.max(addYears(head.birthDay, 18), addYears(this.asOf, -40));
    const since = r.int(Math.min(earliest, this.asOf - 30), this.asOf - 30);
    const movedIn = r.int(since, this.asOf - 20);
    const kind = (floating ? floatingResidenceKinds : registeredResidenceKinds).pick(r);
    slot.row.use = kind === 'TENANT' ? 'RENTED' : 'OWN';
    const registeredAddress = floating
      ? `${profile.origin?.place ?? ''}${r.pick(HOME_TOWN_STEMS)}镇${r.pick(HOME_TOWN_STEMS)}村${r.int(1, 299)}号`
      : `浙江省宁波市海曙区${this.ctx.townshipName}${slot.address}`;
    const bundle: HouseholdBundle = {
      household: {
        id: this.ctx.ids.uuid(), householdNumber: this.nextHouseholdNumber(), kind: 'FAMILY', registrationType: floating ? null : '10',
        registeredAddress, communityCode: this.ctx.communityCode, dwellingId: slot.row.id,
      },
      residents: [], members: [], residences: [], residentTags: [], householdTags: [],
    };
    for (const d of drafts) {
      const resident = this.person(d, profile, d.role === 'HEAD' ? 'HEAD' : 'MEMBER');
      const away = !floating && d.role !== 'HEAD' && this.ageOf(d.birthDay) >= 18 && this.ageOf(d.birthDay) <= 45 && r.chance(0.06);
      resident.householdRelation = floating ? 'RESIDENT_ONLY' : away ? 'AWAY' : 'TOGETHER';
      const joined = Math.max(since, d.birthDay);
      bundle.residents.push(resident);
      bundle.members.push({ householdId: bundle.household.id, residentId: resident.id, relationship: d.relationship, fromDate: isoOf(joined) });
      if (!away) bundle.residences.push({ residentId: resident.id, dwellingId: slot.row.id, kind, movedInOn: isoOf(Math.max(movedIn, d.birthDay)) });
      this.personTags(bundle, resident, d, floating ? Math.max(since, d.birthDay) : null, drafts.length);
    }
    this.lowIncome(bundle, drafts);
    return bundle;
  }

  private collectiveHousehold(size: number, slot: DwellingSlot, employer: string): HouseholdBundle {
    const r = this.rng;
    const profile = this.profile('REGISTERED');
    slot.row.use = 'OWN';
    const since = r.int(addYears(this.asOf, -15), this.asOf - 60);
    const bundle: HouseholdBundle = {
      household: {
        id: this.ctx.ids.uuid(), householdNumber: this.nextHouseholdNumber(), kind: 'COLLECTIVE', registrationType: '20',
        registeredAddress: `浙江省宁波市海曙区${this.ctx.townshipName}${slot.address}（${employer}集体户）`,
        communityCode: this.ctx.communityCode, dwellingId: slot.row.id,
      },
      residents: [], members: [], residences: [], residentTags: [], householdTags: [],
    };
    for (let i = 0; i < size; i++) {
      const age = i === 0 ? r.int(30, 55) : r.int(18, 45);
      const sex: Sex = r.chance(0.6) ? '1' : '2';
      const d: Draft = {
        role: i === 0 ? 'HEAD' : 'COLLECTIVE_MEMBER', sex, birthDay: this.birthForAge(age), surname: this.surname(),
        maritalStatus: age < 28 ? '10' : r.chance(0.6) ? '21' : '10',
        relationship: i === 0 ? RELATIONSHIP.HEAD : r.chance(0.85) ? RELATIONSHIP.NON_RELATIVE : RELATIONSHIP.OTHER,
      };
      const resident = this.person(d, profile, 'COLLECTIVE');
      resident.householdRelation = 'TOGETHER';
      const joined = i === 0 ? since : r.int(Math.min(Math.max(since, addYears(d.birthDay, 18)), this.asOf - 1), this.asOf - 1);
      bundle.residents.push(resident);
      bundle.members.push({ householdId: bundle.household.id, residentId: resident.id, relationship: d.relationship, fromDate: isoOf(joined) });
      bundle.residences.push({ residentId: resident.id, dwellingId: slot.row.id, kind: 'COLLECTIVE', movedInOn: isoOf(joined) });
      this.personTags(bundle, resident, d, null, size);
    }
    return bundle;
  }

  // ---------------------------------------------------------------- people

  /** ID address code (地址码): where the person's hukou was first registered. */
  private addressCode(d: Draft, profile: HouseholdProfile, kind: 'HEAD' | 'MEMBER' | 'COLLECTIVE'): string {
    const r = this.rng;
    if (profile.origin) return r.chance(0.9) || d.role === 'CHILD' ? profile.origin.code : floatingOrigins.pick(r).code;
    const age = this.ageOf(d.birthDay);
    if (kind === 'COLLECTIVE') {
      return r.chance(0.45) ? movedInOrigins.pick(r).code : r.chance(0.55) ? floatingOrigins.pick(r).code : this.localAddressCode(d.birthDay);
    }
    const movedInShare = d.role === 'SPOUSE' || d.role === 'CHILD_IN_LAW' ? 0.28 : d.role === 'CHILD' || d.role === 'GRANDCHILD' ? 0.02 : 0.12;
    if (age >= 18 && r.chance(movedInShare)) return movedInOrigins.pick(r).code;
    return this.localAddressCode(d.birthDay);
  }

  /**
   * Haishu's own codes over time: 330203 (海曙区) and, in the old city, some 330204 (former 江东区, abolished 2016);
   * the towns that came from Yinzhou in 2016 carry 330227 (鄞县, until 2002) or 330212 (鄞州区) in older IDs.
   */
  private localAddressCode(birthDay: number): string {
    const year = yearOf(birthDay);
    if (year >= 2017) return '330203';
    if (!this.ctx.rural) return this.rng.chance(0.83) ? '330203' : '330204';
    if (year >= 2002) return this.rng.chance(0.85) ? '330212' : '330203';
    return this.rng.chance(0.85) ? '330227' : '330212';
  }

  private idNumber(addressCode: string, birthDate: string, sex: Sex): string {
    const parity = sex === '1' ? 1 : 0;
    for (let attempt = 0; attempt < 2000; attempt++) {
      const sequence = this.rng.int(0, 499) * 2 + parity;
      const id = generateIdNumber(addressCode, birthDate, sequence);
      if (!this.ctx.usedIdNumbers.has(id)) {
        this.ctx.usedIdNumbers.add(id);
        return id;
      }
    }
    throw new Error(`no free ID sequence left for ${addressCode} ${birthDate}`);
  }

  private givenName(sex: Sex, birthDay: number): string {
    return this.rng.pick(GIVEN_NAMES[cohortOf(yearOf(birthDay))][sex]);
  }

  private pinyin(name: string): string {
    let value = this.ctx.pinyinCache.get(name);
    if (value === undefined) {
      value = namePinyin(name);
      this.ctx.pinyinCache.set(name, value);
    }
    return value;
  }

  private education(age: number, birthYear: number, floating: boolean): string | null {
    if (age < 6) return null;
    if (age < 12) return '80';
    if (age < 15) return '70';
    if (age < 18) return this.rng.chance(0.7) ? '60' : '40';
    if (floating && birthYear >= 1960) return floatingEducation.pick(this.rng);
    for (const [before, table] of educationByCohort) if (birthYear < before) return table.pick(this.rng);
    return '20';
  }

  private employment(age: number, sex: Sex, floating: boolean, education: string | null): string | null {
    const r = this.rng;
    if (age < 6) return null;
    if (age < 18) return '31';
    if (age <= 22 && (education === '20' || education === '30' || r.chance(0.5))) return '31';
    if (!floating && sex === '1' && age <= 24 && r.chance(0.01)) return '37';
    const retirementAge = sex === '1' ? 60 : 55;
    if (age >= retirementAge) {
      if (floating) return r.chance(0.7) ? '90' : '24';
      return (this.ctx.rural ? retiredRural : retiredUrban).pick(r);
    }
    return (floating ? floatingWork : this.ctx.rural ? ruralWork : urbanWork).pick(r);
  }

  private phone(age: number): string | null {
    if (age < 14 || !this.rng.chance(age >= 80 ? 0.55 : 0.92)) return null;
    return `${this.rng.pick(MOBILE_PREFIXES)}${String(this.rng.int(0, 99_999_999)).padStart(8, '0')}`;
  }

  /** Political status (GB/T 4762); party membership is decided here and tagged in `personTags`. */
  private politicalStatus(age: number, floating: boolean, education: string | null): string {
    const r = this.rng;
    if (age < 14) return '13';
    const higher = education === '11' || education === '14' || education === '20' || education === '30';
    if (age >= 18) {
      const party = (age <= 30 ? 0.055 : age <= 60 ? 0.095 : 0.14) * (floating ? 0.6 : 1) * (higher ? 1.3 : 0.9);
      if (r.chance(party)) return age <= 40 && r.chance(0.06) ? '02' : '01';
      if (age >= 30 && higher && r.chance(0.012)) return r.pick(democraticParties);
      if (higher && r.chance(0.001)) return '12';
    }
    if (age <= 28 && r.chance(education === '60' || higher ? 0.45 : 0.15)) return '03';
    return '13';
  }

  private person(d: Draft, profile: HouseholdProfile, kind: 'HEAD' | 'MEMBER' | 'COLLECTIVE'): ResidentRow {
    const r = this.rng;
    const birthDate = isoOf(d.birthDay);
    const age = this.ageOf(d.birthDay);
    const birthYear = yearOf(d.birthDay);
    const floating = profile.populationType === 'FLOATING';
    const idNumber = this.idNumber(this.addressCode(d, profile, kind), birthDate, d.sex);
    const name = `${d.surname}${this.givenName(d.sex, d.birthDay)}`;
    const education = this.education(age, birthYear, floating);
    // Spouses from elsewhere may belong to another group; children follow the household.
    const ethnicity = d.role === 'SPOUSE' || d.role === 'CHILD_IN_LAW' || kind === 'COLLECTIVE'
      ? (r.chance(0.985) ? '01' : r.chance(0.4) ? '22' : localMinorities.pick(r))
      : profile.ethnicity;
    return {
      id: this.ctx.ids.uuid(), idNumber, name, namePinyin: this.pinyin(name), sex: d.sex, birthDate, ethnicity,
      politicalStatus: this.politicalStatus(age, floating, education), education, maritalStatus: d.maritalStatus,
      employment: this.employment(age, d.sex, floating, education), phone: this.phone(age), populationType: profile.populationType,
      householdRelation: 'TOGETHER', communityCode: this.ctx.communityCode,
    };
  }

  // ---------------------------------------------------------------- tags (特殊人群, synthetic)

  private dateBetween(from: number, to: number): string {
    return isoOf(this.rng.int(Math.min(from, to), Math.max(from, to)));
  }

  private tag(bundle: HouseholdBundle, resident: ResidentRow, tagCode: string, attributes: TagAttributes, validFrom: string): void {
    bundle.residentTags.push({ residentId: resident.id, tagCode, attributes, validFrom });
  }

  private personTags(bundle: HouseholdBundle, resident: ResidentRow, d: Draft, inflowDay: number | null, householdSize: number): void {
    const r = this.rng;
    const age = this.ageOf(d.birthDay);
    const recent = (years: number) => Math.max(d.birthDay, addYears(this.asOf, -years));

    if (inflowDay !== null) {
      const reason = d.role === 'HEAD' ? (r.chance(0.78) ? 'WORK' : 'BUSINESS')
        : d.role === 'SPOUSE' ? (r.chance(0.55) ? 'WORK' : 'FAMILY')
          : age >= 16 && age <= 22 && r.chance(0.3) ? 'STUDY' : 'FAMILY';
      const attributes: TagAttributes = { inflowReason: reason, inflowDate: isoOf(inflowDay), expectedStayMonths: r.pick([6, 12, 12, 24, 36, 60]) };
      // 居住证: issued to those aged 16+ who applied (synthetic numbers).
      if (age >= 16 && r.chance(0.7)) attributes.residencePermitNo = `浙甬居${this.ctx.communityCode.slice(0, 6)}${yearOf(inflowDay)}${String(r.int(0, 999_999)).padStart(6, '0')}`;
      this.tag(bundle, resident, 'FLOATING', attributes, isoOf(inflowDay));
    }

    if (resident.politicalStatus === '01' || resident.politicalStatus === '02') {
      const probationary = resident.politicalStatus === '02';
      const joinDay = probationary ? r.int(Math.max(addYears(d.birthDay, 18), this.asOf - 330), this.asOf - 1)
        : r.int(addYears(d.birthDay, 18), Math.max(addYears(d.birthDay, 18), Math.min(addYears(d.birthDay, 45), this.asOf - 400)));
      const attributes: TagAttributes = {
        branch: `${this.ctx.communityName}党委第${r.int(1, 6)}支部`, joinDate: isoOf(joinDay), status: probationary ? 'PROBATIONARY' : 'FULL',
        mobile: resident.populationType === 'FLOATING',
      };
      if (!probationary) attributes.fullMemberDate = isoOf(Math.min(addYears(joinDay, 1), this.asOf));
      this.tag(bundle, resident, 'PARTY_MEMBER', attributes, isoOf(joinDay));
    }

    const disabledChance = age < 18 ? 0.004 : age < 60 ? 0.013 : age < 80 ? 0.035 : 0.07;
    if (r.chance(disabledChance)) {
      const certificateNo = `${resident.idNumber}${disabilityCategories.pick(r)}${disabilityGrades.pick(r)}`;
      const issuedOn = this.dateBetween(recent(12), this.asOf);
      this.tag(bundle, resident, 'DISABLED', { certificateNo, issuedOn }, issuedOn);
    }

    if (householdSize === 1 && age >= 70 && r.chance(0.7)) {
      const visitSchedule = age >= 85 ? 'DAILY' : r.chance(0.75) ? 'WEEKLY' : 'MONTHLY';
      this.tag(bundle, resident, 'ELDERLY_LIVING_ALONE', { visitSchedule, lastVisitOn: this.dateBetween(this.asOf - 30, this.asOf) }, this.dateBetween(recent(6), this.asOf));
    }

    if (age >= 22 && r.chance(d.sex === '1' ? (age >= 50 ? 0.06 : 0.035) : 0.003)) {
      const dischargedOn = isoOf(Math.min(addYears(d.birthDay, r.int(20, 26)) + r.int(0, 364), this.asOf));
      this.tag(bundle, resident, 'VETERAN', { category: veteranCategories.pick(r), dischargedOn }, dischargedOn);
    }

    if (resident.employment === '70' && age >= 25 && age <= 59 && r.chance(0.45)) {
      const registeredOn = this.dateBetween(recent(3), this.asOf);
      this.tag(bundle, resident, 'HARD_TO_EMPLOY', { registeredOn, certificateNo: `${this.ctx.communityCode.slice(0, 6)}${registeredOn.slice(0, 4)}${String(r.int(0, 9_999_999)).padStart(7, '0')}` }, registeredOn);
    }
  }

  /** 低保 / 低边 / 特困 household tag on ~1.5 % of registered family households, with its covered members. */
  private lowIncome(bundle: HouseholdBundle, drafts: Draft[]): void {
    const r = this.rng;
    const residents = bundle.residents;
    if (residents[0]?.populationType !== 'REGISTERED') return;
    const disabled = bundle.residentTags.some((t) => t.tagCode === 'DISABLED');
    const singleElder = drafts.length === 1 && this.ageOf((drafts[0] as Draft).birthDay) >= 70;
    if (!r.chance(disabled || singleElder ? 0.06 : 0.012)) return;
    const category = singleElder && r.chance(0.3) ? 'EXTREME_POVERTY' : r.chance(0.7) ? 'URBAN_DIBAO' : 'MARGINAL';
    const covered = r.chance(0.7) ? residents.length : r.int(1, residents.length);
    // Monthly amount in yuan with two decimals; cents chosen so that amount / 0.01 is an exact integer (JSON Schema multipleOf).
    let cents = covered * r.int(30_000, 125_000);
    while (!Number.isInteger((cents / 100) / 0.01)) cents++;
    const startDay = r.int(addYears(this.asOf, -8), this.asOf - 30);
    let reviewDue = addYears(startDay, 1);
    while (reviewDue <= this.asOf) reviewDue = addYears(reviewDue, 1);
    this.lowIncomeSerial++;
    const caseNo = `海民低〔${yearOf(startDay)}〕${this.ctx.communityCode.slice(9)}${String(this.lowIncomeSerial).padStart(4, '0')}号`;
    const tag: HouseholdTagRow = {
      householdId: bundle.household.id, tagCode: 'LOW_INCOME', validFrom: isoOf(startDay),
      attributes: { caseNo, category, coveredMembers: covered, monthlyAmount: cents / 100, startDate: isoOf(startDay), reviewDue: isoOf(reviewDue) },
    };
    bundle.householdTags.push(tag);
    for (const resident of residents.slice(0, covered)) {
      bundle.residentTags.push({ residentId: resident.id, tagCode: 'LOW_INCOME_MEMBER', attributes: { caseNo, category }, validFrom: isoOf(Math.max(startDay, dayOf(resident.birthDate))) });
    }
  }
}
