/* fuzz_cons_valset.c — validator sets as stored in the ledger and carried in
 * genesis: rejected with a real error code, or a set that passes
 * cons_valset_check, re-encodes to exactly its bytes, and feeds the proposer
 * arithmetic (weighted round robin over up to VE_VALIDATORS_MAX powers of up to
 * 2^48) without overflow or an out-of-range proposer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "consensus/cons_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cons_valset_t *vs = malloc(sizeof *vs); /* ~10 KiB: off the fuzzer's stack */
  VE_ASSERT(vs != NULL);
  int rc = cons_valset_decode(vs, ve_slice(data, size));
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    free(vs);
    return 0;
  }
  VE_ASSERT(cons_valset_check(vs) == VE_OK);
  ve_buf_t out;
  ve_buf_init(&out, size + 1);
  VE_ASSERT(cons_valset_encode(&out, vs) == VE_OK);
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), ve_slice(data, size)));
  ve_buf_free(&out);

  uint8_t h[VCRYPTO_HASH_BYTES];
  cons_valset_hash(h, vs);
  VE_ASSERT(cons_valset_total_power(vs) >= vs->count);
  for (uint32_t i = 0; i < vs->count; i++) VE_ASSERT(cons_valset_find(vs, vs->v[i].pk) == (int)i);
  /* One cycle (building it is the costly part: up to 1152 steps over 128
   * validators); cons_proposer is this cycle indexed by height + round. */
  cons_cycle_t *c = malloc(sizeof *c);
  VE_ASSERT(c != NULL);
  cons_cycle_build(c, vs);
  VE_ASSERT(c->len >= vs->count && c->len <= sizeof c->slot);
  uint8_t seen[VE_VALIDATORS_MAX] = {0};
  for (uint32_t s = 0; s < c->len; s++) {
    VE_ASSERT(c->slot[s] < vs->count);
    seen[c->slot[s]] = 1;
  }
  for (uint32_t i = 0; i < vs->count; i++) VE_ASSERT(seen[i]); /* everyone gets a turn */
  free(c);
  free(vs);
  return 0;
}
