/* fuzz_cons_evidence.c — equivocation evidence, which anyone can put on the
 * ledger and every node then checks.
 *
 * Whatever the bytes: cons_evidence_info returns 0 or a real error code, and
 * cons_evidence_verify against a fixed set of four seeded validators returns
 * the same decoding error or one of 0, VE_ERR_UNKNOWN_SIGNER, VE_ERR_BAD_SIG.
 * Accepted evidence is canonical: the harness reads its two signed messages
 * back out (a second, independent reading of docs/consensus.md's layout) and
 * the module's encoder must give exactly the input bytes again. With a verifier
 * that accepts every signature, accepted evidence verifies iff its key is in
 * the set; that runs first and cheaply, the two real Ed25519 checks only for a
 * member's key. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "consensus/cons_int.h"
#include "fuzz_cons_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static cons_valset_t g_vs;
static bool g_ready;

static void setup(void) {
  fuzz_cons_valset(&g_vs, false);
  g_ready = true;
}

/* Re-encodes accepted evidence from the harness's own reading of its bytes. */
static void check_reencodes(ve_slice_t in, const cons_evidence_info_t *info) {
  codec_reader_t r;
  codec_reader_init(&r, in);
  VE_ASSERT(codec_get_u8(&r) == CONS_WIRE_VERSION);
  VE_ASSERT(codec_get_u8(&r) == info->kind);
  VE_ASSERT(codec_get_uvarint(&r) == info->height);
  VE_ASSERT(codec_get_uvarint(&r) == info->round);
  uint8_t pk[VCRYPTO_PK_BYTES];
  codec_get_fixed(&r, pk, sizeof pk);
  VE_ASSERT(memcmp(pk, info->pk, sizeof pk) == 0);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  if (info->kind == CONS_EVIDENCE_VOTE) {
    VE_ASSERT(codec_get_u8(&r) == info->type);
    cons_vote_t v[2];
    memset(v, 0, sizeof v);
    for (int i = 0; i < 2; i++) {
      v[i].height = info->height;
      v[i].round = info->round;
      v[i].type = info->type;
      v[i].has_id = codec_get_bool(&r);
      if (v[i].has_id) codec_get_fixed(&r, v[i].id, CONS_ID_BYTES);
      codec_get_fixed(&r, v[i].sig, VCRYPTO_SIG_BYTES);
    }
    VE_ASSERT(codec_reader_finish(&r) == VE_OK);
    /* Either order: the encoder puts the pair in canonical order. */
    VE_ASSERT(cons_evidence_vote_encode(&out, pk, &v[1], &v[0]) == VE_OK);
  } else {
    VE_ASSERT(info->kind == CONS_EVIDENCE_PROPOSAL && info->type == 0);
    cons_proposal_t p[2];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 2; i++) {
      p[i].height = info->height;
      p[i].round = info->round;
      p[i].pol_round = (int64_t)codec_get_uvarint(&r) - 1;
      VE_ASSERT(p[i].pol_round < (int64_t)info->round);
      codec_get_fixed(&r, p[i].id, CONS_ID_BYTES);
      codec_get_fixed(&r, p[i].sig, VCRYPTO_SIG_BYTES);
    }
    VE_ASSERT(codec_reader_finish(&r) == VE_OK);
    VE_ASSERT(cons_evidence_proposal_encode(&out, pk, &p[1], &p[0]) == VE_OK);
  }
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), in));
  ve_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ready) setup();
  ve_slice_t in = ve_slice(data, size);
  cons_evidence_info_t info;
  int rc = cons_evidence_info(in, &info);
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    VE_ASSERT(cons_evidence_verify(&g_vs, FUZZ_CONS_CHAIN, in) == rc);
    return 0;
  }
  VE_ASSERT(size <= CONS_EVIDENCE_BYTES_MAX);
  VE_ASSERT(info.height >= 1 && info.height <= CONS_HEIGHT_MAX && info.round <= CONS_ROUND_MAX);
  check_reencodes(in, &info);

  bool member = cons_valset_find(&g_vs, info.pk) >= 0;
  rc = cons_evidence_verify_with(&g_vs, FUZZ_CONS_CHAIN, in, fuzz_cons_accept_all, NULL);
  VE_ASSERT(rc == (member ? VE_OK : VE_ERR_UNKNOWN_SIGNER));
  rc = cons_evidence_verify(&g_vs, FUZZ_CONS_CHAIN, in);
  VE_ASSERT(member ? rc == VE_OK || rc == VE_ERR_BAD_SIG : rc == VE_ERR_UNKNOWN_SIGNER);
  return 0;
}
