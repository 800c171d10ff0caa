/* fuzz_seed_file.h — for the seed writers (tests/fuzz/<module>/seeds.c): one
 * seed input written to <dir>/<name>/<file>. Exits with a message if the file
 * cannot be written (the writers are run by hand, from the command in their
 * CMakeLists.txt). */
#ifndef VECHE_TESTS_FUZZ_FUZZ_SEED_FILE_H
#define VECHE_TESTS_FUZZ_FUZZ_SEED_FILE_H

#include <stddef.h>
#include <stdint.h>

void fuzz_seed_file(const char *dir, const char *name, const char *file, const uint8_t *p, size_t n);

#endif
