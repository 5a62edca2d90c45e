import { pinyin } from 'pinyin-pro';
import { CodeListName, normalizeIdNumber, validateIdNumber } from '@linli/codes';
import { ErrorCode, isRealDate, today } from '@linli/core';

/** What the rules need to know about code lists (CodesService provides it). */
export interface CodeLookup {
  isCode(list: CodeListName, code: string): boolean;
}

/** The personal fields of a resident as given by a worker or a legacy export, before checking. */
export interface ResidentFieldsRaw {
  idType?: string | null;
  idNumber?: string | null;
  name?: string | null;
  formerName?: string | null;
  sex?: string | null;
  birthDate?: string | null;
  ethnicity?: string | null;
  politicalStatus?: string | null;
  education?: string | null;
  maritalStatus?: string | null;
  employment?: string | null;
  phone?: string | null;
  populationType?: string | null;
  householdRelation?: string | null;
}

/** The same fields, normalised and checked, as stored. */
export interface ResidentRecord {
  idType: string;
  idNumber: string | null;
  idNumberStatus: 'VALID' | 'QUARANTINED' | 'NONE';
  quarantineReason: string | null;
  name: string;
  namePinyin: string;
  formerName: string | null;
  sex: string;
  birthDate: string;
  ethnicity: string | null;
  politicalStatus: string | null;
  education: string | null;
  maritalStatus: string | null;
  employment: string | null;
  phone: string | null;
  populationType: string;
  householdRelation: string | null;
}

/** Why a record from a legacy source is kept in quarantine. */
export enum QuarantineReason {
  ID_CHECKSUM = 'ID_CHECKSUM',
  RETIRED_DIVISION = 'RETIRED_DIVISION',
}

/** The stored quarantine reason: every reason that applies, comma-separated, or null when the record is clean. */
export function quarantineReasonOf(idNumberStatus: string, communityRetired: boolean): string | null {
  const reasons = [
    ...(idNumberStatus === 'QUARANTINED' ? [QuarantineReason.ID_CHECKSUM] : []),
    ...(communityRetired ? [QuarantineReason.RETIRED_DIVISION] : []),
  ];
  return reasons.length ? reasons.join(',') : null;
}

export type ProblemSeverity = 'REJECT' | 'QUARANTINE';

export interface ResidentProblem {
  field: string;
  code: ErrorCode;
  messageZh: string;
  messageEn: string;
  severity: ProblemSeverity;
}

export const RESIDENT_RECORD_FIELDS: (keyof ResidentRecord)[] = [
  'idType', 'idNumber', 'idNumberStatus', 'quarantineReason', 'name', 'formerName', 'sex', 'birthDate', 'ethnicity',
  'politicalStatus', 'education', 'maritalStatus', 'employment', 'phone', 'populationType', 'householdRelation',
];

const CODED_FIELDS: [keyof ResidentFieldsRaw, CodeListName][] = [
  ['ethnicity', 'ethnicity'], ['politicalStatus', 'political_status'], ['education', 'education'],
  ['maritalStatus', 'marital_status'], ['employment', 'employment'], ['householdRelation', 'household_relation'],
];

const PHONE = /^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/;
const PASSPORT_LIKE = /^[A-Z0-9]{5,20}$/;

export function namePinyin(name: string): string {
  return pinyin(name, { toneType: 'none', separator: '', nonZh: 'consecutive', v: true }).toLowerCase().replace(/[^a-z0-9]/g, '');
}

function clean(v: string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  const t = v.trim();
  return t === '' ? null : t;
}

/**
 * Checks and normalises a resident's fields. Returns every problem found (not just the first), each naming its
 * field; QUARANTINE problems (a legacy ID with a bad check character) let an import keep the record in quarantine,
 * REJECT problems do not. A worker's input is refused on any problem.
 */
