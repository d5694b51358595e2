/* Seeded pseudo-random streams: xoshiro256** seeded through splitmix64. */
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "rng.h"

/* One splitmix64 step: advances *state and returns a well-mixed value. */
uint64_t
rng_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Seeds r as stream number `stream` of the run seeded with `seed`. */
void
rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t mix = stream;
	uint64_t state = seed ^ rng_splitmix64(&mix);

	for (int i = 0; i < 4; i++)
		r->s[i] = rng_splitmix64(&state);
	/* xoshiro must not start from all zeroes; splitmix64 never gives that
	 * for four consecutive outputs, but keep the invariant explicit. */
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1;
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits. */
uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform value in [0, n); n must be > 0. Unbiased (Lemire's method). */
uint64_t
rng_below(struct rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
	uint64_t low = (uint64_t)m;

	if (low < n) {
		uint64_t threshold = -n % n;
		while (low < threshold) {
			m = (unsigned __int128)rng_next(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* True with probability 1/n; n == 0 means never, n == 1 always. */
int
rng_one_in(struct rng *r, uint32_t n)
{
	if (n == 0)
		return 0;
	return rng_below(r, n) == 0;
}

/* A seed for a run that did not ask for one (getrandom, or time and pid). */
uint64_t
rng_fresh_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
		return seed;
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^
	    ((uint64_t)getpid() << 32);
	return rng_splitmix64(&seed);
}
