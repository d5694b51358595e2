/*
 * Subcommands. main() dispatches on argv[1]; each subcommand other than the
 * main run lives in src/cmd_NAME.c with one entry point, called with argv[0]
 * being the subcommand's name. Like main.c, a cmd_*.c is wiring: it may
 * print and chooses the exit code (0 clean, 1 findings, 2 usage, 3 runtime).
 */
#ifndef STUTTERFUZZ_CMD_H
#define STUTTERFUZZ_CMD_H

#define EXIT_CLEAN	0
#define EXIT_FINDINGS	1
#define EXIT_USAGE	2
#define EXIT_RUNTIME	3

struct options;
struct output_paths;
struct summary;

/* stutterfuzz replay RECORD [OPTION]...: send a record's connections again. */
int	cmd_replay(int argc, char **argv);
/* The same, with the options parsed (--replay=RECORD). */
int	cmd_replay_options(struct options *o);
/* stutterfuzz minimize RECORD [OPTION]... [-- SERVER-COMMAND...]: shrink
 * a record to the connections, cuts and bytes its fault needs. */
int	cmd_minimize(int argc, char **argv);

/* stutterfuzz merge --output=DIR DIR...: unite findings directories. */
int	cmd_merge(int argc, char **argv);

/* stutterfuzz report DIR --output=FILE.html: one page about a findings dir. */
int	cmd_report(int argc, char **argv);

/* Writes every output of p (and GitHub's, from the environment) from a
 * summary model, printing a line for each that fails; prints the GitHub
 * annotations to stdout in GitHub Actions. Returns the number that
 * failed. */
int	cmd_write_outputs(const struct summary *s, struct output_paths *p);

/* stutterfuzz proxy --listen=[HOST:]PORT --to=HOST:PORT [OPTION]...
 * [-- COMMAND...]: forward, record and cut connections to a server. */
int	cmd_proxy(int argc, char **argv);

#endif
