/* fuzz_voting_seeds.c — writes the seed corpora of fuzz_voting_exec (one
 * file per poll transaction type, valid against the chain of
 * fuzz_voting_chain.h) and fuzz_voting_exec2 (every poll of the chain of
 * fuzz_voting_late.h, with each type that reaches it), and checks that each
 * gets the expected result at the harness's natural signer and height; and
 * the inputs of fuzz_voting_result (honest, tampered and raw). Not a
 * test: run it by hand when a chain or a payload format changes (target
 * fuzz_voting_seeds, built on demand):
 *   fuzz_voting_seeds /work/main/tests/fuzz/voting/corpus
 * writes corpus/voting_exec/, corpus/voting_exec2/ and corpus/voting_result/
 * (which must exist).
 * Everything is derived from fixed seeds, so the output is the same on every
 * run and stays valid for the harnesses' chains. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fuzz_voting_chain.h"
#include "fuzz_voting_late.h"

static fvchain_t g_c;
static const char *g_dir; /* the corpus root */
static int g_failed;

/* Writes head || payload to <corpus root>/sub/name. */
static void file_put(const char *sub, const char *name, const uint8_t *head, size_t head_len,
                     const ve_buf_t *payload) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s/%s", g_dir, sub, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(head, 1, head_len, f) != head_len ||
      (payload->len && fwrite(payload->ptr, 1, payload->len, f) != payload->len)) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
}

/* Writes selector || payload to dir/name after checking its result. */
static void seed_put(const char *name, uint8_t selector, uint64_t height, const vcrypto_keypair_t *signer,
                     const ve_buf_t *payload, int want) {
  uint32_t type = VOTING_TX_TYPE_LO + selector % 10;
  int rc = fvchain_exec(&g_c, height, signer->pk, type, ve_buf_slice(payload));
  printf("%-22s type 0x%04x height %3llu: %d %s\n", name, (unsigned)type, (unsigned long long)height, rc,
         rc == want ? "" : "UNEXPECTED");
  if (rc != want) g_failed = 1;
  file_put("voting_exec", name, &selector, 1, payload);
}

/* The same payload naming poll instead (every poll payload but the trustee
 * key and create ones starts u8 version || poll id). */
static void seed_put_other(const char *name, uint8_t selector, uint64_t height, const vcrypto_keypair_t *signer,
                           const ve_buf_t *payload, const uint8_t poll[VOTING_ID_BYTES], int want) {
  ve_buf_t q;
  ve_buf_init(&q, 0);
  VE_ASSERT(payload->len > VOTING_ID_BYTES && ve_buf_append(&q, payload->ptr, payload->len) == VE_OK);
  memcpy(q.ptr + 1, poll, VOTING_ID_BYTES);
  seed_put(name, selector, height, signer, &q, want);
  ve_buf_free(&q);
}

static void seed_filled(uint8_t seed[VOTE_SEED_BYTES], int byte) { memset(seed, byte, VOTE_SEED_BYTES); }

static void seeds_keys_and_polls(ve_buf_t *p) {
  vote_keypair_t enc;
  uint8_t seed[VOTE_SEED_BYTES];
  seed_filled(seed, 0x99);
  vote_keypair_from_seed(&enc, seed);
  VE_ASSERT(voting_payload_trustee_key(p, fvchain_id(), g_c.trustee_id[0], &enc, seed) == VE_OK);
  seed_put("trustee_key", 1, FVC_TIP + 1, &g_c.trustee[0], p, VE_OK);

  voting_def_t *d = malloc(sizeof *d);
  VE_ASSERT(d);
  fvchain_def(&g_c, d, 50, 60, 70, 80, true);
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_create(p, d) == VE_OK);
  seed_put("create", 2, FVC_TIP + 1, &g_c.organizer, p, VE_OK);
  memcpy(d->trustees[2], g_c.voter_id[0], 32); /* a citizen without the trustee role */
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_create(p, d) == VE_OK);
  seed_put("create_not_trustee", 2, FVC_TIP + 1, &g_c.organizer, p, VE_ERR_INVALID);
  identity_id_from_pk(d->trustees[2], g_c.unknown.pk); /* nobody */
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_create(p, d) == VE_OK);
  seed_put("create_unknown_trustee", 2, FVC_TIP + 1, &g_c.organizer, p, VE_ERR_NOT_FOUND);
  free(d);

  ve_buf_reset(p);
  VE_ASSERT(voting_payload_cancel(p, g_c.poll_dkg, "moved to spring") == VE_OK);
  seed_put("cancel", 3, FVC_DKG_OPEN - 1, &g_c.organizer, p, VE_OK);
  seed_put_other("cancel_open", 3, FVC_DKG_OPEN - 1, &g_c.organizer, p, g_c.poll_open, VE_ERR_TOO_LATE);

  ve_buf_reset(p);
  VE_ASSERT(voting_payload_finish(p, g_c.poll_dkg) == VE_OK);
  seed_put("finish", 6, FVC_DKG_COMPLAINT_END + 1, &g_c.organizer, p, VE_OK);
  seed_put_other("finish_open", 6, FVC_DKG_COMPLAINT_END + 1, &g_c.organizer, p, g_c.poll_open, VE_ERR_STATE);

  ve_buf_reset(p);
  VE_ASSERT(voting_payload_finish(p, g_c.poll_open) == VE_OK);
  seed_put("unknown_low", 0, FVC_TIP + 1, &g_c.organizer, p, VE_ERR_UNKNOWN_TYPE);
  seed_put("unknown_high", 9, FVC_TIP + 1, &g_c.organizer, p, VE_ERR_UNKNOWN_TYPE);
}

