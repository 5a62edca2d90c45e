import {
  HAISHU_DISTRICT_CODE,
  HAISHU_DIVISIONS,
  communitySeeds,
  divisionLevelOf,
  subtreeRange,
} from '../divisions.data';

describe('Haishu divisions', () => {
  it('has 17 townships under 330203', () => {
    const townships = HAISHU_DIVISIONS.filter((d) => d.level === 'TOWNSHIP');
    expect(townships).toHaveLength(17);
    for (const t of townships) {
      expect(t.parentCode).toBe(HAISHU_DISTRICT_CODE);
      expect(t.code).toMatch(/^330203\d{3}000$/);
      expect(t.synthetic).toBe(false);
    }
    expect(townships.find((t) => t.code === '330203004000')?.name).toBe('月湖街道');
    expect(townships.find((t) => t.code === '330203200000')?.name).toBe('龙观乡');
  });

  it('keeps the retired Jiangdong District with its end date', () => {
    const jiangdong = HAISHU_DIVISIONS.find((d) => d.code === '330204000000');
    expect(jiangdong).toMatchObject({ name: '江东区', level: 'DISTRICT', validTo: '2016-09-30', synthetic: false });
  });

  it('has unique codes, existing parents and levels matching the codes', () => {
    const all = [...HAISHU_DIVISIONS, ...communitySeeds(30)];
    const codes = new Set(all.map((d) => d.code));
    expect(codes.size).toBe(all.length);
    for (const d of all) {
      expect(d.code).toMatch(/^\d{12}$/);
      expect(divisionLevelOf(d.code)).toBe(d.level);
      if (d.parentCode !== null) {
        expect(codes.has(d.parentCode)).toBe(true);
      }
    }
  });
});

describe('communitySeeds', () => {
  it('generates perTownship synthetic communities per township with unique codes and names', () => {
    const seeds = communitySeeds(12);
    expect(seeds).toHaveLength(17 * 12);
    expect(new Set(seeds.map((s) => s.code)).size).toBe(seeds.length);
    for (const s of seeds) {
      expect(s.level).toBe('COMMUNITY');
      expect(s.synthetic).toBe(true);
      expect(s.code.slice(0, 9)).toBe(s.parentCode?.slice(0, 9));
    }
    const byTownship = new Map<string, string[]>();
    for (const s of seeds) {
      const names = byTownship.get(s.parentCode ?? '') ?? [];
      names.push(s.name);
      byTownship.set(s.parentCode ?? '', names);
    }
    for (const names of byTownship.values()) {
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('uses the known names first', () => {
    const seeds = communitySeeds(10);
    const yuehu = seeds.filter((s) => s.parentCode === '330203004000');
    expect(yuehu.slice(0, 7).map((s) => s.name)).toEqual([
      '太阳社区', '梅园社区', '桂井社区', '县学社区', '迎凤社区', '平桥社区', '天一社区',
    ]);
    expect(yuehu[0]?.code).toBe('330203004001');
    expect(seeds.find((s) => s.code === '330203003001')?.name).toBe('新芝社区');
    expect(seeds.find((s) => s.code === '330203005001')?.name).toBe('文昌社区');
  });

  it('is deterministic and copes with large and zero counts', () => {
    expect(communitySeeds(20)).toEqual(communitySeeds(20));
    expect(communitySeeds(0)).toEqual([]);
    const many = communitySeeds(150);
    expect(new Set(many.map((s) => `${s.parentCode}:${s.name}`)).size).toBe(many.length);
    expect(() => communitySeeds(1000)).toThrow(RangeError);
    expect(() => communitySeeds(-1)).toThrow(RangeError);
  });
});

describe('divisionLevelOf and subtreeRange', () => {
  it('derives the level from the code', () => {
    expect(divisionLevelOf('330000000000')).toBe('PROVINCE');
    expect(divisionLevelOf('330200000000')).toBe('CITY');
    expect(divisionLevelOf('330203000000')).toBe('DISTRICT');
    expect(divisionLevelOf('330203')).toBe('DISTRICT');
    expect(divisionLevelOf('330203001000')).toBe('TOWNSHIP');
    expect(divisionLevelOf('330203001001')).toBe('COMMUNITY');
    expect(() => divisionLevelOf('33020300100')).toThrow(RangeError);
    expect(() => divisionLevelOf('000000000000')).toThrow(RangeError);
  });

  it('gives the inclusive code range of a subtree', () => {
    expect(subtreeRange('330203001000')).toEqual({ from: '330203001000', to: '330203001999' });
    expect(subtreeRange('330203000000')).toEqual({ from: '330203000000', to: '330203999999' });
    expect(subtreeRange('330200000000')).toEqual({ from: '330200000000', to: '330299999999' });
    expect(subtreeRange('330000000000')).toEqual({ from: '330000000000', to: '339999999999' });
    expect(subtreeRange('330203004003')).toEqual({ from: '330203004003', to: '330203004003' });
  });

  it('places every seeded community inside its township range', () => {
    const range = subtreeRange('330203004000');
    for (const s of communitySeeds(15).filter((c) => c.parentCode === '330203004000')) {
      expect(s.code >= range.from && s.code <= range.to).toBe(true);
    }
  });
});
