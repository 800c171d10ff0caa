/* fuzz_state_proof_verify.c — an offline verifier fed a hostile proof file.
 *
 * The root is that of a real map (fuzz_state_map.h); the input is the proof.
 * For every input, state_proof_verify returns 0, VE_ERR_PROOF, VE_ERR_MALFORMED
 * or VE_ERR_VERSION, refuses exactly the bytes state_proof_decode refuses, with
 * the same code, and is sound: only true claims about the map can verify —
 * KEY_PRESENT with its value, KEY_ABSENT as absent — never KEY_PRESENT absent
 * or with another value, nor KEY_ABSENT with a value (that would need a hash
 * collision, or a verifier bug). Limits on key and value are checked first. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fuzz_state_map.h"
#include "state/state_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t g_root[STATE_HASH_BYTES];
static bool g_ready;

static ve_slice_t str(const char *s) { return ve_slice(s, strlen(s)); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ready) {
    store_close(fuzz_state_map_open(g_root));
    g_ready = true;
  }
  ve_slice_t proof = ve_slice(data, size);
  state_proof_t *p = malloc(sizeof *p);
  VE_ASSERT(p != NULL);
  int drc = state_proof_decode(p, proof);
  free(p);

  ve_slice_t present = str(KEY_PRESENT), absent = str(KEY_ABSENT);
  ve_slice_t value = str(VALUE_PRESENT), other = str("value-3x");
  int rc = state_proof_verify(g_root, present, &value, proof);
  if (drc != VE_OK) {
    VE_ASSERT(rc == drc);
  } else {
    VE_ASSERT(rc == VE_OK || rc == VE_ERR_PROOF);
    int wrong[3] = {state_proof_verify(g_root, present, NULL, proof),
                    state_proof_verify(g_root, present, &other, proof),
                    state_proof_verify(g_root, absent, &value, proof)};
    for (int i = 0; i < 3; i++) VE_ASSERT(wrong[i] == VE_ERR_PROOF);
    rc = state_proof_verify(g_root, absent, NULL, proof);
    VE_ASSERT(rc == VE_OK || rc == VE_ERR_PROOF);
  }
  /* Out-of-limit claims are refused before the proof is looked at. */
  VE_ASSERT(state_proof_verify(g_root, ve_slice(data, 0), NULL, proof) == VE_ERR_INVALID);
  return 0;
}
