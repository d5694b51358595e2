/*
 * JUnit XML over the summary model: one test suite per run (or merge), one
 * test case per finding kind, a failure for each kind that fails the run
 * and was found, with its records, blobs, cuts and reproduce commands; the
 * run's figures as properties. Validates against the Ant JUnit schema.
 */
#ifndef STUTTERFUZZ_JUNIT_H
#define STUTTERFUZZ_JUNIT_H

struct jbuf;
struct summary;

/* Appends s escaped for XML text or an attribute value: markup characters
 * as entities, control characters XML cannot carry as \xNN. */
void	 junit_escape(struct jbuf *b, const char *s);

/* The JUnit XML document (allocated). */
char	*junit_xml(const struct summary *s);

#endif
