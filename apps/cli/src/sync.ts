import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'util';
import { ConfigError, ConfigModule, DatabaseModule, DomainError } from '@linli/core';
import { SyncModule, SyncService } from '@linli/sync';

/**
 * 同步中心运维 sync hub operations, the same as the GraphQL operations of the same names (MANAGE_SYNC):
 *   npm run sync -- drift --target T [--repair]     syncDrift / repairSyncDrift
 *   npm run sync -- run-batch --target T            runSyncBatch
 *   npm run sync -- reconcile [--target T]          reconcileSync
 * Prints JSON (resident ids and counts only). Exits 1 on bad arguments or when the target cannot be reached.
 */

@Module({ imports: [ConfigModule, DatabaseModule, SyncModule] })
class SyncCliModule {}

const USAGE = `用法 / Usage:
  npm run sync -- drift --target <目标 target> [--repair]   对比目标系统所存与同步中心记录 / compare what a target holds; --repair sends drifted records again
  npm run sync -- run-batch --target <目标 target>          立即运行批量目标 / start a batch target's run now (the worker takes it)
  npm run sync -- reconcile [--target <目标 target>]        重新入队落后的记录 / re-enqueue what targets are behind on`;

class UsageError extends Error {}

interface Args {
  command: string;
  target?: string;
  repair: boolean;
}

function readArgs(argv: string[]): Args {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { target: { type: 'string' }, repair: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new UsageError(`参数错误 / Invalid arguments: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) throw new UsageError('');
  if (positionals.length > 1) throw new UsageError(`多余的参数 / Unexpected argument: ${positionals[1]}`);
  const command = positionals[0]!;
  if (!['drift', 'run-batch', 'reconcile'].includes(command)) throw new UsageError(`未知命令 / Unknown command: ${command}`);
  if ((command === 'drift' || command === 'run-batch') && !values.target) throw new UsageError('缺少 --target / --target is required');
  if (values.repair && command !== 'drift') throw new UsageError('--repair 仅用于 drift / --repair goes with drift only');
  return { command, target: values.target, repair: values.repair ?? false };
}

async function main(): Promise<void> {
  const args = readArgs(process.argv.slice(2));
  const app = await NestFactory.createApplicationContext(SyncCliModule, { logger: ['error'] });
  try {
    const sync = app.get(SyncService);
    let result: unknown;
    switch (args.command) {
      case 'drift':
        result = await sync.drift(args.target!, args.repair);
        break;
      case 'run-batch':
        result = await sync.runBatch(args.target!);
        break;
      case 'reconcile':
        result = await sync.reconcile(args.target ?? null);
        break;
    }
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    if (err instanceof UsageError) console.error(err.message ? `${err.message}\n\n${USAGE}` : USAGE);
    else if (err instanceof DomainError) console.error(`${err.message}${err.field ? ` (${err.field})` : ''}`);
    else console.error(err instanceof ConfigError || err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
