// Compiles a rule's pattern on RE2, naming the config field in the error when the pattern is not valid RE2
// (lookaround and backreferences are not: that is what makes catastrophic backtracking impossible).
import RE2 from 're2';
import { ConfigError } from '../../errors/keyledger-error.js';

export function compileRe2(pattern: string, where: string, flags = ''): RE2 {
  try {
    return new RE2(pattern, flags);
  } catch (error) {
    throw new ConfigError(`${where}: not a valid RE2 pattern (${(error as Error).message})`, {
      code: 'E_SCAN_RULE_REGEX',
      cause: error,
    });
  }
}

/** What RE2's exec yields on a Buffer: byte offsets, Buffers for groups, byte indices with the `d` flag. */
export interface Re2BufferMatch {
  index: number;
  length: number;
  indices?: RegExpIndicesArray;
  0: Buffer;
  [group: number]: Buffer | undefined;
}

/** RE2's exec on bytes, typed with the numeric group access its declaration file leaves out. */
export function execBuffer(regex: RE2, input: Buffer): Re2BufferMatch | null {
  return regex.exec(input) as unknown as Re2BufferMatch | null;
}
