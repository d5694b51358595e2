/*
 * Subcommands (stutterfuzz NAME ...): each lives in src/cmd_NAME.c with one
 * entry that gets argv from NAME on and returns the exit status. Like
 * main.c they are wiring: they print and choose exit codes.
 */
#ifndef STUTTERFUZZ_CMD_H
#define STUTTERFUZZ_CMD_H

struct output_paths;
struct summary;

#define CMD_EXIT_CLEAN		0
#define CMD_EXIT_FINDINGS	1
#define CMD_EXIT_USAGE		2
#define CMD_EXIT_RUNTIME	3

int	cmd_merge(int argc, char **argv);
int	cmd_report(int argc, char **argv);

/* Writes every output of p (and GitHub's, from the environment) from a
 * summary model, printing a line for each that fails; prints the GitHub
 * annotations to stdout in GitHub Actions. Returns the number that
 * failed. */
int	cmd_write_outputs(const struct summary *s, struct output_paths *p);

#endif
