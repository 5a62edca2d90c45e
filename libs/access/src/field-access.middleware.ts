import { FieldMiddleware, MiddlewareContext, NextFn } from '@nestjs/graphql';
import { RequestContext } from '@linli/core';
import { maskValue } from './masking';
import { SENSITIVE_FIELDS } from './policies.data';

/**
 * Runs on every field of every object type. It records which residents and households a response touches and
 * which fields it returns in clear or masked (for the audit trail), masks fields the principal may see only masked,
 * and drops tags the principal may not see. Refusal of fields not entitled at all happens before execution
 * (see QueryInspectionPlugin), so this never has to invent a refusal halfway through a response.
 */
export const fieldAccessMiddleware: FieldMiddleware = async (mctx: MiddlewareContext, next: NextFn) => {
  const value = await next();
  const ctx = (mctx.context as { linli?: RequestContext }).linli;
  if (!ctx) return value;
  const type = mctx.info.parentType.name;
  const source = mctx.source as { id?: string } | null;
  if (type === 'Resident' && source?.id) ctx.audit.residentIds.add(source.id);
  else if (type === 'Household' && source?.id) ctx.audit.householdIds.add(source.id);
  const key = `${type}.${mctx.info.fieldName}`;
  if (!SENSITIVE_FIELDS.has(key) || value === null || value === undefined) return value;
  const { fields, tags } = ctx.access;
  let out = value;
  if (tags && (key === 'Resident.tags' || key === 'Household.tags') && Array.isArray(value)) {
    out = (value as { code: string }[]).filter((t) => tags.has(t.code));
  }
  if (fields === null || fields[key] === 'CLEAR') {
    ctx.audit.clearFields.add(key);
    return out;
  }
  ctx.audit.maskedFields.add(key);
  return maskValue(key, out);
};
