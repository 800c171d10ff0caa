/* cmd_doc.c — `veche doc`: register, share, fetch and verify documents. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_doc(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "veche: doc: not built yet in this version\n");
  return 2;
}
