import { isoTime } from './clock';

const levels = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof levels;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  with(fields: Record<string, unknown>): Logger;
  /** Whether lines of `level` are written: fields that cost work to gather are spared otherwise. */
  writes(level: Exclude<LogLevel, 'silent'>): boolean;
}

/**
 * One JSON object per line, so Workers Logs can index every field. A class rather than closures:
 * every request makes a logger, and its methods then cost nothing to create.
 */
class JsonLogger implements Logger {
  constructor(
    private readonly threshold: number,
    private readonly base: Record<string, unknown>,
  ) {}

  writes(level: Exclude<LogLevel, 'silent'>): boolean {
    return levels[level] >= this.threshold;
  }

  private write(at: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void {
    if (!this.writes(at)) return;
    const line = JSON.stringify({
      level: at,
      time: isoTime(),
      message,
      ...this.base,
      ...fields,
    });
    if (at === 'error') console.error(line);
    else if (at === 'warn') console.warn(line);
    else console.log(line);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }
  with(fields: Record<string, unknown>): Logger {
    return new JsonLogger(this.threshold, { ...this.base, ...fields });
  }
}

export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  return new JsonLogger(levels[level], base);
}

/** The line written for every answer, by the request middleware or a route answered before it. */
export function logRequest(
  logger: Logger,
  line: { method: string; route: string; path: string; status: number; durationMs: number },
): void {
  logger.info('request', line);
}
