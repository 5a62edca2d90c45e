import { readdirSync, readFileSync } from 'fs';
import { basename, join } from 'path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { TAG_DEFINITIONS } from '@linli/registry';
import { AdapterFactory } from '../adapters/adapter';
import { isHubField } from '../mapping/hub-fields';

const DATE_FORMATS = ['YYYYMMDD', 'YYYY-MM-DD', 'YYYY年M月', 'YYYY年M月D日'] as const;

const fieldRule = z.object({
  from: z.string().optional(),
  constant: z.union([z.string(), z.number(), z.boolean()]).optional(),
  join: z.object({ fields: z.array(z.string()).min(1), separator: z.string().default('') }).strict().optional(),
  format: z.enum(DATE_FORMATS).optional(),
  codes: z.string().optional(),
  pad: z.number().int().min(1).max(40).optional(),
  unpad: z.boolean().optional(),
  optional: z.boolean().optional(),
}).strict().refine((f) => [f.from, f.constant, f.join].filter((x) => x !== undefined).length === 1, { message: 'give exactly one of from, constant, join' });

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'time as HH:MM');

export const targetSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{1,39}$/, 'lower-case letters, digits and -'),
  title: z.string().min(1),
  line: z.string().regex(/^[A-Z_]+$/),
  protocol: z.string(),
  endpoint: z.record(z.string(), z.unknown()),
  credentials: z.record(z.string(), z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'the NAME of an environment variable')).default({}),
  subscribe: z.object({
    aggregate: z.enum(['RESIDENT']).default('RESIDENT'),
    tags: z.array(z.string()).default([]),
    populationTypes: z.array(z.string()).default([]),
    /** Only household heads (户主): for targets that keep one row per household, keyed by the head. */
    headsOnly: z.boolean().default(false),
  }).strict(),
  key: z.string(),
  fields: z.record(z.string(), fieldRule).refine((f) => Object.keys(f).length > 0, 'at least one field'),
  codes: z.record(z.string(), z.record(z.string(), z.union([z.string(), z.number()]))).default({}),
  schedule: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('realtime') }).strict(),
    z.object({ mode: z.literal('batch'), cron: z.string().regex(/^(\S+\s+){4}\S+$/, 'a five-field cron expression') }).strict(),
  ]),
  limits: z.object({
    ratePerSecond: z.number().positive().default(20),
    concurrency: z.number().int().min(1).max(32).default(2),
    timeoutMs: z.number().int().min(100).max(120_000).default(5000),
  }).strict().default({ ratePerSecond: 20, concurrency: 2, timeoutMs: 5000 }),
  retry: z.object({
    attempts: z.number().int().min(1).max(50).default(8),
    backoffMs: z.number().int().min(10).default(500),
    maxBackoffMs: z.number().int().min(100).default(60_000),
  }).strict().default({ attempts: 8, backoffMs: 500, maxBackoffMs: 60_000 }),
  serviceHours: z.object({ from: hhmm, to: hhmm }).strict().nullable().default(null),
}).strict();

export type TargetConfig = z.infer<typeof targetSchema> & {
  file: string;
  resolvedCredentials: Record<string, string>;
  /** Credentials whose environment variable is not set (only allowed where nothing is delivered, e.g. the API). */
  missingCredentials: { key: string; env: string; line: number | null }[];
};
export type FieldRule = z.infer<typeof fieldRule>;

