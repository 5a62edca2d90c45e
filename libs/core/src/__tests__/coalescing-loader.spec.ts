import { CoalescingLoader } from '../context/coalescing-loader';

/** A load the test settles by hand. */
function controlledLoads() {
  const calls: { keys: string[]; settle: (found: Map<string, number>) => void; fail: (err: Error) => void }[] = [];
  const load = (keys: string[]) => new Promise<Map<string, number>>((resolve, reject) => calls.push({ keys, settle: resolve, fail: reject }));
  return { calls, load };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CoalescingLoader', () => {
  it('loads at once when nothing is in flight: an idle process adds no wait', async () => {
    const { calls, load } = controlledLoads();
    const loader = new CoalescingLoader(load, 1);
    const answer = loader.get('a');
    expect(calls).toHaveLength(1); // started synchronously, not after a timer
    expect(calls[0]!.keys).toEqual(['a']);
    calls[0]!.settle(new Map([['a', 1]]));
    await expect(answer).resolves.toBe(1);
  });

  it('gathers the keys that arrive while loads are in flight into one load, each caller getting its own answer', async () => {
    const { calls, load } = controlledLoads();
    const loader = new CoalescingLoader(load, 1);
    const first = loader.get('a');
    const waiting = [loader.get('b'), loader.get('c'), loader.get('b'), loader.get('missing')];
    await tick();
    expect(calls).toHaveLength(1); // nothing more until the running load settles
    calls[0]!.settle(new Map([['a', 1]]));
    await first;
    await tick();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.keys).toEqual(['b', 'c', 'missing']); // once each
    calls[1]!.settle(new Map([['b', 2], ['c', 3]]));
    await expect(Promise.all(waiting)).resolves.toEqual([2, 3, 2, undefined]);
  });

  it('fails every caller of a failed load, and loads again afterwards', async () => {
    const { calls, load } = controlledLoads();
    const loader = new CoalescingLoader(load, 1);
    const first = loader.get('a');
    const second = loader.get('b');
    calls[0]!.fail(new Error('database gone'));
    await expect(first).rejects.toThrow('database gone');
    await tick();
    calls[1]!.fail(new Error('still gone'));
    await expect(second).rejects.toThrow('still gone');
    const later = loader.get('a');
    calls[2]!.settle(new Map([['a', 1]]));
    await expect(later).resolves.toBe(1);
  });

  it('runs up to maxInFlight loads side by side and caps a batch at maxBatch keys', async () => {
    const { calls, load } = controlledLoads();
    const loader = new CoalescingLoader(load, 2, 2);
    const answers = ['a', 'b', 'c', 'd', 'e'].map((k) => loader.get(k));
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b']]);
    calls[0]!.settle(new Map([['a', 1]]));
    await tick();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b'], ['c', 'd']]);
    calls[1]!.settle(new Map([['b', 2]]));
    await tick();
    expect(calls[3]!.keys).toEqual(['e']);
    calls[2]!.settle(new Map([['c', 3], ['d', 4]]));
    calls[3]!.settle(new Map([['e', 5]]));
    await expect(Promise.all(answers)).resolves.toEqual([1, 2, 3, 4, 5]);
  });
});
