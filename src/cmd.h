/* Subcommands: each is main-level wiring with one entry point. */
#ifndef STUTTERFUZZ_CMD_H
#define STUTTERFUZZ_CMD_H

/* stutterfuzz proxy: argv[0] is "proxy". Returns the exit status. */
int	cmd_proxy(int argc, char **argv);

#endif
