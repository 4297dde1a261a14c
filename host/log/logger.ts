// Logging. CNI_LOG_LEVEL (debug|info|warn|error|silent, default warn) and CNI_LOG_FILE
// (append; default stderr). Never stdout: stdout belongs to the CNI result.
// pino costs ~27 ms to load, a quarter of Node's own start-up, so it is imported only
// when a line will actually be written.
import type { Logger } from 'pino';

export const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type Level = (typeof LEVELS)[number];
const RANK: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: Infinity };

type Env = Record<string, string | undefined>;

export function levelFromEnv(env: Env = process.env): Level {
  const v = (env.CNI_LOG_LEVEL ?? '').toLowerCase();
  if (v === 'warning') return 'warn';
  return (LEVELS as readonly string[]).includes(v) ? (v as Level) : 'warn';
}

export function enabled(level: Exclude<Level, 'silent'>, env: Env = process.env): boolean {
  return RANK[level] >= RANK[levelFromEnv(env)];
}

let logger: Promise<Logger> | undefined;

/** The process's pino logger, created on first use. */
export function getLogger(env: Env = process.env): Promise<Logger> {
  logger ??= (async () => {
    // The default export works both from sources (ESM) and from the CJS bundle.
    const pino = (await import('pino')).default;
    const file = env.CNI_LOG_FILE;
    let dest;
    try {
      // Synchronous writes: a CNI process exits right after its answer and must not lose lines.
      dest = file ? pino.destination({ dest: file, sync: true, append: true, mkdir: true }) : pino.destination({ dest: 2, sync: true });
    } catch (e) {
      process.stderr.write(`cni-wasm: cannot open CNI_LOG_FILE ${file}: ${(e as Error).message}; logging to stderr\n`);
      dest = pino.destination({ dest: 2, sync: true });
    }
    return pino({ level: levelFromEnv(env), base: { pid: process.pid, name: 'cni-wasm' } }, dest);
  })();
  return logger;
}

/** Write one line if `level` is enabled; loads pino only then. Never throws. */
export async function log(level: Exclude<Level, 'silent'>, fields: Record<string, unknown>, msg: string): Promise<void> {
  if (!enabled(level)) return;
  try {
    (await getLogger())[level](fields, msg);
  } catch {
    /* logging must never change a CNI answer */
  }
}
