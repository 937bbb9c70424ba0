// Caps how many calls to one provider are in flight at once, for providers that document it (GitHub asks for no
// concurrent content-creating requests). Waiters are served in arrival order.

export class ConcurrencyLimiter {
  readonly #max: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError('a concurrency limit needs max >= 1');
    this.#max = max;
  }

  /** Calls in flight now. */
  get active(): number {
    return this.#active;
  }

  /** Runs `task` once a slot is free, and frees the slot when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter, so `active` never dips below the cap while others wait.
      if (next) next();
      else this.#active--;
    }
  }
}
