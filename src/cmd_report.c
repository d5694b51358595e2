/* stutterfuzz report (placeholder until written). */
#include "cmd.h"
int cmd_report(int argc, char **argv) { (void)argc; (void)argv; return 2; }
