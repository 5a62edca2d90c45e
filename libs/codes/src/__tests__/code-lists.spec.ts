import { CODE_LIST_NAMES, CODE_LISTS, codeName, isValidCode } from '../code-lists.data';

describe('code lists', () => {
  it('names every list exactly once', () => {
    expect(new Set(CODE_LIST_NAMES).size).toBe(CODE_LIST_NAMES.length);
    expect([...CODE_LIST_NAMES].sort()).toEqual(Object.keys(CODE_LISTS).sort());
  });

  it.each(CODE_LIST_NAMES)('%s is non-empty, has unique codes, names and existing parents', (name) => {
    const entries = CODE_LISTS[name];
    expect(entries.length).toBeGreaterThan(0);
    const codes = entries.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const e of entries) {
      expect(e.nameZh.trim()).not.toBe('');
      expect(e.nameEn.trim()).not.toBe('');
      if (e.parentCode !== undefined) {
        expect(codes).toContain(e.parentCode);
        expect(e.parentCode).not.toBe(e.code);
      }
    }
  });

  it('has all 56 ethnic groups plus 97 and 98', () => {
    const ethnicity = CODE_LISTS.ethnicity;
    expect(ethnicity).toHaveLength(58);
    for (let i = 1; i <= 56; i++) {
      expect(isValidCode('ethnicity', String(i).padStart(2, '0'))).toBe(true);
    }
    expect(codeName('ethnicity', '01')).toEqual({ code: '01', nameZh: '汉族', nameEn: 'Han (HA)' });
    expect(codeName('ethnicity', '22')?.nameEn).toBe('She (SH)');
    expect(codeName('ethnicity', '56')?.nameEn).toBe('Jino (JN)');
    expect(codeName('ethnicity', '98')?.nameZh).toBe('外国血统中国籍人士');
    const romanisations = ethnicity.slice(0, 56).map((e) => /\(([A-Z]{2})\)$/.exec(e.nameEn)?.[1]);
    expect(romanisations.every((r) => r !== undefined)).toBe(true);
    expect(new Set(romanisations).size).toBe(56);
  });

  it('keeps hierarchical children under their category', () => {
    expect(codeName('relationship', '11')?.parentCode).toBe('10');
    expect(codeName('relationship', '38')?.parentCode).toBe('30');
    expect(codeName('marital_status', '23')?.parentCode).toBe('20');
    expect(codeName('education', '14')?.parentCode).toBe('10');
  });

  it('has the GB/T 4762 democratic parties in order', () => {
    expect(CODE_LISTS.political_status.map((e) => e.code)).toEqual(
      Array.from({ length: 13 }, (_, i) => String(i + 1).padStart(2, '0')),
    );
    expect(codeName('political_status', '10')?.nameZh).toBe('九三学社社员');
  });

  it('answers lookups and rejects unknown or unpadded codes', () => {
    expect(isValidCode('sex', '1')).toBe(true);
    expect(isValidCode('sex', '3')).toBe(false);
    expect(isValidCode('ethnicity', '1')).toBe(false);
    expect(isValidCode('household_relation', 'AWAY')).toBe(true);
    expect(codeName('employment', '99')).toBeUndefined();
  });
});
