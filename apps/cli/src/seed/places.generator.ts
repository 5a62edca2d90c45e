import { SeededRandom } from './seeded-random';
import { BuildingRow, CommunityPlaces, DwellingRow } from './register-rows';
import { COMPOUND_ENDINGS, COMPOUND_STEMS, EMPLOYER_STEMS, EMPLOYER_TRADES } from './vocabulary';

/** A dwelling as the household generator sees it: the row, and its full address for the household register. */
export interface DwellingSlot {
  row: DwellingRow;
  /** Address below the township, e.g. 望京路128弄3号2单元301室 (synthetic). */
  address: string;
  /** A rented room in a village house (出租房) rather than a whole home. */
  room: boolean;
}

export interface PlacesPlan {
  communityCode: string;
  communityName: string;
  /** Villages (村) under towns get self-built houses; urban communities get compounds of apartment blocks. */
  rural: boolean;
  streets: readonly string[];
  familyHouseholds: number;
  collectiveHouseholds: number;
}

export interface GeneratedPlaces {
  places: CommunityPlaces;
  /** Slots for family households (more than needed: the rest stay vacant). */
  homes: DwellingSlot[];
  /** Rooms of the employer's dormitory (职工宿舍), one per collective household. */
  dormRooms: DwellingSlot[];
  /** Invented employer whose collective household lives in the dormitory. */
  employer: string;
}

