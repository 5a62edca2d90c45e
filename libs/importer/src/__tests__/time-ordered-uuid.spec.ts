import { TimeOrderedUuids } from '../time-ordered-uuid';

describe('TimeOrderedUuids', () => {
  it('makes valid version-7 UUIDs that never go backwards, even many in one millisecond', () => {
    const ids = new TimeOrderedUuids();
    const before = Date.now();
    const made = Array.from({ length: 20_000 }, () => ids.next());
    for (const id of made) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // String order is the order PostgreSQL's uuid B-tree keeps (bytewise), so new keys land at its right edge.
    for (let i = 1; i < made.length; i++) expect(made[i]! > made[i - 1]!).toBe(true);
    expect(new Set(made).size).toBe(made.length);
    const ms = parseInt(made[0]!.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now() + 10);
  });
});