/* Trustee 3's dealing and trustee 2's complaint against dealer 1, for DKG. */
static void seeds_dkg(ve_buf_t *p) {
  voting_poll_t *pd = malloc(sizeof *pd);
  VE_ASSERT(pd);
  fvchain_poll(&g_c, g_c.poll_dkg, pd);
  fvchain_deal_payload(pd, 3, p);
  seed_put("deal", 4, FVC_DKG_DEAL_END, &g_c.trustee[2], p, VE_OK);
  seed_put_other("deal_open", 4, FVC_DKG_DEAL_END, &g_c.trustee[2], p, g_c.poll_open, VE_ERR_STATE);

  ve_buf_t dealing, c;
  ve_buf_init(&dealing, 0);
  ve_buf_init(&c, 0);
  fvchain_dealing(pd, 1, &dealing);
  vote_dkg_params_t dp = {pd->def.n_trustees, pd->def.threshold};
  uint8_t ctx[32], seed[VOTE_SEED_BYTES];
  voting_poll_context(ctx, fvchain_id(), pd->id);
  seed_filled(seed, 0x55);
  VE_ASSERT(vote_dkg_complain(&c, &dp, 1, 2, &g_c.enc[1], ctx, sizeof ctx, dealing.ptr, dealing.len, seed) ==
            VE_OK);
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_complain(p, pd->id, ve_buf_slice(&c)) == VE_OK);
  seed_put("complain", 5, FVC_DKG_DEAL_END + 1, &g_c.trustee[1], p, VE_OK);
  seed_put_other("complain_open", 5, FVC_DKG_DEAL_END + 1, &g_c.trustee[1], p, g_c.poll_open, VE_ERR_STATE);
  ve_buf_free(&dealing);
  ve_buf_free(&c);
  free(pd);
}

/* Ballots in OPEN (a new voter, a replacement, a voter outside the district,
 * a replayed ballot) and trustee 1's decryption share of its tally. */
