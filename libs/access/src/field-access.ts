import { defaultFieldResolver, getNamedType, GraphQLFieldResolver, GraphQLSchema, isObjectType } from 'graphql';
import { GraphQLContextValue, RequestContext } from '@linli/core';
import { maskValue } from './masking';
import { SENSITIVE_FIELDS } from './policies.data';

type Resolver = GraphQLFieldResolver<unknown, GraphQLContextValue>;

/** The object types whose every appearance in a response is recorded in the audit trail. */
const AUDITED_TYPES: Record<string, 'residentIds' | 'householdIds'> = { Resident: 'residentIds', Household: 'householdIds' };

const isPromise = (v: unknown): v is Promise<unknown> => typeof (v as { then?: unknown } | null)?.then === 'function';

/** Applies `after` to a resolver's value, synchronously when the value is not a promise. */
function then(resolve: Resolver, after: (value: unknown, ctx: RequestContext) => unknown): Resolver {
  return (source, args, context, info) => {
    const value = resolve(source, args, context, info);
    const ctx = context.linli;
    if (!ctx) return value;
    return isPromise(value) ? value.then((v) => after(v, ctx)) : after(value, ctx);
  };
}

/** Records the ids of the residents or households a field returns (one object, a list, or null). */
function recordIds(bucket: 'residentIds' | 'householdIds'): (value: unknown, ctx: RequestContext) => unknown {
  return (value, ctx) => {
    const ids = ctx.audit[bucket];
    if (Array.isArray(value)) {
      for (const item of value) if ((item as { id?: string } | null)?.id) ids.add((item as { id: string }).id);
    } else if ((value as { id?: string } | null)?.id) {
      ids.add((value as { id: string }).id);
    }
    return value;
  };
}

/** Masks a sensitive field the principal may see only masked, drops tags it may not see, and records clear/masked. */
function guardSensitive(key: string): (value: unknown, ctx: RequestContext) => unknown {
  const isTags = key === 'Resident.tags' || key === 'Household.tags';
  return (value, ctx) => {
    if (value === null || value === undefined) return value;
    const { fields, tags } = ctx.access;
    let out = value;
    if (tags && isTags && Array.isArray(value)) out = (value as { code: string }[]).filter((t) => tags.has(t.code));
    if (fields === null || fields[key] === 'CLEAR') {
      ctx.audit.clearFields.add(key);
      return out;
    }
    ctx.audit.maskedFields.add(key);
    return maskValue(key, out);
  };
}

/**
 * Wraps, once when the schema is built, exactly the resolvers the access rules need, instead of a middleware on
 * every field of every row:
 * - every field returning a Resident or Household records the ids it returns (audit: which records a response showed);
 * - every sensitive field (SENSITIVE_FIELDS) masks or filters its value for the principal and records whether it
 *   went out in clear.
 * Refusal of fields not entitled at all happens before execution (the access plugin), so nothing here has to invent
 * a refusal halfway through a response. Other fields (ids, versions, codes) run their resolvers untouched.
 */
export function applyFieldAccess(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const key = `${type.name}.${field.name}`;
      const bucket = AUDITED_TYPES[getNamedType(field.type).name];
      const steps: ((value: unknown, ctx: RequestContext) => unknown)[] = [];
      if (SENSITIVE_FIELDS.has(key)) steps.push(guardSensitive(key));
      if (bucket) steps.push(recordIds(bucket));
      if (steps.length === 0) continue;
      // One wrapper per field, whatever it does: a single `then` when the resolver answers with a promise.
      const after = steps.length === 1 ? steps[0] : (value: unknown, ctx: RequestContext) => steps.reduce((v, step) => step(v, ctx), value);
      field.resolve = then((field.resolve as Resolver | undefined) ?? (defaultFieldResolver as Resolver), after) as typeof field.resolve;
    }
  }
  return schema;
}
