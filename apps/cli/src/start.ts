import { ChildProcess, spawn } from 'child_process';
import { join } from 'path';
import { AppConfig } from '../../../libs/core/src/config/app-config';

/**
 * `npm start`: runs the API and the worker side by side, prints where to go, and stops both on Ctrl-C / SIGTERM.
 * If either process dies, the other is stopped and the exit code is passed on.
 */
function main(): void {
  const config = AppConfig.fromEnv();
  const dist = join(__dirname, '..', '..');
  const children: ChildProcess[] = [
    spawn(process.execPath, [join(dist, 'api', 'src', 'main.js')], { stdio: 'inherit', env: process.env }),
    spawn(process.execPath, [join(dist, 'worker', 'src', 'main.js')], { stdio: 'inherit', env: process.env }),
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
      `  GraphQL API   http://localhost:${port}/graphql   (send header  x-linli-dev-actor: <your name>  in development)`,
      `  Health        http://localhost:${port}/health`,
      '  Worker        running (no HTTP)',
      '  Stop with Ctrl-C.',
      '',
    ].join('\n'),
  );
}

main();
