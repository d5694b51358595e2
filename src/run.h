/*
 * The main run's shared state, and its messages (src/run_print.c): the
 * engine's hooks that print, the live line, the opening lines. Main-level
 * like main.c: these print; the modules below them never do.
 */
#ifndef STUTTERFUZZ_RUN_H
#define STUTTERFUZZ_RUN_H

#include <stdint.h>
#include <stdio.h>

#include <event2/event.h>

#include "engine.h"
#include "finding.h"
#include "json.h"
#include "net.h"

struct corpus;
struct options;
struct recorder;
struct summary;
struct target;

struct run {
	const struct options	*opt;
	const struct net_target	*target;
	uint64_t		 seed;
	int			 tty;		/* stderr is a terminal */
	int			 line_open;	/* a live line waits to be overwritten */
	unsigned		 hinted;	/* kinds whose reproduce line was shown */
	uint64_t		 printed[FINDING__COUNT];	/* finding lines per kind */
	struct recorder		*rec;
	int			 rec_failed;	/* a record could not be written */
	char			*options_json;
	FILE			*trace;
	struct jbuf		 trace_line;
	struct engine		*engine;	/* the one running, for signals */
	struct event_base	*base;
	struct engine_config	 cfg;		/* the engine to make when ready */
	struct engine_hooks	 hooks;
	struct net_target	*addr;		/* where the target answered */
	struct target		*proc;		/* supervised server, or NULL */
	char			*target_log;
	char			*startup_why;	/* the target never got ready */
	int			 interrupted;	/* a signal before the engine ran */
	uint64_t		 restarts;
	uint64_t		 ready_us;	/* the target last listened again,
						 * in the engine's time; 0: first */
	FILE			*stats_out;	/* --stats-file, or stderr */
	size_t			 cols;		/* the terminal's width */
	int			 output_failed;	/* a write to an output file */
	int			 trace_err;	/* first write error of --trace */
	int			 stats_err;	/* ... of --stats-file */
	struct corpus		*corpus;
	struct net_target	 where;		/* target and addr point here */
	struct event		*ev_int, *ev_term, *ev_winch;
	struct summary		*sum;		/* what the run found, for the outputs */
	FILE			*stats_keep;	/* DIR/stats-RUNID.jsonl */
	char			*stats_keep_path;
	int			 stats_keep_err;	/* its first write error */
};

/* Ends a live line on a terminal before other output. */
void		 run_break_line(struct run *r);

/* The command that sends connection `index` again, or replays its record
 * (allocated). */
char		*run_reproduce(struct run *r, uint64_t index, const char *record);

/* Prints how to send connection `index` again, or its record. */
void		 run_print_hint(struct run *r, uint64_t index,
		     const char *record);

/* Adds a finding to the run's summary model. */
void		 run_model_add(struct run *r, const struct finding *f,
		     const char *record);

/* Prints the last lines of the target's output, indented. */
void		 run_print_tail(struct run *r, int lines);

/* Writes the record of a finding; returns its file name or NULL. */
const char	*run_record(struct run *r, const struct finding *f,
		     const struct conn_report *conn,
		     const struct conn_report *suspects, size_t nsuspects);

/* Engine hooks (struct engine_hooks), arg being the struct run. */
int		 run_finding(void *arg, const struct finding *f,
		     const struct conn_report *conn,
		     const struct conn_report *suspects, size_t nsuspects);
void		 run_conn_done(void *arg, const struct conn_report *rep);
void		 run_local_fault(void *arg, const char *what, int err,
		     uint64_t count);
void		 run_notice(void *arg, const char *text);
void		 run_stats(void *arg, const struct stats *cur,
		     const struct stats_rates *rates);

/* SIGWINCH: the terminal changed its width. */
void		 run_winch(evutil_socket_t sig, short what, void *arg);

/* Says which pacing is in effect, once the engine chose it. */
void		 run_print_pace(struct run *r);

/* The lines that open a run: corpus, target, seed. */
void		 run_print_start(struct run *r);

/* run_summary.c: outputs checked before the run and closed after it, the
 * summary and the exit status it implies. */
int		 run_outputs_open(struct run *r, char **cause);
void		 run_outputs_close(struct run *r);
int		 run_summary(struct run *r, struct engine *e);

/* run_target.c: starts the supervised target; the engine starts once it
 * answers. */
int		 run_start_target(struct run *r, char **cause);

#endif
