// The CLI's pino logger: JSON lines on stdout (so they can be shipped), or a small readable
// format when stdout is a terminal. Secrets and tokens are redacted even if a caller logs them, and
// control characters in logged text are escaped in both formats (see terminal-text.ts).
// Library code never creates a logger; it gets this one. Not a general formatter: one line per record.
import { pino } from 'pino';
import type { Logger } from '../log.js';
import { escapeControls } from './terminal-text.js';

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface CliLoggerOptions {
  level?: string;
  format?: LogFormat;
  /** The file descriptor to write to (default 1, stdout). */
  fd?: number;
}

const levelNames: Readonly<Record<string, string>> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO ',
  warn: 'WARN ',
  error: 'ERROR',
  fatal: 'FATAL',
};
const levelColors: Readonly<Record<string, string>> = {
  trace: '\x1b[90m',
  debug: '\x1b[36m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[35m',
};
const skippedKeys = new Set(['level', 'time', 'msg', 'pid', 'hostname']);
const maxValueChars = 2000;

/**
 * Turns one pino JSON line into `12:00:01.234 INFO  message key=value ...`. Every text a record
 * holds may come from a peer (a method name, a handler's error message), so each is escaped: a
 * stack keeps its line breaks, indented, and nothing else; a CR or ESC cannot forge a line.
 * Unparsable lines pass through, escaped.
 */
export function formatPretty(line: string, hasColor: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return escapeControls(line, { keepNewlines: true });
  }
  if (typeof record !== 'object' || record === null) return escapeControls(line, { keepNewlines: true });
  const level = typeof record.level === 'string' ? record.level : 'info';
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const label = escapeControls(levelNames[level] ?? level.toUpperCase());
  const coloured = hasColor ? `${levelColors[level] ?? ''}${label}\x1b[0m` : label;
  const parts = [`${escapeControls(time)} ${coloured} ${typeof record.msg === 'string' ? shown(record.msg) : ''}`];
  for (const [key, value] of Object.entries(record)) {
    if (skippedKeys.has(key)) continue;
    let text = shown(typeof value === 'string' ? value : JSON.stringify(value));
    if (key === 'err' && typeof value === 'object' && value !== null) {
      const err = value as { type?: unknown; message?: unknown; stack?: unknown };
      text =
        typeof err.stack === 'string'
          ? `\n    ${err.stack.split('\n').map(shown).join('\n    ')}`
          : `${shown(String(err.type))}: ${shown(String(err.message))}`;
    }
    parts.push(`${escapeControls(key)}=${text}`);
  }
  return `${parts.join(' ')}\n`;
}

/** One value as shown: at most maxValueChars, control characters escaped. */
function shown(text: string): string {
  return escapeControls(text.length > maxValueChars ? `${text.slice(0, maxValueChars)}…` : text);
}

/** A pino logger for the CLI, writing synchronously so nothing is lost when the process exits. */
export function createCliLogger(options: CliLoggerOptions = {}): Logger {
  const fd = options.fd ?? 1;
  const format = options.format ?? 'auto';
  const destination = pino.destination({ dest: fd, sync: true });
  const isPretty = format === 'pretty' || (format === 'auto' && fd === 1 && process.stdout.isTTY === true);
  const hasColor = isPretty && process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  // JSON lines: pino escapes C0 in strings but not DEL, C1 or bidi controls; escaping them keeps the JSON valid.
  const stream = {
    write: (line: string) =>
      destination.write(isPretty ? formatPretty(line, hasColor) : escapeControls(line, { keepNewlines: true })),
  };
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
      redact: {
        paths: ['secret', 'token', 'psk', '*.secret', '*.token', '*.psk', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    stream,
  );
}
