/*
 * Statistics as JSON through jansson (stats lines, the summary's totals).
 * Apart from stats.c only because json.h's own parser names collide with
 * jansson's; they can join once json.h is reduced to its buffer.
 */
#include <math.h>
#include <stdlib.h>

#include <jansson.h>

#include "stats.h"
#include "util.h"

/* Sets one "name":value member of a JSON object. */
static void
json_emit(void *arg, const char *name, enum stats_type type, double value)
{
	json_t	*obj = arg;

	if (type == STATS_RATIO && value < 0)
		json_object_set_new(obj, name, json_null());
	else if (type == STATS_RATIO)
		json_object_set_new(obj, name,
		    json_real(round(value * 10000) / 10000));
	else
		json_object_set_new(obj, name, json_integer(value < 0 ? 0 :
		    (json_int_t)llround(value)));
}

/* The figures as a new JSON object. */
json_t *
stats_json(const struct stats *cur, const struct stats_rates *r)
{
	json_t	*obj = json_object();

	json_object_set_new(obj, "seconds",
	    json_real(round(r->seconds * 1000) / 1000));
	stats_visit(cur, r, json_emit, obj);
	json_object_set_new(obj, "fragments",
	    json_integer((json_int_t)cur->fragments));
	json_object_set_new(obj, "bytes", json_integer((json_int_t)cur->bytes));
	json_object_set_new(obj, "conns_completed",
	    json_integer((json_int_t)cur->conns_completed));
	return obj;
}

/* The figures as one line of compact JSON (no newline); free() it. */
char *
stats_json_line(const struct stats *cur, const struct stats_rates *r)
{
	json_t	*obj = stats_json(cur, r);
	char	*s = json_dumps(obj, STATS_JSON_FLAGS);

	json_decref(obj);
	if (s == NULL)
		s = xstrdup("{}");
	return s;
}

