import { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import {
  ASTNode, DocumentNode, FragmentDefinitionNode, getNamedType, GraphQLError, GraphQLInputType, GraphQLSchema, isInputObjectType, Kind,
  OperationDefinitionNode, TypeInfo, ValueNode, valueFromAST, visit, visitWithTypeInfo,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { AppConfig, DomainError, ErrorCode, GraphQLContextValue, Permission } from '@linli/core';
import { AuditService } from './audit.service';
import { PERSONAL_TYPES, SENSITIVE_FIELDS } from './policies.data';
import { operationCost } from './query-limits';
import { BudgetExceededError, QueryBudget } from './query-budget';

export interface LinliGraphQLContext extends GraphQLContextValue {
  /** Set by the inspection: the operation reads personal data, so it is audited. */
  personal?: boolean;
  operationLabel?: string;
  /** The audit was told a row is coming (AuditService.expect); settled by append or forget. */
  auditAnnounced?: boolean;
}

/** Which field a filter or argument reads, so filtering on it needs the same entitlement as reading it. */
const FILTER_READS: Record<string, string> = {
  sex: 'Resident.sex', ageMin: 'Resident.age', ageMax: 'Resident.age', namePrefix: 'Resident.name', populationType: 'Resident.populationType',
  idNumberStatus: 'Resident.idNumber', quarantined: 'Resident.idNumber',
};
const GROUP_BY_READS: Record<string, string> = { SEX: 'Resident.sex', AGE_BAND: 'Resident.age', POPULATION_TYPE: 'Resident.populationType' };

function refuse(code: ErrorCode, zh: string, en: string, field?: string, details?: Record<string, unknown>, status = 403): GraphQLError {
  return refusal(new DomainError(code, zh, en, { field, details }), status);
}

function refusal(domain: DomainError, status: number): GraphQLError {
  return new GraphQLError(domain.message, { originalError: domain, extensions: { code: domain.code, http: { status } } });
}

/**
 * The one place where a query is checked against the principal's entitlements before any resolver runs:
 * sensitive fields (through aliases, fragments and nesting), filters and arguments that read fields, visible tags,
 * the stated purpose, the query's cost against the per-minute budget. After the response is built, it writes the
 * audit record; if that fails, the data is not returned.
 */
export function accessPlugin(
  audit: AuditService,
  budget: QueryBudget,
  config: AppConfig,
  onAuditFailure: (err: unknown) => void,
  onInternalError: (err: unknown, requestId: string | null) => void,
): ApolloServerPlugin<LinliGraphQLContext> {
  const maxCost = config.get('QUERY_MAX_COST');

  function charge(actorId: string, cost: number): void {
    try {
      budget.charge(actorId, cost);
    } catch (err) {
      throw err instanceof BudgetExceededError ? refusal(err, 429) : err;
    }
  }

  // One listener serves every request: the hooks keep their per-request state on the context value.
  const listener: GraphQLRequestListener<LinliGraphQLContext> = {
    async didResolveOperation({ contextValue, operation, document, schema, request }) {
      const ctx = contextValue.linli;
      if (!operation) return;
      const inspection = inspect(schema, document, operation);
      // Declared defaults count too: cost and filters are judged on the values the execution will use. Coerced
      // only when something depends on them (a page size or a filter from a variable).
      let coerced: Record<string, unknown> | null = null;
      const variables = () => (coerced ??= getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {}).coerced ?? request.variables ?? {});
      const cost = inspection.fixedCost ?? operationCost(schema, operation, inspection.fragments, variables());
      if (cost > maxCost) {
        throw refuse(ErrorCode.QUERY_TOO_COMPLEX, `查询代价过高（${cost}，上限 ${maxCost}）`, `Query is too costly (${cost}; limit ${maxCost})`, undefined, { cost, maxCost }, 400);
      }
      const reads = inspection.argumentReads.length ? argumentReads(variables(), inspection.argumentReads) : NO_READS;
      contextValue.personal = inspection.personal;
      contextValue.operationLabel = inspection.label;
      if (!ctx) return; // the guard answers UNAUTHENTICATED for anything but public operations
      if (inspection.personal || operation.operation === 'mutation') {
        audit.expect();
        contextValue.auditAnnounced = true;
      }
      charge(ctx.actor.id, cost);
      const { fields, tags, purposes } = ctx.access;
      if (inspection.personal && !ctx.access.permissions.has(Permission.READ_REGISTER) && operation.operation === 'query' && !inspection.statisticsOnly) {
        throw refuse(ErrorCode.FORBIDDEN, '无权查看个人信息', 'You are not permitted to read personal data');
      }
      if (fields !== null) {
        for (const key of inspection.fields) {
          if (SENSITIVE_FIELDS.has(key) && !fields[key]) throw refuse(ErrorCode.FORBIDDEN, `无权查看字段 ${key}`, `You are not entitled to the field ${key}`, key);
        }
        for (const key of reads.filterReads) {
          if (!fields[key]) throw refuse(ErrorCode.FORBIDDEN, `无权按字段 ${key} 筛选或分组`, `You may not filter or group by ${key}`, key);
          if (key === 'Resident.name' && fields[key] !== 'CLEAR') throw refuse(ErrorCode.FORBIDDEN, '无权按姓名筛选', 'You may not filter by name', key);
        }
        for (const key of inspection.clearLookups) {
          if (fields[key] !== 'CLEAR') throw refuse(ErrorCode.FORBIDDEN, `无权按 ${key} 查找`, `You may not look up by ${key}`, key);
        }
      }
      if (tags !== null) {
        for (const t of reads.tagFilters) if (!tags.has(t)) throw refuse(ErrorCode.FORBIDDEN, `无权按标签 ${t} 筛选`, `You may not filter by the tag ${t}`, 'filter.tags');
      }
      if (inspection.personal && purposes !== null) {
        if (!ctx.purpose) throw refuse(ErrorCode.PURPOSE_REQUIRED, '查询个人信息须说明用途（请求头 x-linli-purpose）', 'Reading personal data needs a stated purpose (header x-linli-purpose)', 'purpose', { registered: [...purposes] });
        if (!purposes.has(ctx.purpose)) throw refuse(ErrorCode.PURPOSE_REQUIRED, `用途 ${ctx.purpose} 未登记`, `Purpose ${ctx.purpose} is not registered for you`, 'purpose', { registered: [...purposes] });
      }
    },

    async didEncounterErrors({ contextValue, errors }) {
      for (const e of errors) {
        if (!(e.originalError instanceof DomainError) && e.originalError) onInternalError(e.originalError, contextValue.linli?.requestId ?? null);
      }
    },

    async willSendResponse({ contextValue, response, operation }) {
      // Personal data is never to be kept by a browser or a proxy.
      response.http?.headers.set('cache-control', 'no-store');
      const ctx = contextValue.linli;
      if (response.body.kind !== 'single') {
        if (contextValue.auditAnnounced) audit.forget();
        return;
      }
      const errors = response.body.singleResult.errors ?? [];
      // An internal error carries the request id, so support can find its log line.
      if (ctx && errors.length) {
        response.body.singleResult.errors = errors.map((e) => (e.extensions?.code === ErrorCode.INTERNAL ? { ...e, extensions: { ...e.extensions, requestId: ctx.requestId } } : e));
      }
      if (!ctx) return;
      const denied = errors.some((e) => ['FORBIDDEN', 'PURPOSE_REQUIRED'].includes(String(e.extensions?.code)));
      const touchedRecords = ctx.audit.residentIds.size > 0 || ctx.audit.householdIds.size > 0;
      const mutation = operation?.operation === 'mutation';
      const announced = contextValue.auditAnnounced === true;
      contextValue.auditAnnounced = false;
      if (!contextValue.personal && !touchedRecords && !mutation && !denied) {
        if (announced) audit.forget();
        return;
      }
      try {
        await audit.append(ctx, {
          operation: contextValue.operationLabel ?? 'unknown',
          outcome: denied ? 'DENIED' : errors.length ? 'ERROR' : 'OK',
        }, announced);
      } catch (err) {
        onAuditFailure(err);
        response.body.singleResult.data = null;
        response.body.singleResult.errors = [{
          message: '审计记录写入失败，数据未返回 / The audit record could not be written; no data is returned',
          extensions: { code: ErrorCode.AUDIT_UNAVAILABLE, category: 'internal', requestId: ctx.requestId },
        }];
        if (response.http) response.http.status = 503;
      }
    },
  };

  return {
    async requestDidStart() {
      return listener;
    },
  };
}

const NO_READS = { filterReads: new Set<string>(), tagFilters: new Set<string>() };

/** What an operation reaches, independent of its variables: computed once per parsed document and operation. */
interface Inspection {
  fragments: Record<string, FragmentDefinitionNode>;
  /** Every `Type.field` the operation can reach (aliases and fragments included). */
  fields: Set<string>;
  clearLookups: Set<string>;
  personal: boolean;
  statisticsOnly: boolean;
  label: string;
  /** The operation's cost when no page size (`first`) comes from a variable; otherwise computed per request. */
  fixedCost: number | null;
  /** Arguments whose values decide what the operation reads (filters, groupBy): evaluated with each request's variables. */
  argumentReads: { name: 'filter' | 'groupBy'; value: ValueNode; type: GraphQLInputType }[];
}

/**
 * Apollo keeps parsed, validated documents in its document store, so a document sent again is the same object: its
 * inspection is reused and only the variable-dependent part (argumentReads) is evaluated per request.
 */
const inspections = new WeakMap<DocumentNode, Map<OperationDefinitionNode, Inspection>>();

function inspect(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): Inspection {
  let perOperation = inspections.get(document);
  if (!perOperation) {
    perOperation = new Map();
    inspections.set(document, perOperation);
  }
  let found = perOperation.get(operation);
  if (!found) {
    const fragments = Object.fromEntries(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
    found = walkOperation(schema, operation, fragments);
    perOperation.set(operation, found);
  }
  return found;
}

/** Which fields the filters and groupings of this request read, and which tags it filters by. */
function argumentReads(variables: Record<string, unknown>, reads: Inspection['argumentReads']): { filterReads: Set<string>; tagFilters: Set<string> } {
  const out = { filterReads: new Set<string>(), tagFilters: new Set<string>() };
  for (const read of reads) {
    const value = valueFromAST(read.value, read.type, variables);
    if (read.name === 'filter' && value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === null || v === undefined) continue;
        if (FILTER_READS[k]) out.filterReads.add(FILTER_READS[k]);
        if (k === 'tags' && Array.isArray(v)) v.forEach((t) => out.tagFilters.add(String(t)));
      }
    }
    if (read.name === 'groupBy' && Array.isArray(value)) {
      for (const g of value) if (GROUP_BY_READS[String(g)]) out.filterReads.add(GROUP_BY_READS[String(g)]);
    }
  }
  return out;
}

