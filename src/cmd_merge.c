/* stutterfuzz merge (placeholder until written). */
#include "cmd.h"
int cmd_merge(int argc, char **argv) { (void)argc; (void)argv; return 2; }
