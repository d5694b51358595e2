/* Findings: faults of the target, as events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "util.h"

static const char *kind_names[FINDING__COUNT] = {
	[FINDING_REFUSED] = "refused",
	[FINDING_CONNECT_TIMEOUT] = "connect-timeout",
	[FINDING_RESET] = "reset",
	[FINDING_HANG] = "hang",
	[FINDING_TARGET_EXIT] = "target-exit",
	[FINDING_TARGET_REPORT] = "target-report",
	[FINDING_MISMATCH] = "mismatch",
};

/* Short name of a kind. */
const char *
finding_kind_name(enum finding_kind k)
{
	if (k >= FINDING__COUNT)
		return "unknown";
	return kind_names[k];
}

/* The kind named `name`, or FINDING__COUNT. */
enum finding_kind
finding_kind_from_name(const char *name)
{
	for (int k = 0; k < FINDING__COUNT; k++) {
		if (strcmp(name, kind_names[k]) == 0)
			return (enum finding_kind)k;
	}
	return FINDING__COUNT;
}

/* Mask for one word of a kind list, or 0 if the word means nothing. */
static unsigned
finding_word_mask(const char *word, size_t len)
{
	static const struct {
		const char	*name;
		unsigned	 mask;
	} groups[] = {
		{ "connect", FINDING_MASK_CONNECT },
		{ "target", FINDING_MASK_TARGET },
		{ "all", FINDING_MASK_ALL },
	};

	for (int k = 0; k < FINDING__COUNT; k++) {
		if (strlen(kind_names[k]) == len &&
		    strncmp(word, kind_names[k], len) == 0)
			return FINDING_BIT(k);
	}
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
		if (strlen(groups[i].name) == len &&
		    strncmp(word, groups[i].name, len) == 0)
			return groups[i].mask;
	}
	return 0;
}

/* Parses a comma-separated list of kinds into a mask. */
int
finding_parse_kinds(const char *list, unsigned *mask, char **cause)
{
	const char	*p = list;
	unsigned	 m = 0;

	if (strcmp(list, "none") == 0) {
		*mask = 0;
		return 0;
	}
	for (;;) {
		size_t		len = strcspn(p, ",");
		unsigned	bits = finding_word_mask(p, len);

		if (bits == 0) {
			*cause = xasprintf("'%.*s' is not a finding kind (use "
			    "refused, connect-timeout, reset, hang, target-exit, "
			    "target-report, connect, target, all or none)", (int)len, p);
			return -1;
		}
		m |= bits;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*mask = m;
	return 0;
}

