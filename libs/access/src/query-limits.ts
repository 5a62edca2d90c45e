import {
  ASTVisitor, FieldNode, FragmentDefinitionNode, getNamedType, GraphQLError, GraphQLNamedType, GraphQLObjectType, GraphQLSchema, isListType,
  isNonNullType, isObjectType, Kind, OperationDefinitionNode, SelectionSetNode, ValidationContext, ValidationRule, valueFromASTUntyped,
} from 'graphql';
import { DomainError, ErrorCode } from '@linli/core';

/** A refusal raised during validation, before any resolver runs. */
function tooComplex(messageZh: string, messageEn: string, details: Record<string, unknown>): GraphQLError {
  const domain = new DomainError(ErrorCode.QUERY_TOO_COMPLEX, messageZh, messageEn, { details });
  return new GraphQLError(domain.message, { originalError: domain, extensions: { code: ErrorCode.QUERY_TOO_COMPLEX } });
}

/** Depth of the deepest selection, following fragments; cycles are cut (NoFragmentCyclesRule reports them). */
function depthOf(set: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>, seen: Set<string>): number {
  let max = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value.startsWith('__')) continue;
      max = Math.max(max, sel.selectionSet ? 1 + depthOf(sel.selectionSet, fragments, seen) : 1);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(sel.selectionSet, fragments, seen));
    } else {
      const name = sel.name.value;
      if (seen.has(name) || !fragments[name]) continue;
      max = Math.max(max, depthOf(fragments[name].selectionSet, fragments, new Set([...seen, name])));
    }
  }
  return max;
}

/** Refuses queries nested deeper than `maxDepth` and documents with more than `maxAliases` aliases. */
export function depthAndAliasRules(maxDepth: number, maxAliases: number): ValidationRule[] {
  const depthRule: ValidationRule = (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node: OperationDefinitionNode) {
      const fragments = Object.fromEntries(context.getDocument().definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
      const depth = depthOf(node.selectionSet, fragments, new Set());
      if (depth > maxDepth) context.reportError(tooComplex(`查询嵌套过深（${depth} 层，上限 ${maxDepth}）`, `Query is nested too deeply (${depth} levels; limit ${maxDepth})`, { depth, maxDepth }));
    },
  });
  const aliasRule: ValidationRule = (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    return {
      Field(node: FieldNode) {
        if (node.alias) aliases += 1;
      },
      Document: {
        leave() {
          if (aliases > maxAliases) context.reportError(tooComplex(`别名过多（${aliases} 个，上限 ${maxAliases}）`, `Too many aliases (${aliases}; limit ${maxAliases})`, { aliases, maxAliases }));
        },
      },
    };
  };
  return [depthRule, aliasRule];
}

/** Lists without a page argument are counted as this many items. */
const UNBOUNDED_LIST_ESTIMATE = 10;

/**
 * Cost of an operation with its variables: every field costs 1, multiplied by the size of the lists above it;
 * a connection counts `first` items (a page size counts), other lists an estimate.
 */
export function operationCost(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Record<string, FragmentDefinitionNode>, variables: Record<string, unknown>): number {
  const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (!root) return 0;
  const walk = (set: SelectionSetNode, parent: GraphQLNamedType, seen: Set<string>, depth: number): number => {
    if (depth > 50) return 0;
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        const field = isObjectType(parent) ? (parent as GraphQLObjectType).getFields()[sel.name.value] : undefined;
        if (!field) continue;
        let type = field.type;
        if (isNonNullType(type)) type = type.ofType;
        let multiplier = 1;
        const firstArg = sel.arguments?.find((a) => a.name.value === 'first');
        if (firstArg) {
          const v = Number(valueFromASTUntyped(firstArg.value, variables));
          multiplier = Number.isFinite(v) && v > 0 ? v : 1;
        } else if (isListType(type) && sel.name.value !== 'edges') {
          // A connection's edges are already counted by its `first`.
          multiplier = UNBOUNDED_LIST_ESTIMATE;
        }
        const child = sel.selectionSet ? walk(sel.selectionSet, getNamedType(field.type), seen, depth + 1) : 0;
        total += 1 + multiplier * child;
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const on = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) ?? parent : parent;
        total += walk(sel.selectionSet, on, seen, depth + 1);
      } else {
        const f = fragments[sel.name.value];
        if (!f || seen.has(f.name.value)) continue;
        total += walk(f.selectionSet, schema.getType(f.typeCondition.name.value) ?? parent, new Set([...seen, f.name.value]), depth + 1);
      }
    }
    return total;
  };
  return walk(operation.selectionSet, root, new Set(), 0);
}