static void seeds_open(ve_buf_t *p) {
  voting_poll_t *po = malloc(sizeof *po);
  VE_ASSERT(po);
  fvchain_poll(&g_c, g_c.poll_open, po);
  static const struct {
    const char *name;
    uint32_t voter;
    uint8_t choices[2];
    int seed, want;
  } ballots[] = {{"ballot", 1, {1, 0}, 0x60, VE_OK},
                 {"ballot_revote", 0, {1, 0}, 0x61, VE_OK},
                 {"ballot_not_eligible", 2, {0, 1}, 0x62, VE_ERR_NOT_ELIGIBLE},
                 /* voter 0's ballot of block 6 again (fuzz_voting_chain.c) */
                 {"ballot_replay", 0, {0, 1}, 0x44, VE_ERR_DUPLICATE}};
  for (size_t i = 0; i < sizeof ballots / sizeof ballots[0]; i++) {
    uint8_t seed[VOTE_SEED_BYTES];
    seed_filled(seed, ballots[i].seed);
    ve_buf_reset(p);
    VE_ASSERT(voting_ballot_build(p, NULL, po, fvchain_id(), g_c.voter_id[ballots[i].voter], ballots[i].choices, 2,
                                  seed) == VE_OK);
    seed_put(ballots[i].name, 7, FVC_OPEN_CLOSE, &g_c.voter[ballots[i].voter], p, ballots[i].want);
    if (i == 0) seed_put_other("ballot_dkg", 7, FVC_OPEN_CLOSE, &g_c.voter[1], p, g_c.poll_dkg, VE_ERR_TOO_EARLY);
  }

  uint8_t x[VOTE_SCALAR_BYTES], seed[VOTE_SEED_BYTES];
  fvchain_secret(&g_c, po, 1, x);
  voting_tally_rec_t tally;
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(g_c.store, false, &t) == VE_OK);
  VE_ASSERT(voting_tally_get(t, po, &tally) == VE_OK);
  store_txn_abort(t);
  seed_filled(seed, 0x77);
  ve_buf_reset(p);
  VE_ASSERT(voting_decrypt_build(p, po, &tally, fvchain_id(), 1, x, seed) == VE_OK);
  sodium_memzero(x, sizeof x);
  seed_put("decrypt", 8, FVC_OPEN_CLOSE + 1, &g_c.trustee[0], p, VE_OK);
  seed_put_other("decrypt_dkg", 8, FVC_OPEN_CLOSE + 1, &g_c.trustee[0], p, g_c.poll_dkg, VE_ERR_STATE);
  free(po);
}

/* ---- fuzz_voting_exec2: the late chain ---- */

static fvlate_t g_l;

/* Writes selector bytes (type, signer; 0: the payload's own poll at the
 * natural height) || payload, its poll replaced by poll k if k >= 0, after
 * checking the result the harness gets for it. */
static void seed2_put(const char *name, uint32_t type, int signer, int k, const ve_buf_t *payload, int want) {
  ve_buf_t in;
  ve_buf_init(&in, 0);
  uint8_t head[2] = {(uint8_t)((type - VOTING_TX_TYPE_LO) + 10 * (uint32_t)signer), 0};
  VE_ASSERT(ve_buf_append(&in, head, 2) == VE_OK && ve_buf_append(&in, payload->ptr, payload->len) == VE_OK);
  if (k >= 0) {
    VE_ASSERT(in.len > 2 + VOTING_ID_BYTES);
    memcpy(in.ptr + 3, g_l.poll[k], VOTING_ID_BYTES);
  }
  fvlate_input_t x;
  VE_ASSERT(fvlate_input_parse(&g_l, in.ptr, in.len, &x) == 0);
  int rc = fvchain_exec(&g_l.c, x.height, g_l.pk[x.signer], x.type, ve_buf_slice(&x.payload));
  printf("%-26s type 0x%04x signer %d height %3llu: %d %s\n", name, (unsigned)x.type, x.signer,
         (unsigned long long)x.height, rc, rc == want ? "" : "UNEXPECTED");
  if (rc != want) g_failed = 1;
  ve_buf_t rest = {.ptr = in.ptr + 2, .len = in.len - 2};
  file_put("voting_exec2", name, head, 2, &rest);
  fvlate_input_free(&x);
  ve_buf_free(&in);
}

static void seed2(const char *name, uint32_t type, int k, const ve_buf_t *payload, int want) {
  seed2_put(name, type, FVL_S_NATURAL, k, payload, want);
}

/* UPHELD: complaints after the upheld one, its finish without dealer 1, and
 * what its phase refuses. */
static void seeds2_upheld(ve_buf_t *p) {
  fvlate_complain_payload(&g_l, FVL_UPHELD, 1, 3, 0x61, p); /* 3's share from 1 is good: dismissed */
  seed2("complain_dismissed", TX_TYPE_POLL_DKG_COMPLAIN, -1, p, VE_OK);
  fvlate_complain_payload(&g_l, FVL_UPHELD, 1, 2, 0x62, p); /* the upheld one again */
  seed2("complain_upheld_again", TX_TYPE_POLL_DKG_COMPLAIN, -1, p, VE_ERR_EXISTS);
  fvlate_complain_payload(&g_l, FVL_UPHELD, 2, 2, 0x63, p);
  seed2("complain_other_dealer", TX_TYPE_POLL_DKG_COMPLAIN, -1, p, VE_OK);
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_finish(p, g_l.poll[FVL_UPHELD]) == VE_OK);
  seed2("finish_upheld", TX_TYPE_POLL_DKG_FINISH, -1, p, VE_OK);
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_cancel(p, g_l.poll[FVL_UPHELD], "late") == VE_OK);
  seed2("cancel_upheld", TX_TYPE_POLL_CANCEL, -1, p, VE_OK);
  fvchain_deal_payload(g_l.rec[FVL_UPHELD], 1, p);
  seed2("deal_upheld", TX_TYPE_POLL_DKG_DEAL, -1, p, VE_ERR_TOO_LATE);
}

