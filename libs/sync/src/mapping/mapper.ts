import { OutboundRecord } from '../adapters/adapter';
import { FieldRule, TargetConfig } from '../targets/target-config';
import { HubView } from './record-view';

type Value = string | number | boolean | null;

/** Dates arrive as YYYY-MM-DD; targets want their own layouts (YYYYMMDD, 2012年3月, …). */
export function formatDate(value: string, format: NonNullable<FieldRule['format']>): string {
  const [y, m, d] = value.split('-');
  switch (format) {
    case 'YYYYMMDD': return `${y}${m}${d}`;
    case 'YYYY-MM-DD': return value;
    case 'YYYY年M月': return `${y}年${Number(m)}月`;
    case 'YYYY年M月D日': return `${y}年${Number(m)}月${Number(d)}日`;
    default: {
      const never: never = format;
      throw new Error(`unknown date format ${String(never)}`);
    }
  }
}

export class MappingError extends Error {}

function applyRule(target: TargetConfig, field: string, rule: FieldRule, view: HubView): Value {
  let v: Value;
  if (rule.constant !== undefined) v = rule.constant;
  else if (rule.join) {
    const parts = rule.join.fields.map((f) => view[f]).filter((x) => x !== null && x !== undefined && x !== '');
    v = parts.length ? parts.join(rule.join.separator) : null;
  } else v = view[rule.from!] ?? null;
  if (v === null) {
    if (!rule.optional && field === target.key) throw new MappingError(`key field ${field} has no value`);
    return null;
  }
  if (rule.format && typeof v === 'string') v = formatDate(v, rule.format);
  if (rule.codes) {
    const table = target.codes[rule.codes];
    const mapped = table[String(v)];
    if (mapped === undefined) {
      if (rule.optional) return null;
      throw new MappingError(`no ${rule.codes} code for "${String(v).length <= 3 ? v : '…'}" at ${field}`);
    }
    v = mapped;
  }
  if (rule.unpad && typeof v === 'string') v = v.replace(/^0+(?=\d)/, '');
  if (rule.pad && (typeof v === 'string' || typeof v === 'number')) v = String(v).padStart(rule.pad, '0');
  return v;
}

/** Does the target want this record at all (aggregate, tags, population types)? */
export function subscribes(target: TargetConfig, view: HubView): boolean {
  if (view.status !== 'ACTIVE') return false;
  const { tags, populationTypes } = target.subscribe;
  if (tags.length && !tags.some((t) => view[`tag.${t}`] === true)) return false;
  if (populationTypes.length && !populationTypes.includes(String(view.populationType))) return false;
  if (target.subscribe.headsOnly && view['household.relationship'] !== '02') return false;
  return true;
}

/**
 * The record as this target receives it: only the fields its file allows, under its names, in its codes and
 * formats. A record that left the target's group (moved out, died, merged, tag removed) becomes a DELETE that
 * carries only the key.
 */
export function mapRecord(target: TargetConfig, view: HubView, aggregateId: string): OutboundRecord {
  const fields: Record<string, Value> = {};
  for (const [field, rule] of Object.entries(target.fields)) fields[field] = applyRule(target, field, rule, view);
  const key = fields[target.key];
  if (key === null || key === undefined || key === '') throw new MappingError(`key field ${target.key} has no value`);
  const live = subscribes(target, view);
  return {
    target: target.name, aggregateType: 'RESIDENT', aggregateId, version: Number(view.version), key: String(key),
    operation: live ? 'UPSERT' : 'DELETE', fields: live ? fields : { [target.key]: key },
  };
}
