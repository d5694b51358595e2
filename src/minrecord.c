/* Minimal records: a record file with its connections replaced. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "minrecord.h"
#include "record.h"
#include "util.h"

/* The server command the record holds. */
char **
minrecord_command(const char *path)
{
	json_t	*j = json_load_file(path, 0, NULL), *cmd;
	char	**argv = NULL;
	size_t	  n;

	cmd = json_object_get(json_object_get(j, "target_process"), "command");
	n = json_array_size(cmd);
	for (size_t i = 0; i < n; i++) {
		if (json_string_value(json_array_get(cmd, i)) == NULL)
			n = 0;
	}
	if (n > 0) {
		argv = xcalloc(n + 1, sizeof *argv);
		for (size_t i = 0; i < n; i++)
			argv[i] = xstrdup(json_string_value(
			    json_array_get(cmd, i)));
	}
	json_decref(j);
	return argv;
}

/* Frees a command. */
void
minrecord_command_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

/* Parses one JSON object's text, or NULL with *cause. */
static json_t *
minrecord_parse(const char *text, char **cause)
{
	json_error_t	 je;
	json_t		*j = json_loads(text, 0, &je);

	if (j == NULL || !json_is_object(j)) {
		*cause = xasprintf("cannot format the record: %s", j == NULL ?
		    je.text : "not an object");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Writes the whole text to path through a temporary file. */
static int
minrecord_save(const char *path, const char *text, char **cause)
{
	char	*tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
	FILE	*f = fopen(tmp, "we");
	size_t	 len = strlen(text);
	int	 ok;

	if (f == NULL) {
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	ok = fwrite(text, 1, len, f) == len;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* Writes the record at in_path, its connections replaced, to out_path. */
int
minrecord_write(const char *in_path, const char *out_path,
    const char *const *conns, size_t n, int culprit, const char *note,
    char **cause)
{
	json_error_t	 je;
	json_t		*j = json_load_file(in_path, 0, &je), *sus, *v;
	char		*text;
	int		 rc;

	if (j == NULL || !json_is_object(j)) {
		*cause = xasprintf("%s: %s", in_path, j == NULL ? je.text :
		    "not a JSON object");
		json_decref(j);
		return -1;
	}
	sus = json_array();
	json_object_set_new(j, "connection", json_null());
	for (size_t i = 0; i < n; i++) {
		if ((v = minrecord_parse(conns[i], cause)) == NULL)
			goto fail;
		if (culprit && i == 0)
			json_object_set_new(j, "connection", v);
		else
			json_array_append_new(sus, v);
	}
	json_object_set_new(j, "suspects", sus);
	sus = NULL;
	/* The connections are in the format this version writes. */
	json_object_set_new(j, "format_version",
	    json_integer(RECORD_FORMAT_VERSION));
	if ((v = minrecord_parse(note, cause)) == NULL)
		goto fail;
	json_object_set_new(j, "minimized", v);
	text = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (text == NULL) {
		*cause = xasprintf("%s: cannot format the record", out_path);
		return -1;
	}
	rc = minrecord_save(out_path, text, cause);
	free(text);
	return rc;
fail:
	json_decref(sus);
	json_decref(j);
	return -1;
}
