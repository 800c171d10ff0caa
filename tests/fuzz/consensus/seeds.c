/* seeds.c — writes the consensus harnesses' seed corpus: small valid encodings
 * made with the module's own encoders and the same seeded keys the harnesses
 * use (validator i has seed {i + 1, 0, ...}; chain "fuzz"), so the fuzzer
 * starts from inputs that reach the deep checks (signatures that verify, a
 * certificate with a quorum, evidence by a member of the set).
 *
 *   cmake --build <fuzz build> --target fuzz_consensus_seeds
 *   <fuzz build>/tests/fuzz/consensus/fuzz_consensus_seeds tests/fuzz/consensus/corpus
 *
 * Deterministic: Ed25519 signatures are deterministic, so reruns write the
 * same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "consensus/cons_int.h"
#include "fuzz_cons_keys.h"
#include "fuzz_seed_file.h"


static const char *g_dir;

static void put(const char *name, const char *file, const ve_buf_t *b) {
  fuzz_seed_file(g_dir, name, file, b->ptr, b->len);
}

static vcrypto_keypair_t g_kp[FUZZ_CONS_VALIDATORS];

static cons_vote_t vote(uint32_t index, uint8_t type, uint32_t round, uint8_t id_byte) {
  cons_vote_t v;
  memset(&v, 0, sizeof v);
  v.height = 5;
  v.round = round;
  v.type = type;
  v.index = index;
  v.has_id = id_byte != 0;
  memset(v.id, id_byte, CONS_ID_BYTES);
  cons_vote_sign(&v, &g_kp[index], FUZZ_CONS_CHAIN);
  return v;
}

static void msgs(void) {
  ve_buf_t b;
  ve_buf_init(&b, 0);
  static const uint8_t value[] = "a small block";
  cons_proposal_t p = {.height = 5, .round = 1, .pol_round = 0, .value = ve_slice(value, 13)};
  memset(p.id, 0xaa, CONS_ID_BYTES);
  cons_proposal_sign(&p, &g_kp[1], FUZZ_CONS_CHAIN);
  VE_ASSERT(cons_proposal_encode(&b, &p) == VE_OK);
  put("cons_msg", "proposal", &b);

  ve_buf_reset(&b);
  cons_vote_t v = vote(2, CONS_VOTE_PREVOTE, 0, 0xaa);
  VE_ASSERT(cons_vote_encode(&b, &v) == VE_OK);
  put("cons_msg", "vote", &b);

  ve_buf_reset(&b);
  cons_vote_t vs[3] = {vote(0, CONS_VOTE_PREVOTE, 0, 0), vote(3, CONS_VOTE_PREVOTE, 0, 0xaa),
                       vote(1, CONS_VOTE_PRECOMMIT, 0, 0xaa)};
  VE_ASSERT(cons_votes_encode(&b, vs, 3) == VE_OK);
  put("cons_msg", "votes", &b);

  ve_buf_reset(&b);
  cons_status_msg_t s = {.height = 5, .round = 2, .has_proposal = true};
  VE_ASSERT(cons_status_encode(&b, &s) == VE_OK);
  put("cons_msg", "status", &b);

  /* certificate: validators 1, 2, 3 (power 2 + 3 + 4 = 9 of 10) precommit id 0xaa */
  cons_cert_t c;
  memset(&c, 0, sizeof c);
  c.height = 5;
  c.round = 0;
  memset(c.id, 0xaa, CONS_ID_BYTES);
  c.count = 3;
  for (uint32_t i = 0; i < 3; i++) {
    cons_vote_t pc = vote(i + 1, CONS_VOTE_PRECOMMIT, 0, 0xaa);
    c.sigs[i].index = i + 1;
    memcpy(c.sigs[i].sig, pc.sig, VCRYPTO_SIG_BYTES);
  }
  ve_buf_t cert;
  ve_buf_init(&cert, 0);
  VE_ASSERT(cons_cert_encode(&cert, &c) == VE_OK);
  put("cons_cert", "quorum", &cert);
  cons_valset_t four;
  fuzz_cons_valset(&four, true);
  VE_ASSERT(cons_cert_verify(&four, FUZZ_CONS_CHAIN, 5, c.id, ve_buf_slice(&cert)) == VE_OK);
  c.count = 1; /* one signer: short of a quorum */
  ve_buf_reset(&b);
  VE_ASSERT(cons_cert_encode(&b, &c) == VE_OK);
  put("cons_cert", "one_signer", &b);

  ve_buf_reset(&b);
  VE_ASSERT(cons_decision_encode(&b, 5, c.id, ve_slice(value, 13), ve_buf_slice(&cert)) == VE_OK);
  put("cons_msg", "decision", &b);
  ve_buf_free(&cert);

  /* evidence: validator 2 prevoted 0xaa and nil; validator 1 proposed twice */
  ve_buf_reset(&b);
  cons_vote_t ea = vote(2, CONS_VOTE_PREVOTE, 0, 0xaa), eb = vote(2, CONS_VOTE_PREVOTE, 0, 0);
  VE_ASSERT(cons_evidence_vote_encode(&b, g_kp[2].pk, &ea, &eb) == VE_OK);
  put("cons_evidence", "votes", &b);
  VE_ASSERT(cons_evidence_verify(&four, FUZZ_CONS_CHAIN, ve_buf_slice(&b)) == VE_OK);
  ve_buf_reset(&b);
  cons_proposal_t p2 = p;
  memset(p2.id, 0xbb, CONS_ID_BYTES);
  p2.pol_round = -1;
  cons_proposal_sign(&p2, &g_kp[1], FUZZ_CONS_CHAIN);
  VE_ASSERT(cons_evidence_proposal_encode(&b, g_kp[1].pk, &p, &p2) == VE_OK);
  put("cons_evidence", "proposals", &b);
  VE_ASSERT(cons_evidence_verify(&four, FUZZ_CONS_CHAIN, ve_buf_slice(&b)) == VE_OK);

  /* records */
  ve_buf_reset(&b);
  cons_record_t r = {.height = 5, .round = 1, .type = CONS_TYPE_PROPOSAL, .has_id = true,
                     .pol_round = 0};
  memset(r.id, 0xaa, CONS_ID_BYTES);
  VE_ASSERT(cons_record_encode(&b, &r) == VE_OK);
  put("cons_record", "proposal", &b);
  ve_buf_reset(&b);
  r.type = CONS_VOTE_PRECOMMIT;
  r.has_id = false;
  r.pol_round = -1;
  memset(r.id, 0, CONS_ID_BYTES);
  VE_ASSERT(cons_record_encode(&b, &r) == VE_OK);
  put("cons_record", "nil_precommit", &b);
  ve_buf_reset(&b);
  cons_lock_t *lk = calloc(1, sizeof *lk);
  VE_ASSERT(lk != NULL);
  lk->height = 5;
  lk->round = 1;
  memset(lk->id, 0xaa, CONS_ID_BYTES);
  lk->has_value = true;
  lk->value = ve_slice("block bytes", 11);
  lk->count = 3;
  for (uint32_t i = 0; i < 3; i++) {
    lk->votes[i].index = i;
    memset(lk->votes[i].sig, (int)(0x10 + i), VCRYPTO_SIG_BYTES);
  }
  VE_ASSERT(cons_lock_encode(&b, lk) == VE_OK);
  put("cons_record", "lock", &b);
  ve_buf_reset(&b);
  lk->has_value = false;
  lk->value = ve_slice(NULL, 0);
  VE_ASSERT(cons_lock_encode(&b, lk) == VE_OK);
  put("cons_record", "lock_no_value", &b);
  free(lk);

  /* validator sets: the harnesses' four, and one with uneven large powers */
  cons_valset_t set;
  fuzz_cons_valset(&set, true);
  ve_buf_reset(&b);
  VE_ASSERT(cons_valset_encode(&b, &set) == VE_OK);
  put("cons_valset", "four", &b);
  set.v[0].power = CONS_POWER_MAX;
  set.v[2].power = 1000;
  ve_buf_reset(&b);
  VE_ASSERT(cons_valset_encode(&b, &set) == VE_OK);
  put("cons_valset", "uneven", &b);
  ve_buf_free(&b);
}

