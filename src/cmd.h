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

/* stutterfuzz replay RECORD [OPTION]...: send a record's connections again. */
int	cmd_replay(int argc, char **argv);
/* The same, with the options parsed (--replay=RECORD). */
int	cmd_replay_options(struct options *o);

#endif
