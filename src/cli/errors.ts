/**
 * How the CLI ends on an error: one clear line on stderr (no stack trace) and an exit code,
 * 1 for a failure, 2 for a usage error (commander's own, or a UsageError).
 * @module
 */
import { CommanderError } from 'commander';

/** Exit codes of every zktrust command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A mistake in how the command was called (a missing key, a malformed option value). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The one-line message and exit code for an error thrown by a command. A CommanderError has
 * already been printed by commander: its message is empty here.
 * @example describeError(new UsageError('--key is required')) // { message: 'zktrust: --key is required', exitCode: 2 }
 */
export function describeError(e: unknown): { message: string; exitCode: number } {
  if (e instanceof CommanderError) return { message: '', exitCode: e.exitCode === 0 ? EXIT.ok : EXIT.usage };
  if (e instanceof UsageError) return { message: `zktrust: ${firstLine(e.message)}`, exitCode: EXIT.usage };
  const err = e as { message?: string; code?: unknown; cause?: { code?: string; message?: string } };
  // fetch() says only "fetch failed"; the reason (ECONNREFUSED 127.0.0.1:8080, ...) is its cause.
  if (e instanceof TypeError && err.message === 'fetch failed') {
    return { message: `zktrust: cannot reach the aggregator (${firstLine(err.cause?.message ?? err.cause?.code ?? 'network error')}); check --url or ZKTRUST_URL`, exitCode: EXIT.failure };
  }
  const fsErr = e as { syscall?: string; path?: string };
  // "ENOENT: no such file or directory, open 'x'" -> "x: no such file or directory".
  if (fsErr?.syscall && fsErr.path) return { message: `zktrust: ${fsErr.path}: ${firstLine(String(err.message)).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}`, exitCode: EXIT.failure };
  const message = firstLine(String(err?.message ?? e));
  // A problem code from the server (ClientError) or a Node error code, unless the message starts with it already.
  const code = typeof err?.code === 'string' && !message.startsWith(err.code) ? `${err.code}: ` : '';
  return { message: `zktrust: ${code}${message}`, exitCode: EXIT.failure };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}
