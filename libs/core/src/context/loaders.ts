import DataLoader from 'dataloader';
import { RequestContext } from './request-context';

/**
 * A DataLoader kept on the request context under `name`, created on first use. Field resolvers use it so a page of
 * N parents costs one query per field, not N.
 */
export function requestLoader<K, V>(ctx: RequestContext, name: string, batch: (keys: readonly K[]) => Promise<Map<K, V>>, missing: V): DataLoader<K, V> {
  let loader = ctx.loaders.get(name) as DataLoader<K, V> | undefined;
  if (!loader) {
    loader = new DataLoader<K, V>(async (keys) => {
      const found = await batch(keys);
      return keys.map((k) => (found.has(k) ? found.get(k)! : missing));
    });
    ctx.loaders.set(name, loader);
  }
  return loader;
}
