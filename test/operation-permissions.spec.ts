import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { ALLOW_KEY } from '@linli/core';
import { TestApi } from './support/api';

/**
 * Records which permission protects every GraphQL operation, so a change of who may reach what shows up in review
 * as a snapshot diff; and proves that no operation in the schema lacks an explicit @Allow (deny by default).
 */
describe('operation permissions', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(() => api.stop());

  it('every Query and Mutation declares its permissions, as recorded in the snapshot', () => {
    const modules = api.app.get(ModulesContainer);
    const scanner = new MetadataScanner();
    const table: Record<string, string> = {};
    for (const wrapper of [...modules.values()].flatMap((m) => [...m.providers.values()])) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const proto = Object.getPrototypeOf(instance);
      for (const method of scanner.getAllMethodNames(proto)) {
        const handler = proto[method];
        const kind = Reflect.getMetadata('graphql:resolver_type', handler) as string | undefined;
        if (kind !== 'Query' && kind !== 'Mutation') continue;
        const name = (Reflect.getMetadata('graphql:resolver_name', handler) as string | undefined) ?? method;
        const allowed = Reflect.getMetadata(ALLOW_KEY, handler) as string[] | undefined;
        table[`${kind}.${name}`] = allowed ? [...allowed].sort().join(' | ') : 'NONE (refused)';
      }
    }
    const schema = api.app.get(GraphQLSchemaHost).schema;
    const inSchema = [
      ...Object.keys(schema.getQueryType()!.getFields()).map((f) => `Query.${f}`),
      ...Object.keys(schema.getMutationType()!.getFields()).map((f) => `Mutation.${f}`),
    ].sort();
    expect(Object.keys(table).sort()).toEqual(inSchema);
    expect(Object.entries(table).filter(([, v]) => v.startsWith('NONE'))).toEqual([]);
    expect(Object.fromEntries(Object.entries(table).sort(([a], [b]) => (a < b ? -1 : 1)))).toMatchSnapshot();
  });
});
