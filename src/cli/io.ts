import { printable } from "../config/printable";

/** Where a command writes: results and summaries to `out`, progress and problems to `err`. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * The terminal. Lines quote what users gave (file names, a refused file's reason, values), so
 * control characters are escaped here, once for every command: a binary file named in a
 * message cannot drive the terminal.
 */
export const consoleIo: CommandIo = {
  out: (line) => console.log(printable(line)),
  err: (line) => console.error(printable(line)),
};
