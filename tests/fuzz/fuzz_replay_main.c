/* fuzz_replay_main.c — runs a libFuzzer harness over files without libFuzzer,
 * so a fuzz corpus doubles as a regression test in ordinary (gcc, sanitizer)
 * builds. Usage: <harness> FILE_OR_DIR... — every regular file is fed to
 * LLVMFuzzerTestOneInput once; a harness failure aborts. Fails if no input was
 * found, so a missing corpus is noticed. Inputs above REPLAY_INPUT_BYTES_MAX
 * are refused (a corpus holds small inputs). */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_INPUT_BYTES_MAX (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, unsigned *count) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return -1;
  }
  static uint8_t buf[REPLAY_INPUT_BYTES_MAX + 1];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  if (n > REPLAY_INPUT_BYTES_MAX) {
    fprintf(stderr, "replay: %s is larger than %d bytes\n", path, REPLAY_INPUT_BYTES_MAX);
    return -1;
  }
  /* Copy to an exact-size heap block so ASan sees reads past the end. */
  uint8_t *exact = malloc(n ? n : 1);
  if (!exact) return -1;
  memcpy(exact, buf, n);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  (*count)++;
  return 0;
}

static int replay_path(const char *path, unsigned *count) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: no such file or directory: %s\n", path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) return replay_file(path, count);
  DIR *d = opendir(path);
  if (!d) return -1;
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", path, e->d_name);
    if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) rc = replay_file(full, count);
  }
  closedir(d);
  return rc;
}

int main(int argc, char **argv) {
  unsigned count = 0;
  for (int i = 1; i < argc; i++)
    if (replay_path(argv[i], &count) != 0) return 1;
  printf("replayed %u inputs\n", count);
  return count > 0 ? 0 : 1;
}
