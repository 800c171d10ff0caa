/* fuzz_voting_chain.c — see fuzz_voting_chain.h. Blocks are executed straight
 * through ledger_exec_* on write transactions of a memory store (no headers,
 * no signatures: the harness fuzzes the app, not block validation). */
#include "fuzz_voting_chain.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "state/state.h"

const ledger_registry_t FVC_REG = {&identity_auth, {&identity_app, &voting_app}, 2, NULL};

ve_slice_t fvchain_id(void) { return ve_slice(FVC_CHAIN, strlen(FVC_CHAIN)); }

static void key_make(vcrypto_keypair_t *kp, uint8_t id[32], uint8_t a, uint8_t b) {
  uint8_t seed[VCRYPTO_SEED_BYTES];
  memset(seed, a, sizeof seed);
  seed[0] = b;
  vcrypto_keypair_from_seed(kp, seed);
  if (id) identity_id_from_pk(id, kp->pk);
}

/* ---- one committed block ---- */

void fvchain_block_begin(fvchain_t *c, fvchain_block_t *b, uint64_t height) {
  VE_ASSERT(store_txn_begin(c->store, true, &b->t) == VE_OK);
  VE_ASSERT(ledger_exec_begin(&b->ex, &FVC_REG, b->t, fvchain_id(), height, 1000 * height) == VE_OK);
}

uint64_t fvchain_block_tx(fvchain_t *c, fvchain_block_t *b, const vcrypto_keypair_t *kp, uint32_t type,
                          const ve_buf_t *payload) {
  uint64_t seq = c->seq++;
  VE_ASSERT(seq < FVC_SEQ_RUN);
  ledger_tx_t tx = {.version = 1, .chain_id = fvchain_id(), .seq = seq, .expiry = UINT32_MAX,
                    .type = type, .payload = ve_buf_slice(payload)};
  memcpy(tx.signer, kp->pk, VCRYPTO_PK_BYTES);
  VE_ASSERT(ledger_exec_tx(b->ex, &tx) == VE_OK);
  return seq;
}

void fvchain_block_end(fvchain_block_t *b) {
  uint8_t root[LEDGER_HASH_BYTES];
  VE_ASSERT(ledger_exec_finish(b->ex, root) == VE_OK);
  ledger_exec_free(b->ex);
  VE_ASSERT(store_txn_commit(b->t) == VE_OK);
}

/* ---- the chain ---- */

static void genesis(fvchain_t *c) {
  static ledger_genesis_t g; /* large: keep it off the stack */
  memset(&g, 0, sizeof g);
  strcpy(g.chain_id, FVC_CHAIN);
  g.suite = VCRYPTO_SUITE_ED25519_BLAKE2B;
  g.time_ms = 1;
  g.n_validators = 1;
  memcpy(g.validators[0].pk, c->admin.pk, VCRYPTO_PK_BYTES);
  g.validators[0].power = 1;
  const struct {
    const vcrypto_keypair_t *kp;
    uint32_t roles;
  } auth[] = {{&c->admin, ROLE_ADMIN | ROLE_REGISTRAR}, {&c->organizer, ROLE_POLL_ORGANIZER},
              {&c->trustee[0], ROLE_TRUSTEE},           {&c->trustee[1], ROLE_TRUSTEE},
              {&c->trustee[2], ROLE_TRUSTEE}};
  for (size_t i = 0; i < sizeof auth / sizeof auth[0]; i++) {
    strcpy(g.authorities[i].name, "authority");
    g.authorities[i].name[0] = (char)('a' + i);
    memcpy(g.authorities[i].pk, auth[i].kp->pk, VCRYPTO_PK_BYTES);
    g.authorities[i].roles = auth[i].roles;
  }
  g.n_authorities = sizeof auth / sizeof auth[0];
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(c->store, true, &t) == VE_OK);
  VE_ASSERT(ledger_init_store(t, &FVC_REG, &g) == VE_OK);
  VE_ASSERT(store_txn_commit(t) == VE_OK);
}

