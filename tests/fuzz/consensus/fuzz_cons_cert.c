/* fuzz_cons_cert.c — commit certificates, which peers send inside DECISION
 * messages and which blocks carry for the previous height.
 *
 * Whatever the bytes: cons_cert_decode returns 0 or a real error code and agrees
 * with cons_cert_info; an accepted certificate re-encodes to exactly its bytes.
 * Every input is also verified against a fixed set of four validators made from
 * seeded keys (powers 1, 2, 3, 4), at its own height and id so that the checks
 * go past the header: the result is 0 or one of the errors cons_cert_verify
 * documents, never a crash. A verifier that accepts every signature shows the
 * quorum arithmetic on its own (fast); the real verifier (at most four Ed25519
 * checks) runs only once the claimed power is a quorum. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "consensus/cons_int.h"
#include "fuzz_cons_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static cons_valset_t g_vs;
static bool g_ready;

static void setup(void) {
  fuzz_cons_valset(&g_vs, true);
  g_ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ready) setup();
  ve_slice_t in = ve_slice(data, size);
  cons_cert_t *c = malloc(sizeof *c); /* ~12 KiB */
  VE_ASSERT(c != NULL);
  int rc = cons_cert_decode(in, c);
  cons_cert_info_t info;
  VE_ASSERT(cons_cert_info(in, &info) == rc);
  uint8_t zero_id[CONS_ID_BYTES] = {0};
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    int vrc = cons_cert_verify(&g_vs, FUZZ_CONS_CHAIN, 1, zero_id, in);
    VE_ASSERT(vrc == rc); /* the verifier refuses what the decoder refuses, alike */
    free(c);
    return 0;
  }
  VE_ASSERT(info.height == c->height && info.round == c->round && info.count == c->count);
  VE_ASSERT(memcmp(info.id, c->id, CONS_ID_BYTES) == 0);
  VE_ASSERT(c->count >= 1 && c->count <= VE_VALIDATORS_MAX);
  ve_buf_t out;
  ve_buf_init(&out, size + 1);
  VE_ASSERT(cons_cert_encode(&out, c) == VE_OK);
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), in));
  ve_buf_free(&out);

  /* Quorum arithmetic alone: accepted iff every index is in the set and the
   * signers hold more than 2/3 of the power (10 in total: 7 or more). */
  bool in_set = true;
  uint64_t power = 0;
  for (uint32_t i = 0; i < c->count; i++) {
    if (c->sigs[i].index >= FUZZ_CONS_VALIDATORS) in_set = false;
    else power += g_vs.v[c->sigs[i].index].power;
  }
  int want = !in_set ? VE_ERR_INVALID : power * 3 > 2 * 10 ? VE_OK : VE_ERR_QUORUM;
  rc = cons_cert_verify_with(&g_vs, FUZZ_CONS_CHAIN, c->height, c->id, in, fuzz_cons_accept_all, NULL);
  VE_ASSERT(rc == want);
  if (c->height < CONS_HEIGHT_MAX)
    VE_ASSERT(cons_cert_verify(&g_vs, FUZZ_CONS_CHAIN, c->height + 1, c->id, in) == VE_ERR_HEIGHT);
  if (want == VE_OK) {
    rc = cons_cert_verify(&g_vs, FUZZ_CONS_CHAIN, c->height, c->id, in);
    VE_ASSERT(rc == VE_OK || rc == VE_ERR_BAD_SIG);
  }
  free(c);
  return 0;
}
