/* Capture: the streams a proxy saw, kept as a content-addressed corpus. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "sha256.h"
#include "util.h"

struct capture {
	char	*dir;
	char	*answers_dir;	/* NULL: answers not kept */
	unsigned tmp_seq;	/* temporary names are never reused */
};

/* Makes dir if missing and checks it is a writable directory. */
static int
capture_mkdir(const char *dir, char **cause)
{
	struct stat	st;

	if (mkdir(dir, 0777) == -1 && errno != EEXIST) {
		*cause = xasprintf("--record %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		*cause = xasprintf("--record %s: not a directory", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		*cause = xasprintf("--record %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Prepares dir and, with answers, dir/answers. */
struct capture *
capture_new(const char *dir, int answers, char **cause)
{
	struct capture	*c;
	char		*adir = NULL;

	if (capture_mkdir(dir, cause) == -1)
		return NULL;
	if (answers) {
		adir = xasprintf("%s/%s", dir, CAPTURE_ANSWERS);
		if (capture_mkdir(adir, cause) == -1) {
			free(adir);
			return NULL;
		}
	}
	c = xcalloc(1, sizeof *c);
	c->dir = xstrdup(dir);
	c->answers_dir = adir;
	return c;
}

/* Frees; accepts NULL. */
void
capture_free(struct capture *c)
{
	if (c == NULL)
		return;
	free(c->dir);
	free(c->answers_dir);
	free(c);
}

/* The directory. */
const char *
capture_dir(const struct capture *c)
{
	return c->dir;
}

/* Whether answers are kept. */
int
capture_answers(const struct capture *c)
{
	return c->answers_dir != NULL;
}

/* Writes len bytes to dir/name through a dot-file and a rename, so a
 * corpus load never sees half a blob (it skips dot-files). */
static int
capture_write(struct capture *c, const char *dir, const char *name,
    const unsigned char *data, size_t len, char **cause)
{
	char	*tmp = xasprintf("%s/.tmp-%ld-%u-%s", dir, (long)getpid(),
		    c->tmp_seq++, name);
	char	*path = xasprintf("%s/%s", dir, name);
	int	 rc = util_write_atomic(tmp, path, data, len, cause);

	free(tmp);
	free(path);
	return rc;
}

/* Does dir/name exist? */
static int
capture_exists(const char *dir, const char *name)
{
	char		*path = xasprintf("%s/%s", dir, name);
	struct stat	 st;
	int		 rc = lstat(path, &st) == 0;

	free(path);
	return rc;
}

/* Keeps one stream and, if answers are kept, its answer. */
int
capture_add(struct capture *c, const unsigned char *data, size_t len,
    const unsigned char *answer, size_t alen, char name[CAPTURE_NAME_LEN + 1],
    char **cause)
{
	char	*aname;
	int	 rc;

	sha256_hex(data, len, name);
	if (capture_exists(c->dir, name))
		return 0;
	if (c->answers_dir != NULL) {
		/* The answer first: a blob never appears without it. */
		aname = xasprintf("%s%s", name, CAPTURE_ANSWER_SUFFIX);
		rc = capture_write(c, c->answers_dir, aname, answer, alen,
		    cause);
		free(aname);
		if (rc == -1)
			return -1;
	}
	if (capture_write(c, c->dir, name, data, len, cause) == -1)
		return -1;
	return 1;
}