/* Block 1: voters and trustee keys. */
static void block1(fvchain_t *c, ve_buf_t *p) {
  fvchain_block_t b;
  fvchain_block_begin(c, &b, 1);
  uint8_t digest[32];
  memset(digest, 0xab, sizeof digest);
  for (uint32_t v = 0; v < FVC_VOTERS; v++) {
    identity_attr_t a;
    memset(&a, 0, sizeof a);
    strcpy(a.key, "district");
    strcpy(a.value, v < 2 ? "d1" : "d2");
    ve_buf_reset(p);
    VE_ASSERT(identity_payload_register(p, c->voter[v].pk, digest, &a, 1) == VE_OK);
    fvchain_block_tx(c, &b, &c->admin, TX_TYPE_IDENTITY_REGISTER, p);
  }
  for (uint32_t j = 0; j < FVC_TRUSTEES; j++) {
    uint8_t seed[VOTE_SEED_BYTES];
    memset(seed, 0x20 + (int)j, sizeof seed);
    ve_buf_reset(p);
    VE_ASSERT(voting_payload_trustee_key(p, fvchain_id(), c->trustee_id[j], &c->enc[j], seed) == VE_OK);
    fvchain_block_tx(c, &b, &c->trustee[j], TX_TYPE_POLL_TRUSTEE_KEY, p);
  }
  fvchain_block_end(&b);
}

void fvchain_def(fvchain_t *c, voting_def_t *d, uint64_t deal_end, uint64_t complaint_end, uint64_t open,
                 uint64_t close, bool filter) {
  memset(d, 0, sizeof *d);
  strcpy(d->title, "Fuzz poll");
  d->n_questions = 1;
  strcpy(d->q[0].text, "Name of the new line?");
  d->q[0].first = 0, d->q[0].options = 2, d->q[0].min = 1, d->q[0].max = 1;
  strcpy(d->option[0], "north");
  strcpy(d->option[1], "south");
  d->n_options = 2;
  d->has_filter = filter;
  if (filter) {
    strcpy(d->filter_key, "district");
    strcpy(d->filter_value, "d1");
  }
  d->deal_end = deal_end, d->complaint_end = complaint_end;
  d->open_height = open, d->close_height = close;
  d->threshold = 2;
  d->n_trustees = FVC_TRUSTEES;
  for (uint32_t j = 0; j < FVC_TRUSTEES; j++) memcpy(d->trustees[j], c->trustee_id[j], 32);
}

/* Block 2: both polls. */
static void block2(fvchain_t *c, ve_buf_t *p) {
  voting_def_t *d = malloc(sizeof *d);
  VE_ASSERT(d);
  fvchain_block_t b;
  fvchain_block_begin(c, &b, 2);
  fvchain_def(c, d, 3, 4, FVC_OPEN_OPEN, FVC_OPEN_CLOSE, true);
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_create(p, d) == VE_OK);
  voting_poll_id(c->poll_open, c->organizer.pk, fvchain_block_tx(c, &b, &c->organizer, TX_TYPE_POLL_CREATE, p));
  fvchain_def(c, d, FVC_DKG_DEAL_END, FVC_DKG_COMPLAINT_END, FVC_DKG_OPEN, FVC_DKG_CLOSE, false);
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_create(p, d) == VE_OK);
  voting_poll_id(c->poll_dkg, c->organizer.pk, fvchain_block_tx(c, &b, &c->organizer, TX_TYPE_POLL_CREATE, p));
  fvchain_block_end(&b);
  free(d);
}

/* See the header. */
void fvchain_dealing_bad(const voting_poll_t *pl, uint32_t j, uint32_t victim, ve_buf_t *out) {
  vote_dkg_params_t dp = {pl->def.n_trustees, pl->def.threshold};
  uint8_t ctx[32], seed[VOTE_SEED_BYTES], enc_pk[VOTING_TRUSTEES_MAX][VOTE_POINT_BYTES];
  voting_poll_context(ctx, fvchain_id(), pl->id);
  memset(seed, 0x30 + (int)j, sizeof seed);
  seed[1] = pl->id[0]; /* each poll its own coefficients */
  memcpy(enc_pk, pl->enc_pk, sizeof enc_pk);
  if (victim) { /* the victim's share sealed to a key nobody on the chain holds */
    VE_ASSERT(victim <= pl->def.n_trustees);
    uint8_t wseed[VOTE_SEED_BYTES];
    vote_keypair_t wrong;
    memset(wseed, 0xee, sizeof wseed);
    vote_keypair_from_seed(&wrong, wseed);
    memcpy(enc_pk[victim - 1], wrong.pk, VOTE_POINT_BYTES);
    vote_keypair_wipe(&wrong);
  }
  ve_buf_reset(out);
  VE_ASSERT(vote_dkg_deal(out, &dp, j, (const uint8_t(*)[32])enc_pk, ctx, sizeof ctx, seed) == VE_OK);
}

