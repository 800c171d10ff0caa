/* fuzz_seed_file.c — see fuzz_seed_file.h. */
#include "fuzz_seed_file.h"

#include <stdio.h>
#include <stdlib.h>

void fuzz_seed_file(const char *dir, const char *name, const char *file, const uint8_t *p, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/%s", dir, name, file);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s (does the directory exist?)\n", path);
    exit(1);
  }
}
