/*
 * Capture: the streams a proxy saw, kept as a corpus. Each stream is one
 * file of the directory named by the SHA-256 of its bytes (so the same
 * stream twice is kept once), written through a temporary name and a
 * rename; the server's answer to it may be kept beside it, in the
 * subdirectory "answers" (which the corpus loader passes over).
 */
#ifndef STUTTERFUZZ_CAPTURE_H
#define STUTTERFUZZ_CAPTURE_H

#include <stddef.h>

#define CAPTURE_NAME_LEN	64		/* hex digits of a blob's name */
#define CAPTURE_ANSWERS		"answers"	/* subdirectory of the answers */
#define CAPTURE_ANSWER_SUFFIX	".answer"

struct capture;

/* Prepares dir (created if missing) and, with answers, dir/answers.
 * Returns NULL with *cause naming the directory and the reason. */
struct capture	*capture_new(const char *dir, int answers, char **cause);

/* Frees; accepts NULL. */
void		 capture_free(struct capture *c);

/* Keeps one stream (len bytes) and, if answers are kept, its answer.
 * name receives the blob's file name. Returns 1 written, 0 already in the
 * directory, -1 with *cause on an I/O error. */
int		 capture_add(struct capture *c, const unsigned char *data,
		     size_t len, const unsigned char *answer, size_t alen,
		     char name[CAPTURE_NAME_LEN + 1], char **cause);

/* The directory. */
const char	*capture_dir(const struct capture *c);

/* Whether answers are kept. */
int		 capture_answers(const struct capture *c);

#endif
