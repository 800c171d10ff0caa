/* cmd_audit.c — `veche audit`: re-verify a poll's ballots, tally and result. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_audit(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "veche: audit: not built yet in this version\n");
  return 2;
}
