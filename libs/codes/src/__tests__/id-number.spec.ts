import fc from 'fast-check';
import {
  computeCheckChar,
  generateIdNumber,
  maskIdNumber,
  normalizeIdNumber,
  validateIdNumber,
} from '../id-number';

const DAY_MS = 24 * 60 * 60 * 1000;
const FIRST_DAY = Date.UTC(1850, 0, 1);
const LAST_DAY = Date.UTC(2020, 11, 31);

/** A real calendar date between 1850-01-01 and 2020-12-31, as YYYY-MM-DD. */
const realDate = fc
  .integer({ min: 0, max: Math.round((LAST_DAY - FIRST_DAY) / DAY_MS) })
  .map((days) => new Date(FIRST_DAY + days * DAY_MS).toISOString().slice(0, 10));

/** Any 6-digit address code, including retired and HK / Macao / Taiwan ones. */
const addressCode = fc.oneof(
  fc.integer({ min: 0, max: 999_999 }).map((n) => String(n).padStart(6, '0')),
  fc.constantFrom('330203', '330204', '810000', '820000', '830000'),
);

const sequence = fc.integer({ min: 0, max: 999 });

const validId = fc
  .tuple(addressCode, realDate, sequence)
  .map(([address, date, seq]) => generateIdNumber(address, date, seq));

describe('computeCheckChar', () => {
  it('matches the worked example (S = 199 → 0)', () => {
    expect(computeCheckChar('33020319850312004')).toBe('0');
  });

  it("matches the standard's own example (X)", () => {
    expect(computeCheckChar('11010519491231002')).toBe('X');
  });

  it('rejects input that is not 17 digits', () => {
    expect(() => computeCheckChar('1234')).toThrow(RangeError);
    expect(() => computeCheckChar('1101051949123100X')).toThrow(RangeError);
  });
});

describe('normalizeIdNumber', () => {
  it('trims, removes inner spaces and upper-cases x', () => {
    expect(normalizeIdNumber('  110105 19491231 002x ')).toBe('11010519491231002X');
  });

  it('maps full-width digits and X to ASCII', () => {
    expect(normalizeIdNumber('１１０１０５１９４９１２３１００２ｘ')).toBe('11010519491231002X');
  });

  it('converts a 15-digit number by inserting 19 and computing the check char', () => {
    // 330203 850312 004 → 330203 19850312 004 + check
    expect(normalizeIdNumber('330203850312004')).toBe('330203198503120040');
  });

  it('leaves input of other lengths cleaned but unchanged', () => {
    expect(normalizeIdNumber(' 12345 ')).toBe('12345');
    expect(normalizeIdNumber('33020319850312004')).toBe('33020319850312004');
    expect(normalizeIdNumber('abcdefghijklmno')).toBe('abcdefghijklmno');
  });

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.stringMatching(/^[0-9 xX]{10,25}$/),
          fc.stringMatching(/^\s*\d{15}\s*$/),
          fc.stringMatching(/^\s*\d{17}[\dxX]\s*$/),
        ),
        (raw) => {
          const once = normalizeIdNumber(raw);
          expect(normalizeIdNumber(once)).toBe(once);
        },
      ),
    );
  });
});

