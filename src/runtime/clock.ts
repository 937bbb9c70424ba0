// Services take a clock as a parameter so that tests can pin time (STYLE habit 7).

export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** A clock fixed at one instant, advanced by hand; for tests and deterministic generators. */
export function fixedClock(start: Date | string): Clock & { advance(ms: number): void; set(to: Date | string): void } {
  let now = new Date(start).getTime();
  const clock = (() => new Date(now)) as Clock & { advance(ms: number): void; set(to: Date | string): void };
  clock.advance = (ms: number) => {
    now += ms;
  };
  clock.set = (to: Date | string) => {
    now = new Date(to).getTime();
  };
  return clock;
}