/* The same payload for every terminal poll: nothing is accepted. */
static void seeds2_terminal(const char *what, uint32_t type, const ve_buf_t *p, const int want[FVL_POLLS]) {
  static const char *poll_names[FVL_POLLS] = {"upheld", "failed", "closed", "done", "cancelled"};
  for (int k = 0; k < FVL_POLLS; k++) {
    if (!want[k]) continue;
    char name[64];
    snprintf(name, sizeof name, "%s_%s", what, poll_names[k]);
    seed2(name, type, k, p, want[k]);
  }
}

static void seeds2_polls(ve_buf_t *p) {
  const uint8_t north[2] = {1, 0};
  /* Ballots: voter 0's new ballot for CLOSED, its block-6 ballot again (for
   * CLOSED) and ballots for the others (valid for CLOSED or CANCELLED only). */
  fvlate_ballot_payload(&g_l, FVL_CLOSED, 0, north, 0x70, p);
  seeds2_terminal("ballot", TX_TYPE_POLL_BALLOT, p,
                  (const int[FVL_POLLS]){VE_ERR_STATE, VE_ERR_STATE, VE_ERR_TOO_LATE, VE_ERR_TOO_LATE, 0});
  fvlate_ballot_payload(&g_l, FVL_CLOSED, 0, north, FVL_BALLOT_SEED, p);
  seed2("ballot_replay_closed", TX_TYPE_POLL_BALLOT, -1, p, VE_ERR_TOO_LATE);
  fvlate_ballot_payload(&g_l, FVL_CANCELLED, 1, north, 0x71, p);
  seed2("ballot_cancelled", TX_TYPE_POLL_BALLOT, -1, p, VE_ERR_STATE);

  ve_buf_reset(p);
  VE_ASSERT(voting_payload_finish(p, g_l.poll[FVL_FAILED]) == VE_OK);
  seeds2_terminal("finish", TX_TYPE_POLL_DKG_FINISH, p,
                  (const int[FVL_POLLS]){0, VE_ERR_STATE, VE_ERR_STATE, VE_ERR_STATE, VE_ERR_STATE});
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_cancel(p, g_l.poll[FVL_FAILED], "again") == VE_OK);
  seeds2_terminal("cancel", TX_TYPE_POLL_CANCEL, p,
                  (const int[FVL_POLLS]){0, VE_ERR_STATE, VE_ERR_TOO_LATE, VE_ERR_STATE, VE_ERR_STATE});
  fvchain_deal_payload(g_l.rec[FVL_FAILED], 3, p);
  seed2("deal_failed", TX_TYPE_POLL_DKG_DEAL, -1, p, VE_ERR_STATE);
  fvlate_complain_payload(&g_l, FVL_FAILED, 1, 3, 0x64, p);
  seed2("complain_failed", TX_TYPE_POLL_DKG_COMPLAIN, -1, p, VE_ERR_STATE);

  /* Decryption shares: CLOSED takes trustee 2's or 3's (its result), not
   * trustee 1's again nor one signed by another trustee; the rest take none. */
  fvlate_decrypt_payload(&g_l, FVL_CLOSED, 2, 0x72, p);
  seed2("decrypt_result_t2", TX_TYPE_POLL_DECRYPT, -1, p, VE_OK);
  seed2_put("decrypt_wrong_signer", TX_TYPE_POLL_DECRYPT, FVL_S_T3, -1, p, VE_ERR_PERMISSION);
  seeds2_terminal("decrypt", TX_TYPE_POLL_DECRYPT, p,
                  (const int[FVL_POLLS]){VE_ERR_STATE, VE_ERR_STATE, 0, VE_ERR_STATE, VE_ERR_STATE});
  fvlate_decrypt_payload(&g_l, FVL_CLOSED, 3, 0x73, p);
  seed2("decrypt_result_t3", TX_TYPE_POLL_DECRYPT, -1, p, VE_OK);
  fvlate_decrypt_payload(&g_l, FVL_CLOSED, 1, 0x74, p);
  seed2("decrypt_again_t1", TX_TYPE_POLL_DECRYPT, -1, p, VE_ERR_EXISTS);
  fvlate_decrypt_payload(&g_l, FVL_DONE, 2, 0x75, p);
  seed2("decrypt_done_t2", TX_TYPE_POLL_DECRYPT, -1, p, VE_ERR_STATE);
  fvlate_decrypt_payload(&g_l, FVL_CANCELLED, 2, 0x76, p);
  seed2("decrypt_cancelled_t2", TX_TYPE_POLL_DECRYPT, -1, p, VE_ERR_STATE);
}

