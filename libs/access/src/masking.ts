import { maskIdNumber } from '@linli/codes';

/** Two-character surnames (复姓) that masking keeps whole. */
const COMPOUND_SURNAMES = new Set(['欧阳', '司马', '诸葛', '上官', '东方', '皇甫', '尉迟', '公孙', '慕容', '令狐', '夏侯', '端木', '长孙', '宇文', '司徒', '南宫']);

/** 张* / 欧阳*明: keep the first character (two for known compound surnames) and the last of longer names. */
export function maskName(name: string): string {
  const chars = [...name];
  if (chars.length <= 1) return '*';
  const surname = chars.length > 2 && COMPOUND_SURNAMES.has(chars[0] + chars[1]) ? 2 : 1;
  if (chars.length - surname <= 1) return chars.slice(0, surname).join('') + '*';
  return chars.slice(0, surname).join('') + '*'.repeat(chars.length - surname - 1) + chars[chars.length - 1];
}

/** 138****1234; landlines keep the area code and the last four digits. */
export function maskPhone(phone: string): string {
  if (phone.length <= 7) return '*'.repeat(phone.length);
  return phone.slice(0, 3) + '*'.repeat(phone.length - 7) + phone.slice(-4);
}

/** An address down to the building: everything after the first 号/幢/栋 is hidden. */
export function maskAddress(address: string): string {
  const m = /^(.*?[号幢栋])/.exec(address);
  return m ? `${m[1]}***` : `${[...address].slice(0, 6).join('')}***`;
}

/** Birth date down to the year. */
export function maskDate(date: string): string {
  return `${date.slice(0, 4)}-**-**`;
}

export function maskValue(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value === null || value === undefined ? value : null;
  switch (key) {
    case 'Resident.idNumber': return maskIdNumber(value);
    case 'Resident.name':
    case 'Resident.formerName': return maskName(value);
    case 'Resident.phone': return maskPhone(value);
    case 'Household.registeredAddress': return maskAddress(value);
    case 'Resident.birthDate': return maskDate(value);
    default: return null;
  }
}