function walkOperation(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Record<string, FragmentDefinitionNode>): Inspection {
  const out: Inspection = {
    fragments,
    fields: new Set(), clearLookups: new Set(), personal: false, statisticsOnly: true, argumentReads: [], fixedCost: null,
    label: `${operation.operation} ${operation.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : '…')).join(',')}`,
  };
  const typeInfo = new TypeInfo(schema);
  let pageSizeFromVariables = false;
  const used = new Set<string>();
  const collectSpreads = (node: ASTNode) => visit(node, { FragmentSpread(s) { if (!used.has(s.name.value) && fragments[s.name.value]) { used.add(s.name.value); collectSpreads(fragments[s.name.value]); } } });
  collectSpreads(operation);
  const nodes = [operation, ...[...used].map((n) => fragments[n])];
  for (const node of nodes) {
    visit(node, visitWithTypeInfo(typeInfo, {
      Field(field) {
        const parent = typeInfo.getParentType();
        const def = typeInfo.getFieldDef();
        if (!parent || !def) return;
        const key = `${parent.name}.${field.name.value}`;
        out.fields.add(key);
        const named = getNamedType(def.type).name;
        if (PERSONAL_TYPES.has(parent.name) || PERSONAL_TYPES.has(named)) {
          out.personal = true;
          if (named !== 'StatisticsResult' && parent.name !== 'StatisticsResult' && parent.name !== 'StatisticsCell') out.statisticsOnly = false;
        }
        for (const arg of field.arguments ?? []) {
          const argDef = def.args.find((a) => a.name === arg.name.value);
          if (!argDef) continue;
          if (arg.name.value === 'filter' && isInputObjectType(getNamedType(argDef.type))) out.argumentReads.push({ name: 'filter', value: arg.value, type: argDef.type });
          if (arg.name.value === 'groupBy') out.argumentReads.push({ name: 'groupBy', value: arg.value, type: argDef.type });
          if (key === 'Query.residentByIdNumber' && arg.name.value === 'idNumber') out.clearLookups.add('Resident.idNumber');
          if (arg.name.value === 'first' && arg.value.kind === Kind.VARIABLE) pageSizeFromVariables = true;
        }
      },
    }));
  }
  if (!pageSizeFromVariables) out.fixedCost = operationCost(schema, operation, fragments, {});
  return out;
}
