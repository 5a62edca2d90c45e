import { DomainError } from '../errors/domain-error';

/** Small, explicit checks for GraphQL and CLI input. Each throws BAD_USER_INPUT naming the field. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function requireUuid(value: string, field: string): string {
  if (!UUID.test(value)) {
    throw DomainError.badInput(field, '标识格式无效', 'The id is not a valid identifier');
  }
  return value.toLowerCase();
}

export function requireText(value: string | null | undefined, field: string, maxLength = 200): string {
  const v = (value ?? '').trim();
  if (!v) throw DomainError.badInput(field, '此项不能为空', 'This field is required');
  if (v.length > maxLength) {
    throw DomainError.badInput(field, `长度不能超过 ${maxLength} 个字`, `Must be at most ${maxLength} characters`, { maxLength });
  }
  return v;
}

export function optionalText(value: string | null | undefined, field: string, maxLength = 200): string | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  return requireText(value, field, maxLength);
}

export function isRealDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** A calendar date `YYYY-MM-DD`; by default not in the future. */
export function requireDate(value: string, field: string, opts: { allowFuture?: boolean } = {}): string {
  if (!isRealDate(value)) {
    throw DomainError.badInput(field, '日期格式应为 YYYY-MM-DD 且为真实日期', 'Date must be a real date in the form YYYY-MM-DD');
  }
  if (!opts.allowFuture && value > today()) {
    throw DomainError.badInput(field, '日期不能晚于今天', 'Date cannot be in the future');
  }
  return value;
}

/** Today's date where the platform runs (China Standard Time, UTC+8), as YYYY-MM-DD. */
export function today(): string {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
}
