/**
 * Citizen ID number (公民身份号码) rules, GB 11643-1999.
 *
 * Layout of the 18 characters:
 *   6-digit address code (地址码, where the hukou was first registered)
 * + 8-digit birth date YYYYMMDD (出生日期码)
 * + 3-digit sequence (顺序码; odd = male, even = female)
 * + 1 check character (校验码, ISO 7064 MOD 11-2: a digit or `X`).
 *
 * Legacy 15-digit numbers (GB 11643-1989) have a 6-digit birth date YYMMDD, no check character,
 * and are converted by inserting the century `19` after the address code.
 *
 * Address codes are deliberately not checked against the current division list: retired codes
 * (e.g. 330204, former Jiangdong District 江东区) stay valid for life inside ID numbers, and
 * 810000 / 820000 / 830000 are used by residence permits of Hong Kong / Macao / Taiwan residents.
 */

/** Weights W_i for positions 1..17. */
const CHECK_WEIGHTS: readonly number[] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** Check character indexed by S mod 11. */
const CHECK_CHARS = '10X98765432';

/** Earliest birth year accepted inside an ID number. */
const MIN_BIRTH_YEAR = 1850;

/** Offset of China Standard Time (UTC+8), used to decide what "today" is. */
const CHINA_UTC_OFFSET_MS = 8 * 60 * 60 * 1000;

export type IdNumberProblem = 'FORMAT' | 'CHECKSUM' | 'BIRTH_DATE' | 'SEX_MISMATCH' | 'BIRTH_DATE_MISMATCH';

export interface ParsedIdNumber {
  /** 18 characters, upper-case `X`. */
  normalized: string;
  /** First 6 digits (地址码). */
  addressCode: string;
  /** YYYY-MM-DD */
  birthDate: string;
  /** 0..999 (顺序码). */
  sequence: number;
  sex: 'MALE' | 'FEMALE';
}

export interface ValidateIdNumberOptions {
  /** GB/T 2261.1 sex code of the record; only '1' (male) and '2' (female) are compared. */
  sex?: '1' | '2' | string;
  /** Birth date of the record, YYYY-MM-DD (YYYYMMDD is accepted too). */
  birthDate?: string;
  /** Reference instant for the "not in the future" rule; defaults to now. */
  today?: Date;
}

export type IdNumberValidation =
  | { ok: true; value: ParsedIdNumber }
  | { ok: false; problem: IdNumberProblem; normalized: string; messageZh: string; messageEn: string };

/** Messages shown to community workers (社工) next to the field. */
const PROBLEM_MESSAGES: Record<IdNumberProblem, { zh: string; en: string }> = {
  FORMAT: {
    zh: '身份证号码格式错误，应为18位（最后一位可为X）',
    en: 'ID number must have 18 characters: 17 digits and a digit or X',
  },
  BIRTH_DATE: {
    zh: '身份证号码中的出生日期无效',
    en: 'The birth date inside the ID number is not valid',
  },
  CHECKSUM: {
    zh: '身份证号码校验位错误',
    en: 'ID number check character is wrong',
  },
  SEX_MISMATCH: {
    zh: '身份证号码与性别不符',
    en: 'ID number does not match the sex',
  },
  BIRTH_DATE_MISMATCH: {
    zh: '身份证号码与出生日期不符',
    en: 'ID number does not match the birth date',
  },
};

const SEVENTEEN_DIGITS = /^\d{17}$/;
const FIFTEEN_DIGITS = /^\d{15}$/;
const ID18_FORMAT = /^\d{17}[\dX]$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Check character for the first 17 digits: S = Σ a_i·W_i, r = S mod 11, result '10X98765432'[r].
 * Throws a RangeError unless given exactly 17 ASCII digits.
 */
export function computeCheckChar(first17: string): string {
  if (!SEVENTEEN_DIGITS.test(first17)) {
    throw new RangeError('computeCheckChar expects exactly 17 digits');
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    sum += (first17.charCodeAt(i) - 48) * (CHECK_WEIGHTS[i] ?? 0);
  }
  return CHECK_CHARS.charAt(sum % 11);
}

/** Maps full-width digits and letter X (common in pasted or legacy data) to ASCII. */
function toHalfWidth(value: string): string {
  return value.replace(/[\uFF10-\uFF19\uFF38\uFF58]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0));
}

/**
 * Cleans an ID number: trims, removes all whitespace (also inner and full-width spaces), maps full-width
 * digits to ASCII, upper-cases `x`, and converts a 15-digit number to 18 digits. Anything else is
 * returned cleaned but otherwise unchanged. Idempotent.
 */
