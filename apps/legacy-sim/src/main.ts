import { Server } from 'http';
import { Simulator } from './chaos';
import { controlServer } from './control';
import { GaLdrkSimulator } from './sims/ga-ldrk.sim';
import { RestInboxSimulator } from './sims/rest-inbox.sim';
import { MzDibaoSimulator } from './sims/mz-dibao.sim';
import { ZzGridSimulator } from './sims/zz-grid.sim';
import { JsWisSimulator } from './sims/js-wis.sim';

/**
 * The simulated legacy systems, for development, demos and tests. Ports and credentials come from the environment
 * with development defaults (the same defaults `npm start` gives the worker's target files). Never for production.
 */
export function simulators(env: Record<string, string | undefined> = process.env): Simulator[] {
  const port = (name: string, fallback: number) => Number(env[name] ?? fallback);
  return [
    new GaLdrkSimulator({ port: port('SIM_GA_LDRK_PORT', 4101), serviceHours: env.SIM_GA_LDRK_ALWAYS_OPEN === 'true' ? null : undefined }),
    new RestInboxSimulator({ port: port('SIM_REST_INBOX_PORT', 4102), name: 'rest-inbox', token: env.REST_INBOX_TOKEN ?? 'dev-rest-inbox-token' }),
    new MzDibaoSimulator({ port: port('SIM_MZ_DIBAO_PORT', 4122), username: env.MZ_DIBAO_USER ?? 'mzdibao', password: env.MZ_DIBAO_PASSWORD ?? 'dev-mz-dibao-password' }),
    new ZzGridSimulator({ mysqlUrl: env.ZZ_GRID_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306', database: env.ZZ_GRID_DATABASE ?? 'zz_grid_sim' }),
    new JsWisSimulator({ port: port('SIM_JS_WIS_PORT', 4104) }),
  ];
}

export async function startSimulators(sims: Simulator[], controlPort: number): Promise<{ control: Server; stop: () => Promise<void> }> {
  for (const s of sims) await s.start();
  const control = controlServer(sims);
  await new Promise<void>((resolve) => control.listen(controlPort, '127.0.0.1', resolve));
  return {
    control,
    stop: async () => {
      await new Promise<void>((resolve) => control.close(() => resolve()));
      for (const s of sims) await s.stop().catch(() => undefined);
    },
  };
}

if (require.main === module) {
  if (process.env.NODE_ENV === 'production') {
    console.error('The legacy-system simulators are for development and tests only / 模拟器仅用于开发和测试');
    process.exit(1);
  }
  const sims = simulators();
  const controlPort = Number(process.env.SIM_CONTROL_PORT ?? 4100);
  startSimulators(sims, controlPort)
    .then(({ stop }) => {
      console.log(['Legacy-system simulators:', ...sims.map((s) => `  ${s.name.padEnd(10)} ${s.describe()}`), `  control    http://127.0.0.1:${controlPort}/sims`].join('\n'));
      const shutdown = () => void stop().then(() => process.exit(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    })
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