/* cons_engine: a script in which the other three validators carry height 1 to a
 * commit (the harness's verifier accepts any signature, so none are made):
 * the proposer's proposal (if it is not validator 0), then prevotes and
 * precommits of validators 1..3 for it, each as one message step. */
static void script_step(ve_buf_t *out, uint8_t peer, const ve_buf_t *msg) {
  uint8_t hdr[3] = {(uint8_t)(peer * 4), (uint8_t)(msg->len & 0xff), (uint8_t)(msg->len >> 8)};
  VE_ASSERT(ve_buf_append(out, hdr, 3) == VE_OK);
  VE_ASSERT(ve_buf_append(out, msg->ptr, msg->len) == VE_OK);
}

static void engine_script(const cons_valset_t *vs) {
  static const uint8_t value[] = "fuzz block";
  ve_buf_t script, m;
  ve_buf_init(&script, 0);
  ve_buf_init(&m, 0);
  uint8_t id[CONS_ID_BYTES];
  vcrypto_hash(id, "veche/fuzz/value", value, sizeof value);
  uint32_t proposer = cons_proposer(vs, 1, 0);
  if (proposer != 0) {
    cons_proposal_t p = {.height = 1, .round = 0, .pol_round = -1,
                         .value = ve_slice(value, sizeof value)};
    memcpy(p.id, id, CONS_ID_BYTES);
    VE_ASSERT(cons_proposal_encode(&m, &p) == VE_OK);
    script_step(&script, (uint8_t)proposer, &m);
  }
  for (uint8_t type = CONS_VOTE_PREVOTE; type <= CONS_VOTE_PRECOMMIT; type++) {
    for (uint32_t i = 1; i < 4; i++) {
      cons_vote_t v = {.height = 1, .round = 0, .type = type, .index = i, .has_id = true};
      memcpy(v.id, id, CONS_ID_BYTES);
      ve_buf_reset(&m);
      VE_ASSERT(cons_vote_encode(&m, &v) == VE_OK);
      script_step(&script, (uint8_t)i, &m);
    }
  }
  put("cons_engine", "commit_height_1", &script);
  ve_buf_free(&m);
  ve_buf_free(&script);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <corpus dir holding cons_msg/ cons_cert/ ...>\n", argv[0]);
    return 2;
  }
  g_dir = argv[1];
  for (uint32_t i = 0; i < FUZZ_CONS_VALIDATORS; i++) fuzz_cons_key(&g_kp[i], i);
  msgs();
  cons_valset_t even;
  fuzz_cons_valset(&even, false);
  engine_script(&even);
  return 0;
}
