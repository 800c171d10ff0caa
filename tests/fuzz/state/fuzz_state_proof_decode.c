/* fuzz_state_proof_decode.c — state proofs are read from proof files and from
 * API answers that an untrusted server may forge (docs/state.md §4.2: strict
 * decoding). Whatever the bytes: state_proof_decode returns 0, VE_ERR_VERSION
 * or VE_ERR_MALFORMED; an accepted proof has depth ≤ 256, a non-empty last
 * sibling (when depth > 0), and re-encodes to exactly its own bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "state/state_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_zero(const uint8_t h[STATE_HASH_BYTES]) {
  uint8_t acc = 0;
  for (unsigned i = 0; i < STATE_HASH_BYTES; i++) acc |= h[i];
  return acc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  state_proof_t *p = malloc(sizeof *p); /* ~8 KiB */
  VE_ASSERT(p != NULL);
  int rc = state_proof_decode(p, ve_slice(data, size));
  VE_ASSERT(rc == VE_OK || rc == VE_ERR_VERSION || rc == VE_ERR_MALFORMED);
  if (rc == VE_OK) {
    VE_ASSERT(size <= STATE_PROOF_BYTES_MAX);
    VE_ASSERT(p->depth <= STATE_PROOF_DEPTH_MAX);
    VE_ASSERT(p->depth == 0 || !is_zero(p->sibling[p->depth - 1]));
    ve_buf_t out;
    ve_buf_init(&out, size + 1);
    VE_ASSERT(state_proof_encode(p, &out) == VE_OK);
    VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), ve_slice(data, size)));
    ve_buf_free(&out);
  }
  free(p);
  return 0;
}
