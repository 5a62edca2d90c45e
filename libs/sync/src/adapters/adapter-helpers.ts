import { z } from 'zod';
import { DeliveryResult } from './adapter';
import { AnswerHeaders } from './http-client';

/** What every network adapter needs: endpoint errors, masking of answers, Retry-After, transport failures. */

const MAX_ANSWER_CHARS = 500;

/** One readable line per zod issue, naming the endpoint key. */
export function describeEndpointProblem(protocol: string, error: z.ZodError): string {
  const problems = error.issues.map((issue) => {
    const at = issue.path.length > 0 ? `endpoint.${issue.path.join('.')}` : 'endpoint';
    return `${at}: ${issue.message}`;
  });
  return `${protocol} target: ${problems.join('; ')}`;
}

/** Masks ID numbers (15 / 18 characters) and mobile numbers in a target's answer; keeps it short. */
export function maskPersonalData(text: string): string {
  const masked = text
    .replace(/\d{17}[\dXx]|\d{15}/g, (id) => `${id.slice(0, 6)}${'*'.repeat(id.length - 10)}${id.slice(-4)}`)
    .replace(/(?<!\d)1[3-9]\d{9}(?!\d)/g, (phone) => `${phone.slice(0, 3)}****${phone.slice(-4)}`);
  return masked.length > MAX_ANSWER_CHARS ? `${masked.slice(0, MAX_ANSWER_CHARS)}…` : masked;
}

/** Retry-After in milliseconds (delta seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(headers: AnswerHeaders, now = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The system error code (ECONNREFUSED, ECONNRESET, …) of a failed request, looked for through `cause` and `errors`. */
function errorCode(err: unknown, depth = 0): string | undefined {
  // Duck-typed: errors raised inside Node's internals need not be `instanceof Error` of this realm (e.g. under jest).
  if (typeof err !== 'object' || err === null || depth > 4) return undefined;
  const { code, cause, errors } = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  const fromCause = errorCode(cause, depth + 1);
  if (fromCause) return fromCause;
  return Array.isArray(errors) ? errors.map((e: unknown) => errorCode(e, depth + 1)).find((c) => c !== undefined) : undefined;
}

/** A request that got no answer: timeout, abort, refused or broken connection. Always uses an attempt. */
export function transportFailure(err: unknown, signal: AbortSignal): DeliveryResult {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    // A DOMException from AbortSignal.timeout (not always `instanceof Error` across realms).
    const timedOut = typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
    return { kind: 'RETRY', reason: timedOut ? 'timed out' : 'aborted', countsAsAttempt: true };
  }
  const code = errorCode(err);
  return { kind: 'RETRY', reason: `connection failed${code ? ` (${code})` : ''}`, countsAsAttempt: true };
}

/** Back-pressure (429 / 503): wait without using an attempt. */
export function backPressure(status: number, headers: AnswerHeaders, detail?: string): DeliveryResult {
  const delayMs = retryAfterMs(headers);
  const reason = `HTTP ${status}${detail ? ` ${detail}` : ''}`;
  return delayMs === undefined ? { kind: 'RETRY', reason, countsAsAttempt: false } : { kind: 'RETRY', reason, delayMs, countsAsAttempt: false };
}
