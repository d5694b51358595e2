/* Seeded pseudo-random streams: xoshiro256** seeded through splitmix64. */
#ifndef STUTTERFUZZ_RNG_H
#define STUTTERFUZZ_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* One splitmix64 step: advances *state and returns a well-mixed value. */
uint64_t rng_splitmix64(uint64_t *state);

/* Seeds r as stream number `stream` of the run seeded with `seed`. */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);

/* Next 64 random bits. */
uint64_t rng_next(struct rng *r);

/* Uniform value in [0, n); n must be > 0. Unbiased. */
uint64_t rng_below(struct rng *r, uint64_t n);

/* True with probability 1/n; n == 0 means never, n == 1 always. */
int rng_one_in(struct rng *r, uint32_t n);

/* A seed for a run that did not ask for one (getrandom, or time and pid). */
uint64_t rng_fresh_seed(void);

#endif
