import { GraphQLResolveInfo, Kind, SelectionSetNode } from 'graphql';

/**
 * Whether the client asked for a field under this one, fragments followed: `totalCount` directly below, or a dotted
 * path such as `edges.node.household` further down (any alias of each step counts).
 */
export function selects(info: GraphQLResolveInfo, path: string): boolean {
  let sets: SelectionSetNode[] = info.fieldNodes.map((n) => n.selectionSet).filter((s): s is SelectionSetNode => !!s);
  for (const name of path.split('.')) {
    const next: SelectionSetNode[] = [];
    let found = false;
    const seen = new Set<string>();
    const visit = (set: SelectionSetNode): void => {
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) {
          if (s.name.value !== name) continue;
          found = true;
          if (s.selectionSet) next.push(s.selectionSet);
        } else if (s.kind === Kind.INLINE_FRAGMENT) {
          visit(s.selectionSet);
        } else if (!seen.has(s.name.value) && info.fragments[s.name.value]) {
          seen.add(s.name.value);
          visit(info.fragments[s.name.value].selectionSet);
        }
      }
    };
    sets.forEach(visit);
    if (!found) return false;
    sets = next;
  }
  return true;
}