void fvchain_dealing(const voting_poll_t *pl, uint32_t j, ve_buf_t *out) {
  fvchain_dealing_bad(pl, j, 0, out);
}

void fvchain_deal_payload_bad(const voting_poll_t *pl, uint32_t j, uint32_t victim, ve_buf_t *p) {
  ve_buf_t d;
  ve_buf_init(&d, 0);
  fvchain_dealing_bad(pl, j, victim, &d);
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_deal(p, pl->id, ve_buf_slice(&d)) == VE_OK);
  ve_buf_free(&d);
}

void fvchain_deal_payload(const voting_poll_t *pl, uint32_t j, ve_buf_t *p) {
  fvchain_deal_payload_bad(pl, j, 0, p);
}

/* Block 3: dealings (all three for OPEN, 1 and 2 for DKG); block 5: OPEN's
 * key; block 6: voter 0's ballot. */
static void blocks_dkg_and_ballot(fvchain_t *c, ve_buf_t *p) {
  voting_poll_t *pl = malloc(sizeof *pl), *pd = malloc(sizeof *pd);
  VE_ASSERT(pl && pd);
  fvchain_poll(c, c->poll_open, pl); /* read before the block's write txn */
  fvchain_poll(c, c->poll_dkg, pd);
  fvchain_block_t b;
  fvchain_block_begin(c, &b, 3);
  for (uint32_t j = 1; j <= FVC_TRUSTEES; j++) {
    fvchain_deal_payload(pl, j, p);
    fvchain_block_tx(c, &b, &c->trustee[j - 1], TX_TYPE_POLL_DKG_DEAL, p);
  }
  for (uint32_t j = 1; j <= 2; j++) {
    fvchain_deal_payload(pd, j, p);
    fvchain_block_tx(c, &b, &c->trustee[j - 1], TX_TYPE_POLL_DKG_DEAL, p);
  }
  fvchain_block_end(&b);
  free(pd);

  fvchain_block_begin(c, &b, 5);
  ve_buf_reset(p);
  VE_ASSERT(voting_payload_finish(p, c->poll_open) == VE_OK);
  fvchain_block_tx(c, &b, &c->organizer, TX_TYPE_POLL_DKG_FINISH, p);
  fvchain_block_end(&b);

  fvchain_poll(c, c->poll_open, pl);
  VE_ASSERT(pl->status == VOTING_READY);
  fvchain_block_begin(c, &b, FVC_TIP);
  uint8_t choices[2] = {0, 1}, seed[VOTE_SEED_BYTES];
  memset(seed, 0x44, sizeof seed);
  ve_buf_reset(p);
  VE_ASSERT(voting_ballot_build(p, NULL, pl, fvchain_id(), c->voter_id[0], choices, 2, seed) == VE_OK);
  fvchain_block_tx(c, &b, &c->voter[0], TX_TYPE_POLL_BALLOT, p);
  fvchain_block_end(&b);
  free(pl);
}

void fvchain_start(fvchain_t *c) {
  memset(c, 0, sizeof *c);
  VE_ASSERT(vcrypto_init() == VE_OK);
  VE_ASSERT(vote_init() == VE_OK);
  c->seq = 1;
  key_make(&c->admin, NULL, 1, 0);
  key_make(&c->organizer, c->organizer_id, 3, 0);
  key_make(&c->unknown, NULL, 5, 0);
  for (uint32_t j = 0; j < FVC_TRUSTEES; j++) {
    uint8_t seed[VOTE_SEED_BYTES];
    key_make(&c->trustee[j], c->trustee_id[j], 6, (uint8_t)j);
    memset(seed, 0x70 + (int)j, sizeof seed);
    vote_keypair_from_seed(&c->enc[j], seed);
  }
  for (uint32_t v = 0; v < FVC_VOTERS; v++) key_make(&c->voter[v], c->voter_id[v], 9, (uint8_t)v);
  VE_ASSERT(store_open_mem(&c->store) == VE_OK);
  genesis(c);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  block1(c, &p);
  ve_buf_free(&p);
  c->seq = FVC_SEQ_OPEN;
}

