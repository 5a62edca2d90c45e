import { readFileSync } from 'fs';
import { join } from 'path';
import { renderSchema } from '../apps/cli/src/schema';

describe('committed GraphQL schema', () => {
  it('schema.gql matches the code-first types (run `npm run build && npm run schema` after changing them)', async () => {
    const committed = readFileSync(join(__dirname, '..', 'schema.gql'), 'utf8');
    expect(await renderSchema()).toBe(committed);
  });
});
