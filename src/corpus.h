/* The corpus: every regular file of the blob directory, loaded in memory. */
#ifndef STUTTERFUZZ_CORPUS_H
#define STUTTERFUZZ_CORPUS_H

#include <stddef.h>
#include <stdint.h>

/* Largest blob accepted, in bytes. */
#define CORPUS_MAX_BLOB	(256UL * 1024 * 1024)

struct blob {
	char		*name;		/* file name inside the blob directory */
	unsigned char	*data;
	size_t		 len;
	size_t		 id;		/* position in the corpus (coverage) */
};

struct corpus {
	struct blob	*blobs;		/* sorted by name, so runs are reproducible */
	size_t		 n;
	size_t		 min;
	size_t		 max;
	uint64_t	 total;
	size_t		 skipped_dirs;	/* subdirectories passed over */
	size_t		 skipped_hidden;	/* dot-files passed over */
};

/* Loads every regular, non-hidden file of dir. Returns NULL and an allocated
 * *cause naming the thing and the reason on failure. */
struct corpus	*corpus_load(const char *dir, char **cause);

/* Frees a corpus; accepts NULL. */
void		 corpus_free(struct corpus *c);

/* Mean blob size in bytes, rounded down. */
size_t		 corpus_mean(const struct corpus *c);

/* Keeps only every n-th blob starting at k (0 <= k < n). Returns 0, or -1
 * with *cause if that leaves no blob. */
int		 corpus_shard(struct corpus *c, unsigned k, unsigned n,
		     char **cause);

#endif