void fvchain_build(fvchain_t *c) {
  fvchain_start(c);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  block2(c, &p);
  blocks_dkg_and_ballot(c, &p);
  ve_buf_free(&p);
}

void fvchain_free(fvchain_t *c) {
  store_close(c->store);
  c->store = NULL;
}

int fvchain_exec_read(fvchain_t *c, uint64_t height, const uint8_t signer_pk[VCRYPTO_PK_BYTES], uint32_t type,
                      ve_slice_t payload, const uint8_t poll[VOTING_ID_BYTES], voting_poll_t *after) {
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(c->store, false, &t) == VE_OK);
  ledger_exec_t *ex;
  VE_ASSERT(ledger_exec_begin(&ex, &FVC_REG, t, fvchain_id(), height, 1000 * height) == VE_OK);
  ledger_tx_t tx = {.version = 1, .chain_id = fvchain_id(), .seq = FVC_SEQ_RUN, .expiry = UINT32_MAX,
                    .type = type, .payload = payload};
  memcpy(tx.signer, signer_pk, VCRYPTO_PK_BYTES);
  int rc = ledger_exec_tx(ex, &tx);
  if (rc == VE_OK && poll) { /* the record as the transaction left it, in the block's overlay */
    uint8_t key[VOTING_POLL_KEY_BYTES];
    ve_slice_t v;
    VE_ASSERT(ledger_state_get(ex, ve_slice(key, voting_poll_key(key, poll)), &v) == VE_OK);
    VE_ASSERT(voting_poll_decode(v, poll, after) == VE_OK);
  }
  ledger_exec_free(ex);
  store_txn_abort(t);
  return rc;
}

int fvchain_exec(fvchain_t *c, uint64_t height, const uint8_t signer_pk[VCRYPTO_PK_BYTES], uint32_t type,
                 ve_slice_t payload) {
  return fvchain_exec_read(c, height, signer_pk, type, payload, NULL, NULL);
}

/* See the header: the dealings as committed ("vpd/" records), not recomputed. */
void fvchain_secret(fvchain_t *c, const voting_poll_t *pl, uint32_t j, uint8_t x[VOTE_SCALAR_BYTES]) {
  VE_ASSERT(pl->has_key && j >= 1 && j <= FVC_TRUSTEES);
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(c->store, false, &t) == VE_OK);
  uint8_t *buf = malloc((size_t)FVC_TRUSTEES * VOTE_DKG_DEALING_BYTES_MAX);
  VE_ASSERT(buf);
  ve_slice_t dealings[FVC_TRUSTEES];
  for (uint32_t i = 1; i <= FVC_TRUSTEES; i++) {
    dealings[i - 1] = ve_slice(NULL, 0);
    if (!(pl->dealt & (1u << (i - 1)))) continue;
    uint8_t key[VOTING_DEALING_KEY_BYTES];
    ve_slice_t v;
    VE_ASSERT(state_get(t, ve_slice(key, voting_dealing_key(key, pl->id, i)), &v) == VE_OK);
    VE_ASSERT(v.len <= VOTE_DKG_DEALING_BYTES_MAX);
    uint8_t *slot = buf + (size_t)(i - 1) * VOTE_DKG_DEALING_BYTES_MAX;
    memcpy(slot, v.ptr, v.len);
    dealings[i - 1] = ve_slice(slot, v.len);
  }
  store_txn_abort(t);
  vote_dkg_result_t res;
  memset(&res, 0, sizeof res);
  res.n = pl->def.n_trustees, res.t = pl->def.threshold;
  res.qualified = pl->qualified;
  memcpy(res.pk, pl->pk, sizeof res.pk);
  memcpy(res.vk, pl->vk, sizeof res.vk);
  uint8_t ctx[32];
  voting_poll_context(ctx, fvchain_id(), pl->id);
  VE_ASSERT(vote_dkg_secret_share(x, &res, j, &c->enc[j - 1], ctx, sizeof ctx, dealings) == VE_OK);
  free(buf);
}

void fvchain_poll(fvchain_t *c, const uint8_t id[VOTING_ID_BYTES], voting_poll_t *out) {
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(c->store, false, &t) == VE_OK);
  VE_ASSERT(voting_poll_get(t, id, out) == VE_OK);
  store_txn_abort(t);
}
