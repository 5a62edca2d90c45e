import 'reflect-metadata';
import { getMetadataArgsStorage } from 'typeorm';
import { ResidentEntity } from '../entities/resident.entity';
import { RESIDENT_COLUMNS } from '../residents/resident-columns';

/**
 * The hand-written select list of the hot reads and of a change's locking read stands in for TypeORM's hydration, so
 * it must name every column of the entity, each under its property name (dates as text, as TypeORM returns them).
 */
describe('RESIDENT_COLUMNS', () => {
  const listed = new Map(
    RESIDENT_COLUMNS.split(',').map((part) => {
      const m = /^\s*r\.(\w+)(::text)?(?:\s+AS\s+"(\w+)")?\s*$/.exec(part);
      if (!m) throw new Error(`unreadable select item: ${part}`);
      return [m[1]!, { property: m[3] ?? m[1]!, asText: !!m[2] }];
    }),
  );
  const columns = getMetadataArgsStorage().columns.filter((c) => c.target === ResidentEntity);

  it('names every column of ResidentEntity under its property name, and nothing else', () => {
    expect(columns.length).toBeGreaterThan(20);
    const expected = new Map(columns.map((c) => [c.options.name ?? c.propertyName, c.propertyName]));
    expect(new Map([...listed].map(([column, { property }]) => [column, property]))).toEqual(expected);
  });

  it('reads date columns as YYYY-MM-DD text and no other column as text', () => {
    const dates = columns.filter((c) => c.options.type === 'date').map((c) => c.options.name ?? c.propertyName).sort();
    expect(dates.length).toBeGreaterThan(0);
    expect([...listed].filter(([, v]) => v.asText).map(([column]) => column).sort()).toEqual(dates);
  });
});
