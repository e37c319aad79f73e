import { z } from 'zod';
import { ConfigError } from './errors.ts';

/**
 * Process configuration from environment variables. Every variable is listed here once, with its
 * default; the README's configuration table is this list. Errors name the variable.
 */
const Settings = {
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  SPILLWAY_MODE: z.enum(['embedded', 'distributed']).default('embedded'),
  SPILLWAY_POLICY_DIR: z.string().default('policies'),
  SPILLWAY_ACCOUNTS_FILE: z.string().optional(),
  SPILLWAY_DATA_DIR: z.string().default('.cache/data'),
  SPILLWAY_REDIS_URL: z.string().url().optional(),
  SPILLWAY_KAFKA_BROKERS: z
    .string()
    .regex(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/, 'expected host:port[,host:port…]')
    .optional(),
  SPILLWAY_KAFKA_REPLICATION: z.coerce.number().int().min(1).default(1),
  SPILLWAY_KAFKA_MIN_ISR: z.coerce.number().int().min(1).default(1),
  SPILLWAY_KAFKA_PARTITIONS: z.coerce.number().int().min(1).default(4),
  SPILLWAY_ADMIN_TOKEN: z.string().min(16).optional(),
  SPILLWAY_URL_SIGNING_KEY: z.string().min(16).optional(),
  SPILLWAY_AUTH_INTROSPECTION_URL: z.string().url().optional(),
  SPILLWAY_AUTH_INTROSPECTION_CLIENT: z
    .string()
    .regex(/^[^:]+:.+$/, 'expected client_id:client_secret')
    .optional(),
  SPILLWAY_AUTH_INTROSPECTION_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  SPILLWAY_AUTH_INTROSPECTION_MAX_PENDING: z.coerce.number().int().min(1).max(10_000).default(64),
  SPILLWAY_TRUSTED_PROXIES: z.string().default(''),
  SPILLWAY_WORKER_SLOTS: z.coerce.number().int().min(1).max(64).default(2),
  SPILLWAY_MODEL_NICE: z.coerce.number().int().min(0).max(19).default(19),
  SPILLWAY_INFERENCE_NICE: z.coerce.number().int().min(0).max(19).default(10),
  SPILLWAY_WORKER_ID: z.string().optional(),
  SPILLWAY_LANES: z.string().optional(),
  SPILLWAY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SPILLWAY_CONTROLLER: z.enum(['on', 'off', 'static']).default('on'),
  SPILLWAY_STATUS_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  SPILLWAY_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
} as const;

const ConfigSchema = z.object(Settings);
export type Config = z.infer<typeof ConfigSchema>;
export const SETTING_NAMES = Object.keys(Settings) as (keyof typeof Settings)[];

/** Parses the environment; throws ConfigError naming the first bad setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string | undefined> = {};
  for (const name of SETTING_NAMES) {
    const value = env[name];
    picked[name] = value === '' ? undefined : value;
  }
  const parsed = ConfigSchema.safeParse(picked);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const setting = String(issue.path[0] ?? 'environment');
  throw new ConfigError(setting, `${issue.message} (got ${JSON.stringify(picked[setting])})`);
}
