// The run's only source of randomness: xoroshiro128+ (pure-rand), seeded from the run's seed.
// Independent streams (schedule, host, each CPU's workload) come from jump(), so that drawing
// more numbers in one of them never shifts another.
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand'
import { assert } from '../lib'

export class Prng {
  private constructor(private readonly rng: RandomGenerator) {}

  static fromSeed(seed: number): Prng {
    assert(Number.isSafeInteger(seed), 'seed is an integer')
    // xoroshiro128plus takes 32 bits; fold the high bits of larger seeds in.
    return new Prng(xoroshiro128plus((seed ^ Math.floor(seed / 0x1_0000_0000)) | 0))
  }

  /** The `index`-th independent stream: this generator jumped 2^64 steps `index + 1` times. */
  stream(index: number): Prng {
    let g = this.rng.clone()
    for (let i = 0; i <= index; i++) g = g.jump!()
    return new Prng(g)
  }

  /** A uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return unsafeUniformIntDistribution(min, max, this.rng)
  }

  /** True with probability percent / 100. */
  chance(percent: number): boolean {
    return percent > 0 && this.int(0, 99) < percent
  }

  /** An index drawn with the given non-negative integer weights. */
  weighted(weights: readonly number[]): number {
    let total = 0
    for (const w of weights) total += w
    assert(total > 0, 'some weight is positive')
    let r = this.int(0, total - 1)
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!
      if (r < 0) return i
    }
    return weights.length - 1
  }
}

/** The stream numbers, fixed so that adding a stream never renumbers the others. */
export const STREAM_SCHEDULE = 0
export const STREAM_HOST = 1
export const STREAM_CPU_BASE = 16
