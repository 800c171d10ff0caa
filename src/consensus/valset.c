/* valset.c — validator sets: checks, canonical encoding and hash, and the
 * weighted proposer cycle.
 *
 * Proposer selection must be a deterministic function every node computes alike
 * and must give each validator turns in proportion to its power, so that after a
 * run of faulty proposers an honest one comes within a bounded number of rounds.
 * We use smooth weighted round robin (each step: every validator gains its weight,
 * the richest is picked and pays the total): over one cycle of W = sum of weights
 * steps each validator is picked exactly weight times and picks are spread evenly.
 * The cycle is a pure function of the set, and (height + round) indexes it, so no
 * state carries between heights (which keeps recovery trivial). Powers are scaled
 * down to at most CONS_PROPOSER_SLOTS_MAX slots (each validator keeps at least one).
 */
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "consensus/cons_int.h"

int cons_valset_check(const cons_valset_t *vs) {
  if (vs->count == 0 || vs->count > VE_VALIDATORS_MAX) return VE_ERR_INVALID;
  for (uint32_t i = 0; i < vs->count; i++) {
    if (vs->v[i].power == 0 || vs->v[i].power > CONS_POWER_MAX) return VE_ERR_INVALID;
    for (uint32_t j = 0; j < i; j++)
      if (memcmp(vs->v[i].pk, vs->v[j].pk, VCRYPTO_PK_BYTES) == 0) return VE_ERR_DUPLICATE;
  }
  return VE_OK;
}

int cons_valset_encode(ve_buf_t *out, const cons_valset_t *vs) {
  VE_TRY(cons_valset_check(vs));
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, CONS_WIRE_VERSION);
  codec_put_uvarint(&w, vs->count);
  for (uint32_t i = 0; i < vs->count; i++) {
    codec_put_fixed(&w, vs->v[i].pk, VCRYPTO_PK_BYTES);
    codec_put_uvarint(&w, vs->v[i].power);
  }
  return codec_writer_finish(&w);
}

int cons_valset_decode(cons_valset_t *out, ve_slice_t in) {
  codec_reader_t r;
  codec_reader_init(&r, in);
  memset(out, 0, sizeof *out);
  if (codec_get_u8(&r) != CONS_WIRE_VERSION) codec_fail(&r, VE_ERR_VERSION);
  size_t n = codec_get_count(&r, VE_VALIDATORS_MAX, VCRYPTO_PK_BYTES + 1);
  for (size_t i = 0; i < n && !r.err; i++) {
    codec_get_fixed(&r, out->v[i].pk, VCRYPTO_PK_BYTES);
    out->v[i].power = codec_get_uvarint_max(&r, CONS_POWER_MAX);
  }
  out->count = (uint32_t)n;
  VE_TRY(codec_reader_finish(&r));
  int rc = cons_valset_check(out);
  return rc == VE_ERR_DUPLICATE ? VE_ERR_INVALID : rc;
}

void cons_valset_hash(uint8_t out[VCRYPTO_HASH_BYTES], const cons_valset_t *vs) {
  ve_buf_t b;
  ve_buf_init(&b, CONS_VALSET_BYTES_MAX);
  int rc = cons_valset_encode(&b, vs);
  VE_ASSERT(rc == 0);
  vcrypto_hash(out, CONS_TAG_VALSET, b.ptr, b.len);
  ve_buf_free(&b);
}

uint64_t cons_valset_total_power(const cons_valset_t *vs) {
  uint64_t t = 0;
  for (uint32_t i = 0; i < vs->count; i++) t += vs->v[i].power;
  return t;
}

int cons_valset_find(const cons_valset_t *vs, const uint8_t pk[VCRYPTO_PK_BYTES]) {
  for (uint32_t i = 0; i < vs->count; i++)
    if (memcmp(vs->v[i].pk, pk, VCRYPTO_PK_BYTES) == 0) return (int)i;
  return -1;
}

void cons_cycle_build(cons_cycle_t *c, const cons_valset_t *vs) {
  VE_ASSERT(vs->count >= 1 && vs->count <= VE_VALIDATORS_MAX);
  uint64_t total = cons_valset_total_power(vs);
  int64_t w[VE_VALIDATORS_MAX];
  int64_t cur[VE_VALIDATORS_MAX];
  int64_t sum = 0;
  for (uint32_t i = 0; i < vs->count; i++) {
    uint64_t p = vs->v[i].power;
    if (total > CONS_PROPOSER_SLOTS_MAX) p = p * CONS_PROPOSER_SLOTS_MAX / total;
    w[i] = p ? (int64_t)p : 1;
    cur[i] = 0;
    sum += w[i];
  }
  VE_ASSERT(sum >= 1 && (size_t)sum <= sizeof c->slot);
  c->len = (uint32_t)sum;
  for (int64_t s = 0; s < sum; s++) {
    uint32_t best = 0;
    for (uint32_t i = 0; i < vs->count; i++) {
      cur[i] += w[i];
      if (cur[i] > cur[best]) best = i;
    }
    cur[best] -= sum;
    c->slot[s] = (uint8_t)best;
  }
}

uint32_t cons_proposer(const cons_valset_t *vs, uint64_t height, uint32_t round) {
  cons_cycle_t c;
  cons_cycle_build(&c, vs);
  return cons_cycle_proposer(&c, height, round);
}

bool cons_valset_equal(const cons_valset_t *a, const cons_valset_t *b) {
  if (a->count != b->count) return false;
  for (uint32_t i = 0; i < a->count; i++)
    if (a->v[i].power != b->v[i].power || memcmp(a->v[i].pk, b->v[i].pk, VCRYPTO_PK_BYTES) != 0)
      return false;
  return true;
}
