import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { isAbsolute, join } from 'path';
import { AppConfig } from '@linli/core';
import { AdapterFactory, BatchAdapter, RealtimeAdapter, TargetAdapter } from '../adapters/adapter';
import { ADAPTER_FACTORIES } from '../adapters';
import { loadTargets, TargetConfig, TargetConfigError } from './target-config';

/** The configured targets and their adapters (created on first use, closed at shutdown). */
@Injectable()
export class TargetRegistry implements OnApplicationShutdown {
  readonly targets: TargetConfig[];
  private readonly adapters = new Map<string, TargetAdapter>();

  constructor(config: AppConfig, factories: Map<string, AdapterFactory> = ADAPTER_FACTORIES) {
    const dir = config.get('SYNC_TARGETS_DIR');
    // Credentials are checked where records are delivered (the worker, see requireCredentials); the API only reads.
    this.targets = loadTargets(isAbsolute(dir) ? dir : join(process.cwd(), dir), factories, process.env, { requireCredentials: false });
    this.factories = factories;
  }

  /** Refuses to deliver with a credential missing, naming the file, the line and the variable. */
  requireCredentials(): void {
    const problems = this.targets.flatMap((t) => t.missingCredentials.map((m) => ({
      file: t.file.split('/').pop()!, line: m.line, path: `credentials.${m.key}`, message: `environment variable ${m.env} is not set`,
    })));
    if (problems.length) throw new TargetConfigError(problems);
  }

  private readonly factories: Map<string, AdapterFactory>;

  get(name: string): TargetConfig | undefined {
    return this.targets.find((t) => t.name === name);
  }

  realtime(): TargetConfig[] {
    return this.targets.filter((t) => t.schedule.mode === 'realtime');
  }

  batch(): TargetConfig[] {
    return this.targets.filter((t) => t.schedule.mode === 'batch');
  }

  adapter(target: TargetConfig): TargetAdapter {
    if (target.missingCredentials.length) {
      throw new TargetConfigError(target.missingCredentials.map((m) => ({ file: target.file.split('/').pop()!, line: m.line, path: `credentials.${m.key}`, message: `environment variable ${m.env} is not set` })));
    }
    let a = this.adapters.get(target.name);
    if (!a) {
      a = this.factories.get(target.protocol)!.create({ name: target.name, endpoint: target.endpoint, credentials: target.resolvedCredentials });
      this.adapters.set(target.name, a);
    }
    return a;
  }

  realtimeAdapter(target: TargetConfig): RealtimeAdapter {
    const a = this.adapter(target);
    if (a.kind !== 'realtime') throw new Error(`${target.name} is not a realtime target`);
    return a;
  }

  batchAdapter(target: TargetConfig): BatchAdapter {
    const a = this.adapter(target);
    if (a.kind !== 'batch') throw new Error(`${target.name} is not a batch target`);
    return a;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.adapters.values()].map((a) => a.close()));
  }
}

/** Minutes since midnight in China Standard Time. */
function chinaMinutes(now: Date): number {
  const t = new Date(now.getTime() + 8 * 3600_000);
  return t.getUTCHours() * 60 + t.getUTCMinutes();
}

/** Milliseconds until the target opens, or 0 when it is open now. */
export function msUntilOpen(target: TargetConfig, now = new Date()): number {
  if (!target.serviceHours) return 0;
  const [fh, fm] = target.serviceHours.from.split(':').map(Number);
  const [th, tm] = target.serviceHours.to.split(':').map(Number);
  const from = fh * 60 + fm;
  const to = th * 60 + tm;
  const cur = chinaMinutes(now);
  const open = from <= to ? cur >= from && cur < to : cur >= from || cur < to;
  if (open) return 0;
  const minutes = (from - cur + 24 * 60) % (24 * 60);
  return Math.max(60_000, minutes * 60_000 - now.getUTCSeconds() * 1000);
}
