import { ChildProcess, spawn } from 'child_process';
import { join } from 'path';
import { AppConfig } from '../../../libs/core/src/config/app-config';

/**
 * `npm start`: runs the API and the worker side by side, prints where to go, and stops both on Ctrl-C / SIGTERM.
 * If either process dies, the other is stopped and the exit code is passed on.
 */
/** Credentials of the simulated legacy systems, for development only (the simulators use the same defaults). */
const DEV_SIM_CREDENTIALS: Record<string, string> = {
  GA_LDRK_USER: 'ldrk', GA_LDRK_PASSWORD: 'dev-ga-ldrk-password', MZ_DIBAO_USER: 'mzdibao', MZ_DIBAO_PASSWORD: 'dev-mz-dibao-password',
  REST_INBOX_TOKEN: 'dev-rest-inbox-token', ZZ_GRID_DB_URL: 'mysql://root@127.0.0.1:3306/zz_grid_sim',
};

function main(): void {
  const config = AppConfig.fromEnv();
  const dist = join(__dirname, '..', '..');
  const production = config.get('NODE_ENV') === 'production';
  // Outside production the simulated legacy systems run too, and the targets' credentials default to theirs.
  const env = production ? process.env : { ...DEV_SIM_CREDENTIALS, ...process.env };
  const children: ChildProcess[] = [
    ...(production ? [] : [spawn(process.execPath, [join(dist, 'legacy-sim', 'src', 'main.js')], { stdio: 'inherit', env })]),
    spawn(process.execPath, [join(dist, 'api', 'src', 'main.js')], { stdio: 'inherit', env }),
    spawn(process.execPath, [join(dist, 'worker', 'src', 'main.js')], { stdio: 'inherit', env }),
  ];
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    setTimeout(() => process.exit(code), 10_000).unref();
    Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))))).then(() => process.exit(code));
  };
  for (const child of children) child.once('exit', (code) => stop(code ?? 1));
  process.once('SIGINT', () => stop(0));
  process.once('SIGTERM', () => stop(0));
  const port = config.get('PORT');
  console.log(
    [
      '',
      'Linli (邻里) is starting:',
      `  GraphQL API   http://localhost:${port}/graphql   (sign in: mutation { login(username, password) }, see the demo accounts)`,
      `  Health        http://localhost:${port}/health`,
      '  Worker        sync hub to the legacy systems (metrics: http://127.0.0.1:' + config.get('METRICS_PORT') + '/metrics)',
      ...(production ? [] : ['  Simulators    legacy systems P1–P4 + REST, control API http://127.0.0.1:4100/sims']),
      '  Stop with Ctrl-C.',
      '',
    ].join('\n'),
  );
}

main();