export function checkResidentFields(raw: ResidentFieldsRaw, codes: CodeLookup, prefix: string): { record: ResidentRecord | null; problems: ResidentProblem[] } {
  const problems: ResidentProblem[] = [];
  const f = (name: string) => (prefix ? `${prefix}.${name}` : name);
  const reject = (field: string, code: ErrorCode, zh: string, en: string) =>
    problems.push({ field: f(field), code, messageZh: zh, messageEn: en, severity: 'REJECT' });

  const idType = clean(raw.idType) ?? 'RESIDENT_ID';
  if (!codes.isCode('id_type', idType)) reject('idType', ErrorCode.INVALID_CODE, `证件类型“${idType}”无效`, `ID type "${idType}" is not valid`);

  const name = clean(raw.name);
  if (!name) reject('name', ErrorCode.BAD_USER_INPUT, '姓名不能为空', 'Name is required');
  else if (name.length > 100 || /[\p{Cc}<>]/u.test(name)) reject('name', ErrorCode.BAD_USER_INPUT, '姓名含有无效字符或过长', 'Name is too long or contains invalid characters');
  const formerName = clean(raw.formerName);
  if (formerName && formerName.length > 100) reject('formerName', ErrorCode.BAD_USER_INPUT, '曾用名过长', 'Former name is too long');

  let sex = clean(raw.sex);
  let birthDate = clean(raw.birthDate);
  if (birthDate && /^\d{8}$/.test(birthDate)) birthDate = `${birthDate.slice(0, 4)}-${birthDate.slice(4, 6)}-${birthDate.slice(6, 8)}`;
  let idNumber = clean(raw.idNumber);
  let idNumberStatus: ResidentRecord['idNumberStatus'] = 'NONE';
  let quarantineReason: string | null = null;

  if (idType === 'NONE') {
    if (idNumber) reject('idNumber', ErrorCode.BAD_USER_INPUT, '证件类型为“无证件”时不能填写证件号码', 'No ID number may be given when the ID type is NONE');
    idNumber = null;
  } else if (!idNumber) {
    reject('idNumber', ErrorCode.BAD_USER_INPUT, '证件号码不能为空', 'ID number is required for this ID type');
  } else if (idType === 'RESIDENT_ID' || (idType === 'HMT_PERMIT' && /^\d{17}[\dXx]$/.test(idNumber.replace(/\s/g, '')))) {
    const result = validateIdNumber(idNumber, { sex: sex ?? undefined, birthDate: birthDate ?? undefined });
    if (result.ok) {
      idNumber = result.value.normalized;
      idNumberStatus = 'VALID';
      sex = sex ?? (result.value.sex === 'MALE' ? '1' : '2');
      birthDate = birthDate ?? result.value.birthDate;
    } else if (result.problem === 'CHECKSUM') {
      // Kept, flagged and fixable: some departmental systems never validated check characters.
      idNumber = result.normalized;
      idNumberStatus = 'QUARANTINED';
      quarantineReason = QuarantineReason.ID_CHECKSUM;
      problems.push({ field: f('idNumber'), code: ErrorCode.INVALID_ID_NUMBER, messageZh: result.messageZh, messageEn: result.messageEn, severity: 'QUARANTINE' });
      const n = result.normalized;
      const embedded = `${n.slice(6, 10)}-${n.slice(10, 12)}-${n.slice(12, 14)}`;
      birthDate = birthDate ?? embedded;
      sex = sex ?? (Number(n[16]) % 2 === 1 ? '1' : '2');
    } else {
      const field = result.problem === 'SEX_MISMATCH' ? 'sex' : result.problem === 'BIRTH_DATE_MISMATCH' ? 'birthDate' : 'idNumber';
      reject(field, ErrorCode.INVALID_ID_NUMBER, result.messageZh, result.messageEn);
    }
  } else {
    idNumber = idNumber.replace(/\s/g, '').toUpperCase();
    if (!PASSPORT_LIKE.test(idNumber)) reject('idNumber', ErrorCode.BAD_USER_INPUT, '证件号码应为 5–20 位字母或数字', 'ID number must be 5–20 letters or digits');
    idNumberStatus = 'VALID';
  }

  if (!sex) reject('sex', ErrorCode.BAD_USER_INPUT, '性别不能为空', 'Sex is required');
  else if (!codes.isCode('sex', sex)) reject('sex', ErrorCode.INVALID_CODE, `性别代码“${sex}”无效`, `Sex code "${sex}" is not valid`);
  if (!birthDate) reject('birthDate', ErrorCode.BAD_USER_INPUT, '出生日期不能为空', 'Birth date is required');
  else if (!isRealDate(birthDate) || birthDate > today() || birthDate < '1880-01-01') {
    reject('birthDate', ErrorCode.BAD_USER_INPUT, '出生日期无效', 'Birth date must be a real past date (YYYY-MM-DD)');
  }

  const coded: Partial<Record<keyof ResidentFieldsRaw, string | null>> = {};
  for (const [field, list] of CODED_FIELDS) {
    let v = clean(raw[field] as string | null | undefined);
    if (v && list !== 'household_relation' && /^\d$/.test(v)) v = `0${v}`; // legacy systems drop the leading zero
    if (v && !codes.isCode(list, v)) reject(field, ErrorCode.INVALID_CODE, `代码“${v}”不在代码表 ${list} 中`, `Code "${v}" is not in code list ${list}`);
    coded[field] = v;
  }
  const populationType = clean(raw.populationType) ?? 'REGISTERED';
  if (!codes.isCode('population_type', populationType)) {
    reject('populationType', ErrorCode.INVALID_CODE, `人口类型“${populationType}”无效`, `Population type "${populationType}" is not valid`);
  }
  let phone = clean(raw.phone);
  if (phone) {
    phone = phone.replace(/[\s]/g, '').replace(/^\+?86/, '');
    if (!PHONE.test(phone)) reject('phone', ErrorCode.BAD_USER_INPUT, '电话号码格式无效', 'Phone number is not valid (mobile: 11 digits; landline: area code + number)');
  }

  if (problems.some((p) => p.severity === 'REJECT')) return { record: null, problems };
  return {
    problems,
    record: {
      idType, idNumber: idNumber ? normalizeIdNumber(idNumber) : null, idNumberStatus, quarantineReason, name: name!, namePinyin: namePinyin(name!),
      formerName, sex: sex!, birthDate: birthDate!, ethnicity: coded.ethnicity ?? null, politicalStatus: coded.politicalStatus ?? null,
      education: coded.education ?? null, maritalStatus: coded.maritalStatus ?? null, employment: coded.employment ?? null, phone,
      populationType, householdRelation: coded.householdRelation ?? null,
    },
  };
}
