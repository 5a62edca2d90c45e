import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'util';
import { AppConfig, ConfigError, ConfigModule, createLogger, DatabaseModule, PinoNestLogger, systemContext } from '@linli/core';
import { ImporterModule, ImportException, ImportService, ImportSummary, loadMapping } from '@linli/importer';

/**
 * 批量导入 bulk import of residents from a legacy export:
 *   npm run import -- --file F --mapping M [--report R] [--community CODE]
 * Prints a summary and exits 0 when the file was processed (rows may still have been rejected: see the report);
 * exits 1 when the file could not be processed at all (unreadable file, invalid mapping, database down, ...).
 */

@Module({ imports: [ConfigModule, DatabaseModule, ImporterModule] })
class ImportCliModule {}

const USAGE = `用法 / Usage:
  npm run import -- --file <数据文件 data file .csv|.xlsx> --mapping <映射文件 mapping .yaml|.json>
                    [--report <报告路径 report path>] [--community <12 位社区代码 community code>]`;

class UsageError extends Error {}

function readArgs(argv: string[]): { file: string; mapping: string; report?: string; community?: string } {
  let values: { file?: string; mapping?: string; report?: string; community?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        file: { type: 'string' }, mapping: { type: 'string' }, report: { type: 'string' }, community: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(`参数错误 / Invalid arguments: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (values.help) throw new UsageError('');
  if (!values.file || !values.mapping) throw new UsageError('缺少 --file 或 --mapping / --file and --mapping are required');
  if (values.community !== undefined && !/^\d{12}$/.test(values.community)) {
    throw new UsageError(`--community 应为 12 位社区代码 / --community must be a 12-digit community code: ${values.community}`);
  }
  return { file: values.file, mapping: values.mapping, report: values.report, community: values.community };
}

function printSummary(s: ImportSummary): void {
  const line = (label: string, value: string | number) => console.log(`  ${label.padEnd(22)} ${value}`);
  console.log(`导入完成 / Import finished: ${s.fileName}`);
  line('数据行 rows', s.rows);
  line('新增 accepted', s.accepted);
  line('已存在 matched', s.matched);
  line('隔离 quarantined', s.quarantined);
  line('拒绝 rejected', s.rejected);
  line('报告 report', s.reportPath);
  line('SHA-256', s.fileSha256);
  line('导入批次 run', s.runId);
  line('用时 duration', `${(s.durationMs / 1000).toFixed(1)} s`);
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = readArgs(argv);
    const config = AppConfig.fromEnv();
    // The mapping is checked before connecting to anything: a typo fails in milliseconds.
    const mapping = await loadMapping(args.mapping);
    const level = ['debug', 'trace'].includes(config.get('LOG_LEVEL')) ? config.get('LOG_LEVEL') : 'warn';
    const app = await NestFactory.createApplicationContext(ImportCliModule, { logger: new PinoNestLogger(createLogger(level, 'import')), abortOnError: false });
    try {
      let nextProgress = 100_000;
      const summary = await app.get(ImportService).importFile(systemContext('import'), {
        filePath: args.file,
        mapping,
        reportPath: args.report,
        communityCode: args.community,
        onProgress: (p) => {
          if (p.rows >= nextProgress) {
            process.stderr.write(`  已处理 / processed ${p.rows} rows…\n`);
            nextProgress = p.rows + 100_000;
          }
        },
      });
      printSummary(summary);
      return 0;
    } finally {
      await app.close();
    }
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) console.error(err.message);
      console.error(USAGE);
      return 1;
    }
    if (err instanceof ImportException) console.error(`导入失败 / Import failed [${err.code}]: ${err.messageZh}\n  ${err.messageEn}`);
    else if (err instanceof ConfigError) console.error(err.message);
    else console.error(`导入失败 / Import failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