/** Chinese numeral for 1..999 (一, 十二, 一百零五). */
export function chineseCount(n: number): string {
  const digits = '零一二三四五六七八九';
  const hundreds = Math.floor(n / 100);
  const tens = Math.floor((n % 100) / 10);
  const units = n % 10;
  let text = hundreds > 0 ? `${digits.charAt(hundreds)}百` : '';
  if (tens > 0) text += tens === 1 && hundreds === 0 ? '十' : `${digits.charAt(tens)}十`;
  else if (hundreds > 0 && units > 0) text += '零';
  if (units > 0) text += digits.charAt(units);
  return text;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const area = (rng: SeededRandom, min: number, max: number) => (rng.int(min * 100, max * 100) / 100).toFixed(2);

/**
 * Builds grids (网格), compounds (小区), buildings (楼栋), units (单元) and dwellings (房屋) for one synthetic community,
 * sized to its households plus some vacancy. Deterministic for a given stream.
 */
export function generatePlaces(plan: PlacesPlan, rng: SeededRandom, ids: SeededRandom): GeneratedPlaces {
  const places: CommunityPlaces = { grids: [], compounds: [], buildings: [], units: [], dwellings: [] };
  const homes: DwellingSlot[] = [];
  const dormRooms: DwellingSlot[] = [];

  const gridCount = plan.familyHouseholds > 150 || rng.chance(0.4) ? 2 : 1;
  for (let g = 0; g < gridCount; g++) {
    places.grids.push({
      id: ids.uuid(),
      communityCode: plan.communityCode,
      code: `${plan.communityCode}${pad(g + 1, 3)}`,
      name: `${plan.communityName}第${chineseCount(g + 1)}网格`,
    });
  }

  const usedCompoundNames = new Set<string>();
  const needed = plan.familyHouseholds === 0 ? 0 : Math.ceil(plan.familyHouseholds * (1 + rng.int(5, 12) / 100));
  let compoundIndex = 0;
  const gridOf = (index: number, total: number) => places.grids[Math.min(places.grids.length - 1, Math.floor((index * places.grids.length) / Math.max(total, 1)))]?.id ?? null;
  // Estimated compound count, only to spread compounds over the grids.
  const estimatedCompounds = Math.max(1, Math.round(needed / (plan.rural ? 80 : 400)));

  const addBuilding = (compoundId: string, name: string, street: string, doorNumber: string): BuildingRow => {
    const building: BuildingRow = { id: ids.uuid(), compoundId, name, street, doorNumber };
    places.buildings.push(building);
    return building;
  };
  const addDwelling = (row: Omit<DwellingRow, 'id' | 'use'>, address: string, room: boolean, target: DwellingSlot[]) => {
    const dwelling: DwellingRow = { id: ids.uuid(), use: 'VACANT', ...row };
    places.dwellings.push(dwelling);
    target.push({ row: dwelling, address, room });
  };

  while (homes.length < needed) {
    const street = rng.pick(plan.streets);
    if (plan.rural) {
      // 村民小组: a group of self-built houses along a village road; some houses let rooms to tenants.
      const name = `${plan.communityName}${chineseCount(compoundIndex + 1)}组`;
      const compound = { id: ids.uuid(), communityCode: plan.communityCode, gridId: gridOf(compoundIndex, estimatedCompounds), name, address: `${plan.communityName}${street}` };
      places.compounds.push(compound);
      const houses = rng.int(40, 120);
      for (let h = 1; h <= houses && homes.length < needed; h++) {
        const door = `${compoundIndex * 200 + h}号`;
        const building = addBuilding(compound.id, door, street, door);
        if (rng.chance(0.75)) {
          addDwelling({ buildingId: building.id, unitId: null, room: '整幢', floor: 1, area: area(rng, 120, 300) }, `${plan.communityName}${street}${door}`, false, homes);
        } else {
          const rooms = rng.int(2, 4);
          for (let r = 1; r <= rooms; r++) {
            addDwelling({ buildingId: building.id, unitId: null, room: `${r}室`, floor: Math.min(3, Math.ceil(r / 2)), area: area(rng, 18, 45) },
              `${plan.communityName}${street}${door}${r}室`, true, homes);
          }
        }
      }
    } else {
      // 小区: an older walk-up estate (老小区, 5–7 floors) or a newer high-rise one.
      let name = '';
      for (let attempt = 0; attempt < 50 && (name === '' || usedCompoundNames.has(name)); attempt++) {
        name = `${rng.pick(COMPOUND_STEMS)}${rng.pick(COMPOUND_ENDINGS)}`;
      }
      if (usedCompoundNames.has(name)) name = `${name}${compoundIndex + 1}期`;
      usedCompoundNames.add(name);
      const old = rng.chance(0.55);
      const lane = rng.int(8, 680);
      const compound = {
        id: ids.uuid(), communityCode: plan.communityCode, gridId: gridOf(compoundIndex, estimatedCompounds), name,
        address: old ? `${street}${lane}弄` : `${street}${lane}号`,
      };
      places.compounds.push(compound);
      const compoundTarget = Math.min(needed - homes.length, old ? rng.int(120, 480) : rng.int(200, 900));
      let made = 0;
      for (let b = 1; made < compoundTarget; b++) {
        const units = old ? rng.int(2, 4) : rng.int(1, 2);
        const perFloor = old ? 2 : rng.pick([2, 3, 4]);
        const wanted = Math.ceil((compoundTarget - made) / (units * perFloor));
        const floors = old ? Math.min(rng.int(5, 7), Math.max(3, wanted)) : Math.min(rng.pick([11, 18, 24, 26, 32]), Math.max(6, wanted));
        const doorNumber = old ? `${lane}弄${b}号` : `${lane}号`;
        const building = addBuilding(compound.id, `${b}幢`, street, doorNumber);
        for (let u = 1; u <= units; u++) {
          const unit = { id: ids.uuid(), buildingId: building.id, name: `${u}单元` };
          places.units.push(unit);
          for (let f = 1; f <= floors; f++) {
            for (let r = 1; r <= perFloor; r++) {
              const room = `${f}${pad(r, 2)}`;
              addDwelling({ buildingId: building.id, unitId: unit.id, room, floor: f, area: old ? area(rng, 42, 92) : area(rng, 68, 168) },
                `${street}${doorNumber}${name}${building.name}${unit.name}${room}室`, false, homes);
              made++;
            }
          }
        }
      }
    }
    compoundIndex++;
  }

  const employer = `宁波${rng.pick(EMPLOYER_STEMS)}${rng.pick(EMPLOYER_TRADES)}有限公司`;
  if (plan.collectiveHouseholds > 0) {
    const street = rng.pick(plan.streets);
    const door = `${rng.int(100, 999)}号`;
    const compound = { id: ids.uuid(), communityCode: plan.communityCode, gridId: places.grids[places.grids.length - 1]?.id ?? null, name: `${employer}职工宿舍`, address: `${street}${door}` };
    places.compounds.push(compound);
    const building = addBuilding(compound.id, '宿舍楼', street, door);
    for (let i = 0; i < plan.collectiveHouseholds; i++) {
      const floor = Math.floor(i / 10) + 1;
      const room = `${floor}${pad((i % 10) + 1, 2)}`;
      addDwelling({ buildingId: building.id, unitId: null, room, floor, area: area(rng, 40, 120) }, `${street}${door}宿舍楼${room}室`, false, dormRooms);
    }
  }
  return { places, homes, dormRooms, employer };
}