static void seeds2(void) {
  fvlate_build(&g_l);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  seeds2_upheld(&p);
  seeds2_polls(&p);
  ve_buf_free(&p);
  fvlate_free(&g_l);
}

/* ---- fuzz_voting_result: bytes only (see its header for the layout) ---- */

static void seed_bytes(const char *name, const uint8_t *b, size_t n) {
  ve_buf_t none = {0};
  file_put("voting_result", name, b, n, &none);
  printf("%-26s %zu bytes\n", name, n);
}

/* Raw mode: the point m*G (m < 2^32; 0 gives the identity). */
static void seed_point(const char *name, uint64_t m) {
  uint8_t in[33] = {2}, s[32] = {0};
  for (int i = 0; i < 8; i++) s[i] = (uint8_t)(m >> (8 * i));
  if (m) VE_ASSERT(crypto_scalarmult_ristretto255_base(in + 1, s) == 0);
  seed_bytes(name, in, sizeof in);
}

static void seeds_result(void) {
  /* selector (mode + 3 * (options - 1)), 4 bytes per count, trustee byte[, edits] */
  static const struct {
    const char *name;
    uint8_t len, b[40];
  } in[] = {
      {"honest_small", 10, {3, 0, 5, 0, 0, 0, 7, 0, 0, 0x01}},
      {"honest_large_refuted", 14, {6, 0x03, 0xff, 0xff, 0xff, 0x01, 0x12, 0x34, 0x56, 0, 0, 0, 0, 0x16}},
      {"honest_zero", 6, {0, 0, 0, 0, 0, 0x03}},
      {"honest_four", 18, {9, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0x02}},
      {"tampered_none", 10, {4, 0, 5, 0, 0, 0, 7, 0, 0, 0x01}},
      {"tampered_share_byte", 14, {4, 0, 5, 0, 0, 0, 7, 0, 0, 0x01, 0, 0, 40, 0x01}},
      {"tampered_share_trustee", 14, {4, 0, 5, 0, 0, 0, 7, 0, 0, 0x01, 1, 0, 1, 0x02}}, /* 3 -> 1: twice */
      {"tampered_tally_c1", 14, {4, 0, 5, 0, 0, 0, 7, 0, 0, 0x01, 3, 0, 3, 0x20}},
      {"tampered_tally_c2", 14, {4, 0, 5, 0, 0, 0, 7, 0, 0, 0x01, 3, 0, 37, 0x20}},
      {"tampered_drop", 10, {4, 0, 5, 0, 0, 0, 7, 0, 0, 0x09}},
  };
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) seed_bytes(in[i].name, in[i].b, in[i].len);
  seed_point("raw_identity", 0);
  seed_point("raw_small", 5);
  seed_point("raw_max", VOTE_DLOG_MAX);
  seed_point("raw_past_max", (uint64_t)VOTE_DLOG_MAX + 1); /* not found: every giant step */
  uint8_t bad[33];
  memset(bad, 0xff, sizeof bad);
  bad[0] = 2;
  seed_bytes("raw_noncanonical", bad, sizeof bad);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  g_dir = argv[1];
  fvchain_build(&g_c);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  seeds_keys_and_polls(&p);
  seeds_dkg(&p);
  seeds_open(&p);
  ve_buf_free(&p);
  fvchain_free(&g_c);
  seeds2();
  seeds_result();
  return g_failed;
}
