/* The corpus: every regular file of the blob directory, loaded in memory. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpus.h"
#include "util.h"

/* Orders blobs by file name. */
static int
blob_cmp(const void *a, const void *b)
{
	const struct blob	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Reads the whole regular file at dirfd/name into b. */
static int
blob_read(int dirfd, const char *dir, const char *name, struct blob *b,
    char **cause)
{
	struct stat	 st;
	int		 fd;
	size_t		 cap, len = 0;
	unsigned char	*data = NULL;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		*cause = xasprintf("%s/%s: cannot open: %s", dir, name,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("%s/%s: cannot stat: %s", dir, name,
		    strerror(errno));
		goto fail;
	}
	if ((uint64_t)st.st_size > CORPUS_MAX_BLOB) {
		*cause = xasprintf("%s/%s: too large (%jd bytes, limit %lu)",
		    dir, name, (intmax_t)st.st_size, CORPUS_MAX_BLOB);
		goto fail;
	}
	cap = (size_t)st.st_size + 1;
	data = malloc(cap);
	if (data == NULL) {
		*cause = xasprintf("%s/%s: out of memory", dir, name);
		goto fail;
	}
	for (;;) {
		ssize_t	n;

		if (len == cap) {
			*cause = xasprintf("%s/%s: grew while being read",
			    dir, name);
			goto fail;
		}
		n = read(fd, data + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*cause = xasprintf("%s/%s: cannot read: %s", dir, name,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	b->name = xstrdup(name);
	b->data = data;
	b->len = len;
	return 0;

fail:
	free(data);
	close(fd);
	return -1;
}

/* Recomputes the size figures and ids of c from its blobs. */
static void
corpus_measure(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->blobs[i].id = i;
	c->total = 0;
	c->min = c->n ? SIZE_MAX : 0;
	c->max = 0;
	for (size_t i = 0; i < c->n; i++) {
		size_t	len = c->blobs[i].len;

		c->total += len;
		if (len < c->min)
			c->min = len;
		if (len > c->max)
			c->max = len;
	}
}

/* Reads every regular file of the open directory d into c. */
static int
corpus_read_dir(struct corpus *c, DIR *d, const char *dir, char **cause)
{
	struct dirent	*de;
	size_t		 cap = 0;

	for (;;) {
		struct stat	st;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno == 0)
				return 0;
			*cause = xasprintf("blob dir %s: cannot list: %s", dir,
			    strerror(errno));
			return -1;
		}
		if (de->d_name[0] == '.') {
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				c->skipped_hidden++;
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &st, 0) == -1) {
			*cause = xasprintf("%s/%s: cannot stat: %s", dir,
			    de->d_name, strerror(errno));
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			c->skipped_dirs++;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			*cause = xasprintf("%s/%s: not a regular file", dir,
			    de->d_name);
			return -1;
		}
		if (c->n == cap) {
			cap = cap ? cap * 2 : 64;
			c->blobs = xreallocarray(c->blobs, cap, sizeof *c->blobs);
		}
		if (blob_read(dirfd(d), dir, de->d_name, &c->blobs[c->n],
		    cause) == -1)
			return -1;
		c->n++;
	}
}

/* Sorts and measures the loaded blobs; refuses a corpus with nothing to
 * send. */
static int
corpus_check(struct corpus *c, const char *dir, char **cause)
{
	if (c->n == 0) {
		if (c->skipped_dirs > 0)
			*cause = xasprintf("blob dir %s: no files, only %zu "
			    "subdirector%s (blobs are not searched for "
			    "recursively; point --blob-dir at one of them)",
			    dir, c->skipped_dirs,
			    c->skipped_dirs == 1 ? "y" : "ies");
		else
			*cause = xasprintf("blob dir %s: empty (no files that "
			    "do not start with a dot)", dir);
		return -1;
	}
	qsort(c->blobs, c->n, sizeof *c->blobs, blob_cmp);
	corpus_measure(c);
	if (c->max == 0) {
		*cause = xasprintf("blob dir %s: all %zu files are empty; "
		    "there is nothing to send", dir, c->n);
		return -1;
	}
	return 0;
}

/* Loads every regular, non-hidden file of dir. */
struct corpus *
corpus_load(const char *dir, char **cause)
{
	struct corpus	*c;
	DIR		*d;

	d = opendir(dir);
	if (d == NULL) {
		*cause = xasprintf("blob dir %s: %s", dir, strerror(errno));
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	if (corpus_read_dir(c, d, dir, cause) == -1) {
		closedir(d);
		goto fail;
	}
	closedir(d);
	if (corpus_check(c, dir, cause) == -1)
		goto fail;
	return c;

fail:
	corpus_free(c);
	return NULL;
}

/* Frees a corpus; accepts NULL. */
void
corpus_free(struct corpus *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->blobs[i].name);
		free(c->blobs[i].data);
	}
	free(c->blobs);
	free(c);
}

/* Mean blob size in bytes, rounded down. */
size_t
corpus_mean(const struct corpus *c)
{
	return c->n ? (size_t)(c->total / c->n) : 0;
}

/* Keeps only every n-th blob starting at k (0 <= k < n). */
int
corpus_shard(struct corpus *c, unsigned k, unsigned n, char **cause)
{
	size_t	kept = 0;

	if (n <= 1)
		return 0;
	for (size_t i = 0; i < c->n; i++) {
		if (i % n == k) {
			c->blobs[kept++] = c->blobs[i];
		} else {
			free(c->blobs[i].name);
			free(c->blobs[i].data);
		}
	}
	c->n = kept;
	corpus_measure(c);
	if (c->n == 0) {
		*cause = xasprintf("shard %u/%u holds no blob (the corpus has "
		    "fewer than %u files)", k, n, k + 1);
		return -1;
	}
	return 0;
}
