/*
 * plancost: nanoseconds per plan_make() for each split strategy, over the
 * blobs of a directory (default corpus-samples/http). Planning happens once
 * per connection; compare with the several system calls each connection
 * makes (socket, connect, send per fragment, close: microseconds each).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "corpus.h"
#include "plan.h"

int
main(int argc, char **argv)
{
	const char		*dir = argc > 1 ? argv[1] : "corpus-samples/http";
	struct plan_params	 pp = { .fastopen_chance = 2, .close_chance = 500,
				    .max_fragments = 256 };
	struct plan		 p = { 0 };
	struct corpus		*c;
	char			*cause = NULL;
	const int		 n = 200000;

	c = corpus_load(dir, &cause);
	if (c == NULL) {
		fprintf(stderr, "plancost: %s\n", cause);
		return 2;
	}
	printf("%-10s %10s %12s\n", "split", "ns/plan", "frags/plan");
	for (int s = 0; s < PLAN_SPLIT__COUNT; s++) {
		struct timespec	a, b;
		uint64_t	frags = 0;

		pp.split = (enum plan_split)s;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (int i = 0; i < n; i++) {
			const struct blob	*bl = &c->blobs[(size_t)i % c->n];

			if (plan_make(&p, 1, (uint64_t)i, (uint64_t)i / c->n,
			    bl->data, bl->len, &pp) == -1)
				return 3;
			frags += p.nfrags;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%-10s %10.0f %12.2f\n", plan_split_name(pp.split),
		    ((double)(b.tv_sec - a.tv_sec) * 1e9 +
		    (double)(b.tv_nsec - a.tv_nsec)) / n, (double)frags / n);
	}
	plan_release(&p);
	corpus_free(c);
	return 0;
}
