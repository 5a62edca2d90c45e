/**
 * Small-cell suppression for statistics (小数抑制), primary and complementary.
 *
 * Primary: a cell counting fewer than `min` residents (but more than none) is withheld.
 * Complementary: a withheld cell must not be recoverable by subtraction. Each "constraint group" is a set of cells
 * whose sum the client can learn elsewhere: the total of the same query, or the cells of a query with fewer
 * dimensions (a department can ask for COMMUNITY and then for COMMUNITY × SEX). Inside every such group, the
 * withheld cells must be at least two and together count at least `min`; otherwise the smallest cell still shown is
 * withheld too, and the groups are checked again until nothing changes.
 *
 * Only dimensions that partition the residents form groups: TAG does not (a resident can hold several tags, or none),
 * so the cells of different tags never add up to anything the client knows.
 */
export interface CountCell {
  keys: string[];
  count: number;
}

/** The primary rule: a count of at least one resident and fewer than `min` is withheld (`min` 0: nothing is). */
export function isSmallCell(count: number, min: number): boolean {
  return min > 0 && count > 0 && count < min;
}

/** Returns the indexes of the cells to withhold. `additive[d]` says whether dimension d partitions the residents. */
export function cellsToSuppress(cells: readonly CountCell[], additive: readonly boolean[], min: number): Set<number> {
  const hidden = new Set<number>();
  if (min <= 0) return hidden;
  cells.forEach((c, i) => {
    if (isSmallCell(c.count, min)) hidden.add(i);
  });
  if (hidden.size === 0) return hidden;
  const groups = constraintGroups(cells, additive);
  let changed = true;
  while (changed) {
    changed = false;
    for (const group of groups) {
      const withheld = group.filter((i) => hidden.has(i));
      if (withheld.length === 0) continue;
      const sum = withheld.reduce((s, i) => s + cells[i].count, 0);
      if (withheld.length >= 2 && sum >= min) continue;
      const next = group.filter((i) => !hidden.has(i) && cells[i].count > 0).sort((a, b) => cells[a].count - cells[b].count)[0];
      if (next === undefined) continue; // everything in the group is withheld already: its sum is small, and so is hidden where it is asked
      hidden.add(next);
      changed = true;
    }
  }
  return hidden;
}

/**
 * For every non-empty set S of additive dimensions: the cells grouped by their keys outside S. Summing a group over
 * S gives a cell of the query without S (or the total, when nothing is left).
 */
function constraintGroups(cells: readonly CountCell[], additive: readonly boolean[]): number[][] {
  const dims = additive.map((a, d) => (a ? d : -1)).filter((d) => d >= 0);
  const groups: number[][] = [];
  for (let mask = 1; mask < 1 << dims.length; mask += 1) {
    const removed = new Set(dims.filter((_, j) => mask & (1 << j)));
    const byRest = new Map<string, number[]>();
    cells.forEach((c, i) => {
      const rest = JSON.stringify(c.keys.filter((_, d) => !removed.has(d)));
      const list = byRest.get(rest);
      if (list) list.push(i);
      else byRest.set(rest, [i]);
    });
    groups.push(...byRest.values());
  }
  return groups;
}
