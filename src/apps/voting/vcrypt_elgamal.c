/* vcrypt_elgamal.c — keys, generators, contexts, exponential ElGamal and the
 * per-poll election context.
 *
 * Encryption of a count m under Y with randomness r is (rG, mG + rY). The
 * message sits in the exponent, so ciphertexts add (homomorphic tally) and
 * decryption yields mG, from which m is found by a bounded discrete log
 * (vcrypt_dlog.c). Encryption touches r and m, so it runs on libsodium's
 * constant-time operations; ciphertext sums and checks are public and use the
 * fast engine.
 */
#include <string.h>

#include "base/err.h"
#include "apps/voting/vcrypt_int.h"

_Static_assert(sizeof(vote_election_priv_t) <= sizeof(((vote_election_t *)0)->priv_),
               "VOTE_ELECTION_PRIV_WORDS too small");
_Static_assert(sizeof(vote_fe_t) == 40, "field element layout");

int vote_init(void) { return sodium_init() < 0 ? VE_ERR_CRYPTO : VE_OK; }

void vote_keypair_from_seed(vote_keypair_t *kp, const uint8_t seed[VOTE_SEED_BYTES]) {
  vote_tr_t t;
  vote_tr_init(&t, VOTE_TAG_KEYGEN);
  vote_tr_raw(&t, seed, VOTE_SEED_BYTES);
  vote_tr_challenge(&t, kp->sk);
  sodium_memzero(&t, sizeof t);
  if (vote_sc_is_zero(kp->sk)) kp->sk[0] = 1; /* probability 2^-252 */
  vote_sod_mul_base(kp->pk, kp->sk);
}

void vote_keypair_wipe(vote_keypair_t *kp) { sodium_memzero(kp, sizeof *kp); }

int vote_pk_check(const uint8_t pk[VOTE_POINT_BYTES]) {
  vote_ge_t p;
  return vote_point_decode(&p, pk, false) == VE_OK ? VE_OK : VE_ERR_BAD_KEY;
}

void vote_generator_h(uint8_t h[VOTE_POINT_BYTES]) {
  uint8_t d[64];
  size_t tl = strlen(VOTE_TAG_GEN_H);
  uint8_t in[1 + 64];
  in[0] = (uint8_t)tl;
  memcpy(in + 1, VOTE_TAG_GEN_H, tl);
  crypto_generichash(d, sizeof d, in, 1 + tl, NULL, 0);
  crypto_core_ristretto255_from_hash(h, d);
}

int vote_pedersen_commit(uint8_t out[VOTE_POINT_BYTES], const uint8_t v[VOTE_SCALAR_BYTES],
                         const uint8_t b[VOTE_SCALAR_BYTES]) {
  if (!vote_sc_is_canonical(v) || !vote_sc_is_canonical(b)) return VE_ERR_NONCANONICAL;
  uint8_t h[32], vg[32], bh[32];
  vote_generator_h(h);
  vote_sod_mul_base(vg, v);
  vote_sod_mul(bh, b, h);
  vote_sod_add(out, vg, bh);
  sodium_memzero(vg, sizeof vg);
  sodium_memzero(bh, sizeof bh);
  return VE_OK;
}

void vote_context_make(uint8_t out[32], const char *chain_id, const uint8_t poll_id[32],
                       const uint8_t party[32]) {
  vote_tr_t t;
  vote_tr_init(&t, VOTE_TAG_CONTEXT);
  vote_tr_blob(&t, (const uint8_t *)chain_id, strlen(chain_id));
  vote_tr_blob(&t, poll_id, 32);
  vote_tr_blob(&t, party, 32);
  vote_tr_digest(&t, out);
}

/* ---- ElGamal ---- */

int vote_encrypt(uint8_t ct[VOTE_CT_BYTES], const uint8_t pk[VOTE_POINT_BYTES], uint64_t m,
                 const uint8_t r[VOTE_SCALAR_BYTES]) {
  if (m > VOTE_DLOG_MAX || !vote_sc_is_canonical(r) || vote_sc_is_zero(r)) {
    return VE_ERR_INVALID;
  }
  VE_TRY(vote_pk_check(pk));
  uint8_t ms[32], mg[32], ry[32];
  vote_sc_from_u64(ms, m);
  vote_sod_mul_base(ct, r);
  vote_sod_mul_base(mg, ms);
  vote_sod_mul(ry, r, pk);
  vote_sod_add(ct + 32, mg, ry);
  sodium_memzero(ms, sizeof ms);
  sodium_memzero(mg, sizeof mg);
  sodium_memzero(ry, sizeof ry);
  return VE_OK;
}

int vote_ct_check(const uint8_t ct[VOTE_CT_BYTES], bool allow_c1_identity) {
  vote_ge_t p;
  VE_TRY(vote_point_decode(&p, ct, allow_c1_identity));
  VE_TRY(vote_point_decode(&p, ct + 32, true));
  return VE_OK;
}

int vote_ct_add(uint8_t out[VOTE_CT_BYTES], const uint8_t a[VOTE_CT_BYTES],
                const uint8_t b[VOTE_CT_BYTES]) {
  vote_ge_t pa, pb;
  for (int h = 0; h < 2; h++) {
    VE_TRY(vote_point_decode(&pa, a + 32 * h, true));
    VE_TRY(vote_point_decode(&pb, b + 32 * h, true));
    vote_ge_add(&pa, &pa, &pb);
    vote_ge_encode(out + 32 * h, &pa);
  }
  return VE_OK;
}

int vote_decrypt_point(uint8_t m_point[VOTE_POINT_BYTES], const uint8_t sk[VOTE_SCALAR_BYTES],
                       const uint8_t ct[VOTE_CT_BYTES]) {
  if (!vote_sc_is_canonical(sk)) return VE_ERR_NONCANONICAL;
  VE_TRY(vote_ct_check(ct, true));
  uint8_t d[32];
  vote_sod_mul(d, sk, ct);
  vote_sod_sub(m_point, ct + 32, d);
  return VE_OK;
}

/* ---- election context ---- */

int vote_election_init(vote_election_t *el, const uint8_t pk[VOTE_POINT_BYTES], uint32_t options,
                       uint32_t min_total, uint32_t max_total) {
  memset(el, 0, sizeof *el);
  if (options == 0) return VE_ERR_INVALID;
  if (options > VOTE_OPTIONS_MAX) return VE_ERR_TOO_BIG;
  if (min_total > max_total || max_total > options) return VE_ERR_INVALID;
  vote_election_priv_t *pv = (vote_election_priv_t *)(void *)el->priv_;
  if (vote_point_decode(&pv->y, pk, false) != VE_OK) return VE_ERR_BAD_KEY;
  memcpy(el->pk, pk, 32);
  el->options = options;
  el->min_total = min_total;
  el->max_total = max_total;
  vote_ge_t g;
  vote_ge_base(&g);
  vote_ge_table_build(&pv->g_tab, &g);
  vote_ge_table_build(&pv->y_tab, &pv->y);
  return VE_OK;
}
