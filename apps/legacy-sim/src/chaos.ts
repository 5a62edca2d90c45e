/**
 * Misbehaviour a simulator can be told to show, over its control API: slowness, a share of failures, 429 / 503,
 * timeouts, downtime, duplicate acknowledgements. Every simulator consults its Chaos before answering.
 */
export interface ChaosSettings {
  /** Added to every answer. */
  latencyMs: number;
  /** Share (0..1) of requests answered with a server error (500 / SOAP fault). */
  failRate: number;
  /** Share answered 429 Too Many Requests. */
  rate429: number;
  /** Share answered 503 Service Unavailable. */
  rate503: number;
  /** Share that never answer (the caller times out). */
  timeoutRate: number;
  /** Epoch ms until which the system is down (connection refused or 503, per simulator). */
  downUntil: number;
  /** Share of accepted records acknowledged twice (the hub must stay idempotent). */
  duplicateAckRate: number;
}

export const CALM: ChaosSettings = { latencyMs: 0, failRate: 0, rate429: 0, rate503: 0, timeoutRate: 0, downUntil: 0, duplicateAckRate: 0 };

export type ChaosOutcome = 'OK' | 'FAIL' | 'TOO_MANY' | 'UNAVAILABLE' | 'TIMEOUT' | 'DOWN';

export class Chaos {
  private settings: ChaosSettings = { ...CALM };

  set(patch: Partial<ChaosSettings>): ChaosSettings {
    for (const [k, v] of Object.entries(patch)) {
      if (!(k in CALM) || typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`chaos: ${k} must be a non-negative number`);
    }
    this.settings = { ...this.settings, ...patch };
    return this.current();
  }

  reset(): void {
    this.settings = { ...CALM };
  }

  current(): ChaosSettings {
    return { ...this.settings };
  }

  isDown(now = Date.now()): boolean {
    return now < this.settings.downUntil;
  }

  /** Decides how to treat one request; waits the configured latency first. */
  async decide(): Promise<ChaosOutcome> {
    const s = this.settings;
    if (s.latencyMs > 0) await new Promise((r) => setTimeout(r, s.latencyMs));
    if (this.isDown()) return 'DOWN';
    const roll = Math.random();
    let edge = s.timeoutRate;
    if (roll < edge) return 'TIMEOUT';
    edge += s.rate429;
    if (roll < edge) return 'TOO_MANY';
    edge += s.rate503;
    if (roll < edge) return 'UNAVAILABLE';
    edge += s.failRate;
    if (roll < edge) return 'FAIL';
    return 'OK';
  }

  acknowledgeTwice(): boolean {
    return Math.random() < this.settings.duplicateAckRate;
  }
}

/** What the control API needs from each simulator. */
export interface Simulator {
  readonly name: string;
  readonly chaos: Chaos;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Everything the simulated system holds, for tests to check. */
  records(): Promise<unknown[]>;
  /** Forgets everything it holds. */
  reset(): Promise<void>;
  /** Where it listens, for the output of `npm start`. */
  describe(): string;
}