export function normalizeIdNumber(raw: string): string {
  const cleaned = toHalfWidth(raw.replace(/\s+/g, '')).replace(/x/g, 'X');
  if (FIFTEEN_DIGITS.test(cleaned)) {
    const first17 = `${cleaned.slice(0, 6)}19${cleaned.slice(6)}`;
    return first17 + computeCheckChar(first17);
  }
  return cleaned;
}

/** Whether year-month-day is a real Gregorian calendar date. */
function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) {
    return false;
  }
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= (monthDays[month - 1] ?? 0);
}

/** Today's date in China Standard Time as YYYY-MM-DD. */
function chinaDateOf(instant: Date): string {
  return new Date(instant.getTime() + CHINA_UTC_OFFSET_MS).toISOString().slice(0, 10);
}

function failure(problem: IdNumberProblem, normalized: string): IdNumberValidation {
  const message = PROBLEM_MESSAGES[problem];
  return { ok: false, problem, normalized, messageZh: message.zh, messageEn: message.en };
}

/**
 * Validates an ID number (after normalising it). Checks in order: FORMAT, BIRTH_DATE, CHECKSUM,
 * SEX_MISMATCH (only when opts.sex is '1' or '2'), BIRTH_DATE_MISMATCH (only when opts.birthDate is given).
 */
export function validateIdNumber(raw: string, opts: ValidateIdNumberOptions = {}): IdNumberValidation {
  const normalized = normalizeIdNumber(raw);
  if (!ID18_FORMAT.test(normalized)) {
    return failure('FORMAT', normalized);
  }

  const year = Number(normalized.slice(6, 10));
  const month = Number(normalized.slice(10, 12));
  const day = Number(normalized.slice(12, 14));
  const birthDate = `${normalized.slice(6, 10)}-${normalized.slice(10, 12)}-${normalized.slice(12, 14)}`;
  if (
    year < MIN_BIRTH_YEAR ||
    !isRealDate(year, month, day) ||
    birthDate > chinaDateOf(opts.today ?? new Date())
  ) {
    return failure('BIRTH_DATE', normalized);
  }

  if (computeCheckChar(normalized.slice(0, 17)) !== normalized.charAt(17)) {
    return failure('CHECKSUM', normalized);
  }

  const sequence = Number(normalized.slice(14, 17));
  const sex: 'MALE' | 'FEMALE' = sequence % 2 === 1 ? 'MALE' : 'FEMALE';
  if ((opts.sex === '1' && sex !== 'MALE') || (opts.sex === '2' && sex !== 'FEMALE')) {
    return failure('SEX_MISMATCH', normalized);
  }

  if (opts.birthDate !== undefined && opts.birthDate.trim() !== '') {
    const expected = opts.birthDate.trim().replace(/-/g, '');
    if (expected !== normalized.slice(6, 14)) {
      return failure('BIRTH_DATE_MISMATCH', normalized);
    }
  }

  return {
    ok: true,
    value: { normalized, addressCode: normalized.slice(0, 6), birthDate, sequence, sex },
  };
}

/**
 * Masks an ID number for display where it is not entitled in clear: first 4 + '*' × (len − 8) + last 4,
 * e.g. `3302**********1234`. Strings of 8 characters or fewer are masked completely.
 */
export function maskIdNumber(id: string): string {
  if (id.length <= 8) {
    return '*'.repeat(id.length);
  }
  return id.slice(0, 4) + '*'.repeat(id.length - 8) + id.slice(-4);
}

/**
 * Builds a valid 18-character ID number (for seeding and tests).
 * @param addressCode 6 digits (not checked against any division list)
 * @param birthDate YYYY-MM-DD, a real calendar date
 * @param sequence integer 0..999; odd = male, even = female
 */
export function generateIdNumber(addressCode: string, birthDate: string, sequence: number): string {
  if (!/^\d{6}$/.test(addressCode)) {
    throw new RangeError('addressCode must be 6 digits');
  }
  const date = ISO_DATE.exec(birthDate);
  if (!date || !isRealDate(Number(date[1]), Number(date[2]), Number(date[3]))) {
    throw new RangeError('birthDate must be a real date in the form YYYY-MM-DD');
  }
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 999) {
    throw new RangeError('sequence must be an integer from 0 to 999');
  }
  const first17 = `${addressCode}${birthDate.replace(/-/g, '')}${String(sequence).padStart(3, '0')}`;
  return first17 + computeCheckChar(first17);
}
