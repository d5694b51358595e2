/*
 * Subcommands: `stutterfuzz NAME ...` runs cmd_NAME(argc - 1, argv + 1),
 * so argv[0] is the subcommand's name. Like main.c, they are wiring: they
 * may print and they choose the exit status.
 */
#ifndef STUTTERFUZZ_CMD_H
#define STUTTERFUZZ_CMD_H

/* stutterfuzz minimize RECORD [options] [-- SERVER-COMMAND...] */
int	cmd_minimize(int argc, char **argv);

#endif
