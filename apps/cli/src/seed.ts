import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AppConfig, postgresOptions } from '@linli/core';
import {
  DEFAULT_AS_OF, DEFAULT_RESIDENTS, DEFAULT_SEED_VALUE, formatSummary, MAX_RESIDENTS, resolveSeedOptions, SeedError, seedDemoDistrict,
  SeedOptions,
} from './seed/demo-district.seed';

/**
 * `npm run seed`: fills the database with a SYNTHETIC demo district (合成演示数据) of Haishu: 68 invented communities
 * under the 17 real townships, their grids, compounds, buildings, dwellings, households, residents and tags.
 * Every person, ID number, phone number and address in it is generated; none is real.
 */

const USAGE = `Usage: npm run seed -- [options]

  --residents N        residents to create (1 … ${MAX_RESIDENTS}; default ${DEFAULT_RESIDENTS})
  --seed-value TEXT    seed of the generator; same arguments give the same data (default ${DEFAULT_SEED_VALUE})
  --as-of YYYY-MM-DD   reference date for ages and dates (default ${DEFAULT_AS_OF}, or today if earlier)
  --database-url URL   database to fill (default: DATABASE_URL of the app configuration)
  --reset              delete the demo communities' data first, then seed again
  --concurrency N      transactions written in parallel (default 2)
  --help               show this text

Exits 0 without writing when the demo communities already hold seeded data (use --reset to rebuild).`;

interface CliArgs {
  options: SeedOptions;
  databaseUrl: string | null;
  help: boolean;
}

export function parseSeedArgs(argv: readonly string[]): CliArgs {
  const options: SeedOptions = {};
  let databaseUrl: string | null = null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    const [flag, inline] = raw.includes('=') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new SeedError(`${flag} needs a value`);
      return v;
    };
    const integer = (): number => {
      const v = value();
      if (!/^\d+$/.test(v.replace(/_/g, ''))) throw new SeedError(`${flag} needs a whole number, got ${v}`);
      return Number(v.replace(/_/g, ''));
    };
    switch (flag) {
      case '--residents': options.residents = integer(); break;
      case '--seed-value': options.seedValue = value(); break;
      case '--as-of': options.asOf = value(); break;
      case '--database-url': databaseUrl = value(); break;
      case '--concurrency': options.concurrency = integer(); break;
      case '--reset': options.reset = true; break;
      case '--help': case '-h': help = true; break;
      default: throw new SeedError(`unknown option ${raw}\n\n${USAGE}`);
    }
  }
  return { options, databaseUrl, help };
}

async function main(): Promise<void> {
  const args = parseSeedArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  resolveSeedOptions(args.options); // fail on a bad option before connecting
  const base = AppConfig.fromEnv();
  const config = args.databaseUrl ? AppConfig.of({ DATABASE_URL: args.databaseUrl, LOG_LEVEL: base.get('LOG_LEVEL') }) : base;
  const ds = new DataSource(postgresOptions(config));
  await ds.initialize();
  try {
    const target = String(config.toLoggable().DATABASE_URL);
    console.log(`seeding the synthetic demo district into ${target} …`);
    const summary = await seedDemoDistrict(ds, { ...args.options, log: (line) => console.log(line) });
    console.log(formatSummary(summary));
  } finally {
    await ds.destroy();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof SeedError ? `seed: ${err.message}` : err);
    process.exit(1);
  });
}