/** A target file that cannot be used: names the file, the line and the problem. */
export class TargetConfigError extends Error {
  constructor(readonly problems: { file: string; line: number | null; path: string; message: string }[]) {
    super(`Invalid sync target configuration / 同步目标配置错误:\n${problems.map((p) => `  ${p.file}${p.line ? `:${p.line}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n')}`);
  }
}

const SENSITIVE_TAGS = new Map(TAG_DEFINITIONS.map((t) => [t.code, t]));

/** Parses and checks one target file (YAML or JSON). */
export function parseTarget(
  file: string,
  text: string,
  factories: Map<string, AdapterFactory>,
  env: Record<string, string | undefined>,
  opts: { requireCredentials?: boolean } = {},
): TargetConfig {
  const requireCredentials = opts.requireCredentials ?? true;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const name = basename(file);
  const lineOf = (path: (string | number)[]): number | null => {
    for (let i = path.length; i >= 0; i--) {
      const node = doc.getIn(path.slice(0, i), true) as { range?: [number, number, number] } | undefined;
      if (node && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return null;
  };
  if (doc.errors.length) {
    throw new TargetConfigError(doc.errors.map((e) => ({ file: name, line: e.linePos?.[0]?.line ?? null, path: '', message: e.message.split('\n')[0] })));
  }
  const parsed = targetSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new TargetConfigError(parsed.error.issues.map((i) => ({ file: name, line: lineOf(i.path as (string | number)[]), path: i.path.join('.'), message: i.message })));
  }
  const t = parsed.data;
  const problems: { path: (string | number)[]; message: string }[] = [];
  const factory = factories.get(t.protocol);
  if (!factory) problems.push({ path: ['protocol'], message: `unknown protocol "${t.protocol}" (known: ${[...factories.keys()].join(', ')})` });
  else {
    try {
      factory.validateEndpoint(t.endpoint);
    } catch (err) {
      problems.push({ path: ['endpoint'], message: err instanceof Error ? err.message : String(err) });
    }
  }
  if (!t.fields[t.key]) problems.push({ path: ['key'], message: `the key field "${t.key}" is not among the fields` });
  for (const [field, rule] of Object.entries(t.fields)) {
    const sources = rule.from ? [rule.from] : rule.join ? rule.join.fields : [];
    for (const src of sources) {
      if (!isHubField(src)) problems.push({ path: ['fields', field, rule.from ? 'from' : 'join'], message: `"${src}" is not a hub field` });
      const tag = /^tag\.([A-Z0-9_]+)/.exec(src)?.[1];
      const def = tag ? SENSITIVE_TAGS.get(tag) : undefined;
      if (tag && !def) problems.push({ path: ['fields', field], message: `unknown tag ${tag}` });
      if (def && def.sensitivity === 'L4' && def.ownerLine !== t.line) {
        problems.push({ path: ['fields', field], message: `${tag} is L4 data of the ${def.ownerLine} line and is never synced to another line` });
      }
    }
    if (rule.codes && !t.codes[rule.codes]) problems.push({ path: ['fields', field, 'codes'], message: `no code table "${rule.codes}" under codes` });
  }
  for (const [i, tag] of t.subscribe.tags.entries()) {
    const def = SENSITIVE_TAGS.get(tag);
    if (!def) problems.push({ path: ['subscribe', 'tags', i], message: `unknown tag ${tag}` });
    else if (def.sensitivity === 'L4' && def.ownerLine !== t.line) problems.push({ path: ['subscribe', 'tags', i], message: `${tag} is L4 data of the ${def.ownerLine} line` });
  }
  const resolvedCredentials: Record<string, string> = {};
  const missingCredentials: TargetConfig['missingCredentials'] = [];
  for (const [k, envName] of Object.entries(t.credentials)) {
    const v = env[envName];
    if (v !== undefined && v !== '') resolvedCredentials[k] = v;
    else if (requireCredentials) problems.push({ path: ['credentials', k], message: `environment variable ${envName} is not set` });
    else missingCredentials.push({ key: k, env: envName, line: lineOf(['credentials', k]) });
  }
  if (problems.length) throw new TargetConfigError(problems.map((p) => ({ file: name, line: lineOf(p.path), path: p.path.join('.'), message: p.message })));
  return { ...t, file, resolvedCredentials, missingCredentials };
}

/** Loads every `*.yaml`, `*.yml` and `*.json` in the directory; any bad file stops the start with all problems listed. */
export function loadTargets(
  dir: string,
  factories: Map<string, AdapterFactory>,
  env: Record<string, string | undefined> = process.env,
  opts: { requireCredentials?: boolean } = {},
): TargetConfig[] {
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  const targets: TargetConfig[] = [];
  const problems: TargetConfigError['problems'] = [];
  for (const f of files) {
    try {
      targets.push(parseTarget(join(dir, f), readFileSync(join(dir, f), 'utf8'), factories, env, opts));
    } catch (err) {
      if (err instanceof TargetConfigError) problems.push(...err.problems);
      else throw err;
    }
  }
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.name)) problems.push({ file: basename(t.file), line: null, path: 'name', message: `duplicate target name ${t.name}` });
    seen.add(t.name);
  }
  if (problems.length) throw new TargetConfigError(problems);
  return targets;
}
