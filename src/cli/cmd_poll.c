/* cmd_poll.c — `veche poll`: create polls, run trustee key generation, vote, tally. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_poll(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "veche: poll: not built yet in this version\n");
  return 2;
}