describe('validateIdNumber', () => {
  it('accepts the worked examples', () => {
    const worked = validateIdNumber('330203198503120040');
    expect(worked).toEqual({
      ok: true,
      value: {
        normalized: '330203198503120040',
        addressCode: '330203',
        birthDate: '1985-03-12',
        sequence: 4,
        sex: 'FEMALE',
      },
    });
    const standard = validateIdNumber('11010519491231002X');
    expect(standard.ok).toBe(true);
    if (standard.ok) {
      expect(standard.value.birthDate).toBe('1949-12-31');
      expect(standard.value.sex).toBe('FEMALE');
    }
  });

  it('accepts a lower-case x and returns it upper-cased', () => {
    const result = validateIdNumber('11010519491231002x');
    expect(result.ok && result.value.normalized).toBe('11010519491231002X');
  });

  it('accepts a 15-digit number after conversion', () => {
    const result = validateIdNumber('330203850312004');
    expect(result.ok && result.value.normalized).toBe('330203198503120040');
  });

  it('accepts retired address codes and HK / Macao / Taiwan permit codes', () => {
    for (const address of ['330204', '810000', '820000', '830000']) {
      const id = generateIdNumber(address, '1990-06-15', 123);
      expect(validateIdNumber(id).ok).toBe(true);
    }
  });

  it('reports FORMAT', () => {
    for (const bad of ['', '1234', '33020319850312004', '3302031985031200A0', '33020319850312004XX', 'X30203198503120040']) {
      const result = validateIdNumber(bad);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.problem).toBe('FORMAT');
        expect(result.messageZh.length).toBeGreaterThan(0);
        expect(result.messageEn.length).toBeGreaterThan(0);
      }
    }
  });

  it('reports BIRTH_DATE for impossible, too early and future dates', () => {
    const withCheck = (first17: string) => first17 + computeCheckChar(first17);
    const cases = [
      withCheck('33020319850230004'), // 30 February
      withCheck('33020319851301004'), // month 13
      withCheck('33020319850100004'), // day 0
      withCheck('33020319000229004'), // 1900 is not a leap year
      withCheck('33020318491231004'), // before 1850
      withCheck('33020330000101004'), // future
    ];
    for (const id of cases) {
      const result = validateIdNumber(id);
      expect(result.ok ? 'ok' : result.problem).toBe('BIRTH_DATE');
    }
    expect(validateIdNumber(withCheck('33020320000229004')).ok).toBe(true);
  });

  it('uses the given reference day for the future-date rule', () => {
    const id = generateIdNumber('330203', '2024-05-02', 11);
    expect(validateIdNumber(id, { today: new Date('2024-05-02T00:00:00+08:00') }).ok).toBe(true);
    const result = validateIdNumber(id, { today: new Date('2024-05-01T23:59:00+08:00') });
    expect(result.ok ? 'ok' : result.problem).toBe('BIRTH_DATE');
  });

  it('reports CHECKSUM with the normalised number and worker-friendly messages', () => {
    expect(validateIdNumber('330203198503120041')).toEqual({
      ok: false,
      problem: 'CHECKSUM',
      normalized: '330203198503120041',
      messageZh: '身份证号码校验位错误',
      messageEn: 'ID number check character is wrong',
    });
    const lower = validateIdNumber('330203198503120 04x');
    expect(lower.ok ? 'ok' : [lower.problem, lower.normalized]).toEqual(['CHECKSUM', '33020319850312004X']);
  });

  it('reports SEX_MISMATCH only for sex codes 1 and 2', () => {
    const female = '330203198503120040'; // sequence 004, even
    expect(validateIdNumber(female, { sex: '2' }).ok).toBe(true);
    const mismatch = validateIdNumber(female, { sex: '1' });
    expect(mismatch.ok ? 'ok' : mismatch.problem).toBe('SEX_MISMATCH');
    expect(validateIdNumber(female, { sex: '0' }).ok).toBe(true);
    expect(validateIdNumber(female, { sex: '9' }).ok).toBe(true);
    const male = generateIdNumber('330203', '1985-03-12', 5);
    expect(validateIdNumber(male, { sex: '1' }).ok).toBe(true);
    const maleMismatch = validateIdNumber(male, { sex: '2' });
    expect(maleMismatch.ok ? 'ok' : maleMismatch.problem).toBe('SEX_MISMATCH');
  });

  it('reports BIRTH_DATE_MISMATCH', () => {
    const id = '330203198503120040';
    expect(validateIdNumber(id, { birthDate: '1985-03-12' }).ok).toBe(true);
    const result = validateIdNumber(id, { birthDate: '1985-03-13' });
    expect(result.ok ? 'ok' : result.problem).toBe('BIRTH_DATE_MISMATCH');
  });

  it('checks in order: CHECKSUM before SEX_MISMATCH before BIRTH_DATE_MISMATCH', () => {
    const badCheck = validateIdNumber('330203198503120041', { sex: '1', birthDate: '2000-01-01' });
    expect(badCheck.ok ? 'ok' : badCheck.problem).toBe('CHECKSUM');
    const both = validateIdNumber('330203198503120040', { sex: '1', birthDate: '2000-01-01' });
    expect(both.ok ? 'ok' : both.problem).toBe('SEX_MISMATCH');
  });

  it('accepts every generated ID (property)', () => {
    fc.assert(
      fc.property(addressCode, realDate, sequence, (address, date, seq) => {
        const id = generateIdNumber(address, date, seq);
        const result = validateIdNumber(id, { birthDate: date });
        expect(result).toEqual({
          ok: true,
          value: { normalized: id, addressCode: address, birthDate: date, sequence: seq, sex: seq % 2 === 1 ? 'MALE' : 'FEMALE' },
        });
      }),
    );
  });

  it('rejects every single-digit change among the first 17 (property)', () => {
    fc.assert(
      fc.property(
        validId,
        fc.integer({ min: 0, max: 16 }),
        fc.integer({ min: 1, max: 9 }),
        (id, position, delta) => {
          const original = Number(id.charAt(position));
          const changed = id.slice(0, position) + String((original + delta) % 10) + id.slice(position + 1);
          expect(changed).not.toBe(id);
          expect(validateIdNumber(changed).ok).toBe(false);
        },
      ),
    );
  });

  it('sequence parity decides the sex (property)', () => {
    fc.assert(
      fc.property(addressCode, realDate, sequence, (address, date, seq) => {
        const id = generateIdNumber(address, date, seq);
        const ownSex = seq % 2 === 1 ? '1' : '2';
        const otherSex = ownSex === '1' ? '2' : '1';
        expect(validateIdNumber(id, { sex: ownSex }).ok).toBe(true);
        const result = validateIdNumber(id, { sex: otherSex });
        expect(result.ok ? 'ok' : result.problem).toBe('SEX_MISMATCH');
      }),
    );
  });
});

describe('maskIdNumber', () => {
  it('keeps the first 4 and last 4 characters', () => {
    expect(maskIdNumber('330203198501011234')).toBe('3302**********1234');
    expect(maskIdNumber('330203850101123')).toBe('3302*******1123');
  });

  it('masks short strings completely', () => {
    expect(maskIdNumber('12345678')).toBe('********');
    expect(maskIdNumber('')).toBe('');
  });
});

describe('generateIdNumber', () => {
  it('builds the worked example', () => {
    expect(generateIdNumber('330203', '1985-03-12', 4)).toBe('330203198503120040');
    expect(generateIdNumber('110105', '1949-12-31', 2)).toBe('11010519491231002X');
  });

  it('rejects bad arguments', () => {
    expect(() => generateIdNumber('33020', '1985-03-12', 4)).toThrow(RangeError);
    expect(() => generateIdNumber('330203', '1985-02-30', 4)).toThrow(RangeError);
    expect(() => generateIdNumber('330203', '19850312', 4)).toThrow(RangeError);
    expect(() => generateIdNumber('330203', '1985-03-12', 1000)).toThrow(RangeError);
    expect(() => generateIdNumber('330203', '1985-03-12', 1.5)).toThrow(RangeError);
  });
});
