/* Text helpers of the summary model (kept apart from jansson's header). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "stats.h"
#include "summary.h"
#include "util.h"

/* The cut as text. */
char *
summary_cut_text(const struct summary_finding *f)
{
	struct jbuf	b = { 0 };

	if (f->blob == NULL)
		return xstrdup("");
	for (uint32_t i = 0; i < f->ncut; i++)
		jbuf_printf(&b, "%s%" PRIu32, i ? "+" : "", f->cut[i]);
	if (f->ncut == 0)
		jbuf_printf(&b, "nothing sent");
	if (f->sent_bytes < f->blob_size)
		jbuf_printf(&b, " (%zu of %zu byte%s sent%s)", f->sent_bytes,
		    f->blob_size, f->blob_size == 1 ? "" : "s", f->early ?
		    ", closed early as planned" : "");
	else if (f->blob_size == 1)
		jbuf_printf(&b, " (1 byte)");
	else
		jbuf_printf(&b, " (all %zu bytes)", f->blob_size);
	return b.s;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t		need;
	uint32_t	cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/* A display form of s that is valid UTF-8. */
char *
summary_text(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s);
	struct jbuf		 b = { 0 };

	jbuf_append(&b, "", 0);
	while (n > 0) {
		size_t	l = utf8_len(p, n);

		if (l == 0) {
			jbuf_printf(&b, "\\x%02x", p[0]);
			l = 1;
		} else {
			jbuf_append(&b, (const char *)p, l);
		}
		p += l;
		n -= l;
	}
	if (b.s == NULL)
		return xstrdup("");
	return b.s;
}
