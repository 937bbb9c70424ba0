import { describe, expect, it } from 'vitest';
import { shannonEntropy } from './shannon-entropy.js';

describe('shannonEntropy', () => {
  it('is 0 for one repeated character and log2(n) for n distinct ones', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBeCloseTo(2, 10);
    expect(shannonEntropy('0123456789abcdef')).toBeCloseTo(4, 10);
  });
  it('scores random-looking tokens above words', () => {
    expect(shannonEntropy('q8Zr2LmX0vT7pK4nW1sY')).toBeGreaterThan(shannonEntropy('passwordpassword'));
  });
});
