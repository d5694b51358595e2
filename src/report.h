/*
 * The HTML report of a findings directory: one self-contained page (inline
 * SVG and CSS, nothing fetched) with rates and boundary fidelity over time
 * from the runs' statistics lines, the findings on that timeline, the
 * corpus with each blob's cut coverage, and every distinct finding with
 * its reproduce command. Everything from records is HTML-escaped.
 */
#ifndef STUTTERFUZZ_REPORT_H
#define STUTTERFUZZ_REPORT_H

#include <stddef.h>
#include <stdio.h>

#define REPORT_MAX_POINTS	1000	/* points per plotted line */

struct summary;

/* One run's statistics lines: time since its start and the figures. */
struct report_series {
	char	*run_id;
	size_t	 n;
	double	*t;
	double	*conns;		/* conns/s */
	double	*frags;		/* frags/s */
	double	*fidelity;	/* < 0: not measured */
	double	*coverage;
};

/* What a report draws: the directory's model and its runs' series. */
struct report {
	struct summary		*sum;
	struct report_series	*series;
	size_t			 nseries;
};

/* Reads a findings directory. Returns NULL with *cause naming what is not
 * right (not a findings directory, a record that does not load, a stats
 * line that is not one). */
struct report	*report_load(const char *dir, char **cause);
void		 report_free(struct report *r);

/* Reads one run's statistics lines (text of len bytes) into a series.
 * Returns 0, or -1 with *cause naming the line. */
int		 report_parse_stats(struct report_series *rs, const char *text,
		     size_t len, char **cause);

/* Frees a series' contents (not the series); zeroes it. */
void		 report_series_clear(struct report_series *rs);

/* Writes s to f escaped for HTML text and attribute values. */
void		 report_escape(FILE *f, const char *s);

/* Writes the page for r, titled after dir. Returns 0, or -1 with *cause. */
int		 report_write(const struct report *r, const char *dir,
		     const char *path, char **cause);

#endif
