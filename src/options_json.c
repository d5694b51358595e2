/*
 * The options that shape cuts and pacing, as JSON through jansson (records
 * carry them). Apart from options.c only because json.h's own parser names
 * collide with jansson's; they can join once json.h is reduced to its buffer.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "options.h"
#include "util.h"

/* The options that shape cuts and pacing as a new JSON object. */
json_t *
options_json_object(const struct options *o, enum pace_mode pace)
{
	json_t	*obj = json_object();
	char	 shard[32];

	snprintf(shard, sizeof shard, "%u/%u", o->shard_k,
	    o->shard_n ? o->shard_n : 1);
	json_object_set_new(obj, "pace", json_string(options_pace_name(pace)));
	json_object_set_new(obj, "gap_us", json_integer(o->gap_us));
	json_object_set_new(obj, "cycle_ms", json_integer(o->cycle_ms));
	json_object_set_new(obj, "split",
	    json_string(plan_split_name(o->plan.split)));
	json_object_set_new(obj, "max_fragments",
	    json_integer(o->plan.max_fragments));
	json_object_set_new(obj, "fastopen_chance",
	    json_integer(o->plan.fastopen_chance));
	json_object_set_new(obj, "close_chance",
	    json_integer(o->plan.close_chance));
	json_object_set_new(obj, "num_conns", json_integer(o->num_conns));
	json_object_set_new(obj, "connect_timeout_ms",
	    json_integer((json_int_t)o->connect_timeout_ms));
	json_object_set_new(obj, "hang_timeout_ms",
	    json_integer((json_int_t)o->hang_timeout_ms));
	json_object_set_new(obj, "drain_timeout_ms",
	    json_integer((json_int_t)o->drain_timeout_ms));
	json_object_set_new(obj, "shard", json_string(shard));
	if (o->turns_arg != NULL)	/* the turn rule, as --turns took it */
		json_object_set_new(obj, "turns", json_string(o->turns_arg));
	return obj;
}

/* The same object as compact JSON text; free() it. */
char *
options_json(const struct options *o, enum pace_mode pace)
{
	json_t	*obj = options_json_object(o, pace);
	char	*s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(obj);
	if (s == NULL)
		s = xstrdup("{}");
	return s;
}

