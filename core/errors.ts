/** Errors for people: every message names the operation, the argument and the shapes involved. */

/** Formats a shape the way messages print it: `[8,3,32,32]`. */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** An error raised by an operation, a layer or a user-facing entry point because of bad input. */
export class CpnasError extends Error {
  /** Where it happened: an op name (`conv2d`), a reader (`cifar10`) or a CLI flag (`--epochs`). */
  readonly where: string;
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'CpnasError';
    this.where = where;
  }
}

/** Throws a CpnasError naming `where` unless `cond` holds. */
export function check(cond: unknown, where: string, message: () => string): asserts cond {
  if (!cond) throw new CpnasError(where, message());
}
