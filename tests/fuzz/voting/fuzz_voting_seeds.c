/* fuzz_voting_seeds.c — writes the seed corpus of fuzz_voting_exec (one file
 * per poll transaction type, valid against the chain of fuzz_voting_chain.h)
 * and checks that each gets the expected result at the harness's natural
 * signer and height. Not a test: run it by hand when the chain or a payload
 * format changes (target fuzz_voting_seeds, built on demand):
 *   fuzz_voting_seeds /work/main/tests/fuzz/voting/corpus/voting_exec
 * Everything is derived from fixed seeds, so the output is the same on every
 * run and stays valid for the harness's chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fuzz_voting_chain.h"

static fvchain_t g_c;
static const char *g_dir;
static int g_failed;

/* Writes selector || payload to dir/name after checking its result. */
static void seed_put(const char *name, uint8_t selector, uint64_t height, const vcrypto_keypair_t *signer,
                     const ve_buf_t *payload, int want) {
  uint32_t type = VOTING_TX_TYPE_LO + selector % 10;
  int rc = fvchain_exec(&g_c, height, signer->pk, type, ve_buf_slice(payload));
  printf("%-22s type 0x%04x height %3llu: %d %s\n", name, (unsigned)type, (unsigned long long)height, rc,
         rc == want ? "" : "UNEXPECTED");
  if (rc != want) g_failed = 1;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", g_dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(&selector, 1, 1, f) != 1 || fwrite(payload->ptr, 1, payload->len, f) != payload->len) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
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

/* Trustee 1's secret share of OPEN's key, from the dealings on the chain. */
static void open_secret(const voting_poll_t *po, uint8_t x[VOTE_SCALAR_BYTES]) {
  ve_buf_t d[FVC_TRUSTEES];
  ve_slice_t dealings[FVC_TRUSTEES];
  for (uint32_t i = 0; i < FVC_TRUSTEES; i++) {
    ve_buf_init(&d[i], 0);
    fvchain_dealing(po, i + 1, &d[i]);
    dealings[i] = ve_buf_slice(&d[i]);
  }
  vote_dkg_result_t res;
  memset(&res, 0, sizeof res);
  res.n = po->def.n_trustees, res.t = po->def.threshold;
  res.qualified = po->qualified;
  memcpy(res.pk, po->pk, sizeof res.pk);
  memcpy(res.vk, po->vk, sizeof res.vk);
  uint8_t ctx[32];
  voting_poll_context(ctx, fvchain_id(), po->id);
  VE_ASSERT(vote_dkg_secret_share(x, &res, 1, &g_c.enc[0], ctx, sizeof ctx, dealings) == VE_OK);
  for (uint32_t i = 0; i < FVC_TRUSTEES; i++) ve_buf_free(&d[i]);
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
  open_secret(po, x);
  voting_tally_rec_t tally;
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(g_c.store, false, &t) == VE_OK);
  VE_ASSERT(voting_tally_get(t, po, &tally) == VE_OK);
  store_txn_abort(t);
  seed_filled(seed, 0x77);
  ve_buf_reset(p);
  VE_ASSERT(voting_decrypt_build(p, po, &tally, fvchain_id(), 1, x, seed) == VE_OK);
  seed_put("decrypt", 8, FVC_OPEN_CLOSE + 1, &g_c.trustee[0], p, VE_OK);
  seed_put_other("decrypt_dkg", 8, FVC_OPEN_CLOSE + 1, &g_c.trustee[0], p, g_c.poll_dkg, VE_ERR_STATE);
  free(po);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
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
  return g_failed;
}
