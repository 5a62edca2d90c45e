import fc from 'fast-check';
import { cellsToSuppress, CountCell } from '../statistics/suppression';

const cell = (count: number, ...keys: string[]): CountCell => ({ keys, count });
const shown = (cells: CountCell[], hidden: Set<number>) => cells.filter((_, i) => !hidden.has(i)).map((c) => c.keys.join('/'));

describe('small-cell suppression', () => {
  it('withholds nothing when every cell is large enough, or when suppression is off', () => {
    expect(cellsToSuppress([cell(10, 'A'), cell(7, 'B')], [true], 5).size).toBe(0);
    expect(cellsToSuppress([cell(1, 'A'), cell(7, 'B')], [true], 0).size).toBe(0);
  });

  it('a single small cell is not recoverable from the total: the next smallest is withheld with it', () => {
    const cells = [cell(40, 'A'), cell(3, 'B'), cell(12, 'C'), cell(25, 'D')];
    expect(shown(cells, cellsToSuppress(cells, [true], 5))).toEqual(['A', 'D']);
  });

  it('two small cells that add up to less than the threshold take a third with them', () => {
    const cells = [cell(40, 'A'), cell(1, 'B'), cell(2, 'C'), cell(9, 'D')];
    expect(shown(cells, cellsToSuppress(cells, [true], 5))).toEqual(['A']);
  });

  it('protects a cell against the margin of a query with fewer dimensions (community, then community × sex)', () => {
    // COMMUNITY alone shows A = 100; without complementary suppression A/female = 100 − 97.
    const cells = [cell(97, 'A', '1'), cell(3, 'A', '2'), cell(50, 'B', '1'), cell(60, 'B', '2')];
    const hidden = cellsToSuppress(cells, [true, true], 5);
    expect(hidden.has(1)).toBe(true);
    expect(hidden.has(0)).toBe(true); // the only other cell of A
    // …and the sex margin (male = 147 from SEX alone) needs a second withheld male cell, and so on until it holds.
    expect(hidden.size).toBe(4);
  });

  it('cells of different tags add up to nothing, so a tag dimension forms no group', () => {
    const cells = [cell(3, 'LOW_INCOME'), cell(80, 'DISABLED'), cell(60, 'VETERAN')];
    expect(shown(cells, cellsToSuppress(cells, [false], 5))).toEqual(['DISABLED', 'VETERAN']);
    const crossed = [cell(3, 'LOW_INCOME', '1'), cell(30, 'LOW_INCOME', '2'), cell(80, 'DISABLED', '1')];
    // within one tag the sexes do add up (to the tag's count in a TAG-only query)
    expect(shown(crossed, cellsToSuppress(crossed, [false, true], 5))).toEqual(['DISABLED/1']);
  });

  it('property: in every group the client can sum, withheld cells are none, or at least two adding up to the threshold, or all of them', () => {
    const table = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 8 })).chain(([dims, min]) =>
      fc.record({
        min: fc.constant(min),
        additive: fc.array(fc.boolean(), { minLength: dims, maxLength: dims }),
        cells: fc.uniqueArray(
          fc.record({ keys: fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: dims, maxLength: dims }), count: fc.integer({ min: 0, max: 30 }) }),
          { selector: (c) => c.keys.join('/'), maxLength: 27 },
        ),
      }));
    fc.assert(fc.property(table, ({ min, additive, cells }) => {
      const hidden = cellsToSuppress(cells, additive, min);
      cells.forEach((c, i) => { if (c.count > 0 && c.count < min) expect(hidden.has(i)).toBe(true); });
      const dims = additive.map((a, d) => (a ? d : -1)).filter((d) => d >= 0);
      for (let mask = 1; mask < 1 << dims.length; mask += 1) {
        const removed = dims.filter((_, j) => mask & (1 << j));
        const groups = new Map<string, number[]>();
        cells.forEach((c, i) => {
          const k = c.keys.filter((_, d) => !removed.includes(d)).join('/');
          groups.set(k, [...(groups.get(k) ?? []), i]);
        });
        for (const g of groups.values()) {
          const withheld = g.filter((i) => hidden.has(i));
          const nonEmpty = g.filter((i) => cells[i].count > 0);
          const sum = withheld.reduce((s, i) => s + cells[i].count, 0);
          const safe = withheld.length === 0 || (withheld.length >= 2 && sum >= min) || nonEmpty.every((i) => hidden.has(i));
          expect(safe).toBe(true);
        }
      }
    }), { numRuns: 300 });
  });
});
