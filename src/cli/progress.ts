import type { CommandIo } from "./io";

/** One progress line: what the command is doing now. */
export type Progress = (line: string) => void;

/** `m:ss`, or `h:mm:ss` from an hour on. */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, "0");
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

/**
 * Progress on stderr, each line with the time since the command started, so stdout keeps only
 * results; nothing at all under --quiet.
 */
export function progressTo(io: CommandIo, quiet: boolean, now: () => number = Date.now): Progress {
  if (quiet) return () => undefined;
  const start = now();
  return (line) => io.err(`[${elapsed(now() - start)}] ${line}`);
}
