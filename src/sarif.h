/*
 * SARIF 2.1.0 over the summary model, within the subset GitHub code
 * scanning documents: one rule per finding kind, one result per distinct
 * finding with its blob as the artifact (a finding of the target itself
 * points at its record), the cut and the reproduce command in the message,
 * a partial fingerprint so repeated uploads do not duplicate alerts.
 */
#ifndef STUTTERFUZZ_SARIF_H
#define STUTTERFUZZ_SARIF_H

struct summary;

/* prefix, then s percent-encoded as a URI path (unreserved characters and
 * '/' kept). Allocated. */
char	*sarif_uri_path(const char *prefix, const char *s);

/* The SARIF log as JSON text (allocated). */
char	*sarif_json(const struct summary *s);

#endif
