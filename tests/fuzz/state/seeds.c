/* seeds.c — writes the state proof harnesses' seed corpus: real proofs from
 * the map of fuzz_state_map.h (present key, absent key, every key of the map),
 * the same files into state_proof_decode/ and state_proof_verify/.
 *
 *   cmake --build <fuzz build> --target fuzz_state_seeds
 *   <fuzz build>/tests/fuzz/state/fuzz_state_seeds tests/fuzz/state/corpus */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_state_map.h"
#include "fuzz_seed_file.h"

static void put(const char *dir, const char *name, const char *file, const ve_buf_t *b) {
  fuzz_seed_file(dir, name, file, b->ptr, b->len);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <corpus dir holding state_proof_decode/ state_proof_verify/>\n",
            argv[0]);
    return 2;
  }
  uint8_t root[STATE_HASH_BYTES];
  store_t *s = fuzz_state_map_open(root);
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(s, false, &t) == VE_OK);
  const char *keys[] = {KEY_PRESENT, KEY_ABSENT, "key-0", "key-1", "key-5", "nope"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    bool present;
    ve_buf_t proof;
    ve_buf_init(&proof, 0);
    ve_slice_t key = ve_slice(keys[i], strlen(keys[i]));
    VE_ASSERT(state_prove(t, 1, key, &present, NULL, &proof) == VE_OK);
    VE_ASSERT(state_proof_verify(root, key, NULL, ve_buf_slice(&proof)) ==
              (present ? VE_ERR_PROOF : VE_OK));
    put(argv[1], "state_proof_decode", keys[i], &proof);
    put(argv[1], "state_proof_verify", keys[i], &proof);
    ve_buf_free(&proof);
  }
  store_txn_abort(t);
  store_close(s);
  return 0;
}
