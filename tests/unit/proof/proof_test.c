/* proof_test.c — proof bundles across validator-set changes (src/proof), on a
 * memory-store chain whose blocks carry what a real network's do: each header
 * names the set governing its height and each certificate holds precommits of
 * all of that set's members.
 *
 * The chain: genesis set A (k0..k3); block 4 changes A -> B (governs from 6);
 * block 10 changes B -> C (governs from 12); empty blocks to height 20.
 * Checked:
 *   - a fact whose header A governs is a version 1 bundle, as before set
 *     changes existed; from header 6 on it carries change 1, from 12 on both;
 *     each verifies against the genesis set alone, also after a JSON round trip;
 *   - each link field altered (record, proof, header, cert, epoch, height),
 *     links reordered, the last or every link dropped: NOT proven, with the
 *     link named in the reason; verify_era proves the fact under C alone and
 *     refuses it under A; verify_from starts at a trusted later epoch and
 *     follows only the changes after it;
 *   - on a pruning store the kept link proofs (proof_link_keep) let the node
 *     build bundles after the record versions are gone; without them the
 *     build answers VE_ERR_PRUNED;
 *   - the JSON reader refuses versions and link arrays that do not match. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "consensus/cons_int.h"
#include "proof/proof.h"
#include "state/state.h"
#include "tchain.h"

#define CHAIN "veche-proof-1"
#define NKEYS 6
#define TOP 20

static const ledger_registry_t REG = {&identity_auth, {&valset_app, &identity_app}, 2, NULL};

static tchain_t g_c;
static vcrypto_keypair_t g_k[NKEYS]; /* k0..k3 genesis, k4, k5 join later */
static vcrypto_keypair_t g_admin;
static cons_valset_t g_a, g_b, g_cc; /* A, B, C */
static bool g_keep = true;           /* call proof_link_keep after each block */

/* ---- consensus stand-ins: the governing set, certificates by all of it ---- */

static void governing(store_txn_t *t, uint64_t height, cons_valset_t *vs) {
  assert_int_equal(valset_governing(t, height, vs, NULL), 0);
}

static void valset_of(void *ctx, store_txn_t *t, uint64_t height, uint8_t hash[LEDGER_HASH_BYTES]) {
  (void)ctx;
  cons_valset_t vs;
  governing(t, height, &vs);
  cons_valset_hash(hash, &vs);
}

static const vcrypto_keypair_t *key_of(const uint8_t pk[VCRYPTO_PK_BYTES]) {
  for (int i = 0; i < NKEYS; i++)
    if (!memcmp(g_k[i].pk, pk, VCRYPTO_PK_BYTES)) return &g_k[i];
  fail_msg("no key for a validator");
  return NULL;
}

static void cert_of(void *ctx, store_txn_t *t, const ledger_header_t *h, ve_buf_t *out) {
  (void)ctx;
  cons_valset_t vs;
  governing(t, h->height, &vs);
  cons_cert_t c;
  memset(&c, 0, sizeof c);
  c.height = h->height;
  assert_int_equal(ledger_header_hash(h, c.id), 0);
  for (uint32_t i = 0; i < vs.count; i++) {
    cons_vote_t v = {h->height, 0, CONS_VOTE_PRECOMMIT, i, true, {0}, {0}};
    memcpy(v.id, c.id, CONS_ID_BYTES);
    cons_vote_sign(&v, key_of(vs.v[i].pk), CHAIN);
    c.sigs[c.count].index = i;
    memcpy(c.sigs[c.count].sig, v.sig, VCRYPTO_SIG_BYTES);
    c.count++;
  }
  assert_int_equal(cons_cert_encode(out, &c), 0);
}

static void after_block(void *ctx, store_txn_t *t, ve_slice_t block) {
  (void)ctx;
  ledger_block_t b;
  assert_int_equal(ledger_block_decode(block, &b), 0);
  if (g_keep) assert_int_equal(proof_link_keep(t, b.header.height), 0);
  ledger_block_free(&b);
}

/* ---- the chain ---- */

static void set_of(cons_valset_t *s, size_t n, const int *keys) {
  memset(s, 0, sizeof *s);
  s->count = (uint32_t)n;
  for (size_t i = 0; i < n; i++) {
    memcpy(s->v[i].pk, g_k[keys[i]].pk, VCRYPTO_PK_BYTES);
    s->v[i].power = 1;
  }
  assert_int_equal(cons_valset_check(s), 0);
}

/* cur -> next in its own block, approved by all of cur. */
static void change(const cons_valset_t *cur, const cons_valset_t *next, uint64_t next_epoch) {
  valset_change_t *ch = calloc(1, sizeof *ch);
  assert_non_null(ch);
  ch->set = *next;
  ch->n_approvals = cur->count;
  for (uint32_t i = 0; i < cur->count; i++) {
    ch->approvals[i].index = i;
    valset_approval_sign(ch->approvals[i].sig, key_of(cur->v[i].pk), CHAIN, next_epoch, cur, next);
  }
  ve_buf_t p;
  ve_buf_init(&p, VALSET_PAYLOAD_BYTES_MAX);
  assert_int_equal(valset_change_encode(&p, ch), 0);
  assert_int_equal(tchain_run1(&g_c, &g_k[1], TX_TYPE_VALSET_CHANGE, ve_buf_slice(&p)), 0);
  ve_buf_free(&p);
  free(ch);
}

static void empty_blocks_to(uint64_t height) {
  while (tchain_height(&g_c) < height) tchain_commit(&g_c, NULL, 0, NULL);
}

/* The chain of the file's comment; prune: the store logs stale state from
 * genesis on, so it can be pruned afterwards. */
static void chain_build(bool prune) {
  tchain_init(&g_c, CHAIN, &REG);
  for (int i = 0; i < NKEYS; i++) tchain_key(&g_k[i], NULL, (uint8_t)(80 + i), 1);
  g_c.validator = g_k[0]; /* in every set */
  g_c.g.n_validators = 4;
  for (int i = 0; i < 4; i++) {
    snprintf(g_c.g.validators[i].name, sizeof g_c.g.validators[i].name, "v%d", i);
    memcpy(g_c.g.validators[i].pk, g_k[i].pk, VCRYPTO_PK_BYTES);
    g_c.g.validators[i].power = 1;
  }
  tchain_key(&g_admin, NULL, 79, 1);
  tchain_authority(&g_c, "admin", &g_admin, ROLE_ADMIN);
  g_c.valset_of = valset_of;
  g_c.cert = cert_of;
  g_c.after = after_block;
  store_t *st = NULL;
  assert_int_equal(store_open_mem(&st), 0);
  if (prune) {
    store_txn_t *t;
    assert_int_equal(store_txn_begin(st, true, &t), 0);
    assert_int_equal(state_prune_enable(t), 0);
    assert_int_equal(store_txn_commit(t), 0);
  }
  tchain_open(&g_c, st);
  g_c.owns_store = true;
  set_of(&g_a, 4, (const int[]){0, 1, 2, 3});
  set_of(&g_b, 4, (const int[]){0, 1, 2, 4});
  set_of(&g_cc, 3, (const int[]){0, 4, 5});
  empty_blocks_to(3);
  change(&g_a, &g_b, 1); /* block 4: B from 6 */
  empty_blocks_to(9);
  change(&g_b, &g_cc, 2); /* block 10: C from 12 */
  empty_blocks_to(TOP);
}

static int setup(void **state) {
  (void)state;
  g_keep = true;
  chain_build(false);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tchain_free(&g_c);
  return 0;
}

/* The bundle of the admin's identity record at height. */
static int build_after(uint64_t height, uint64_t valsets_after, proof_bundle_t *b) {
  uint8_t id[LEDGER_HASH_BYTES], key[3 + LEDGER_HASH_BYTES];
  identity_id_from_pk(id, g_admin.pk);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  proof_bundle_init(b);
  int rc = proof_bundle_build(t, tchain_id(&g_c), height, ve_slice(key, identity_state_key(key, id)), valsets_after,
                              b);
  store_txn_abort(t);
  return rc;
}

static int build(uint64_t height, proof_bundle_t *b) { return build_after(height, 0, b); }

static int verify(const proof_bundle_t *b, char *reason, size_t len) {
  proof_result_t res;
  reason[0] = 0;
  int rc = proof_bundle_verify(b, CHAIN, &g_a, &res, reason, len);
  if (rc == VE_OK) assert_int_equal(res.valset_changes, b->n_links);
  return rc;
}

/* ---- tests ---- */

static void test_links_follow_the_sets(void **state) {
  (void)state;
  /* (fact height, links): header h + 1 is governed by A up to 5, B 6..11, C 12.. */
  static const struct {
    uint64_t height;
    uint32_t links;
  } cases[] = {{1, 0}, {4, 0}, {5, 1}, {10, 1}, {11, 2}, {TOP - 1, 2}};
  char reason[PROOF_REASON_BYTES_MAX];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    proof_bundle_t b;
    assert_int_equal(build(cases[i].height, &b), 0);
    assert_int_equal(b.n_links, cases[i].links);
    if (verify(&b, reason, sizeof reason)) fail_msg("height %llu: %s", (unsigned long long)cases[i].height, reason);
    if (b.n_links >= 1) assert_int_equal(b.links[0].height, 4);
    if (b.n_links >= 2) assert_int_equal(b.links[1].height, 10);

    /* JSON: version 1 exactly without links; the round trip still proves. */
    json_t *j = proof_bundle_to_json(&b);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), b.n_links ? 2 : 1);
    assert_int_equal(json_object_get(j, "valsets") != NULL, b.n_links > 0);
    proof_bundle_t back;
    proof_bundle_init(&back);
    assert_int_equal(proof_bundle_from_json(j, &back, reason, sizeof reason), 0);
    json_decref(j);
    assert_int_equal(back.n_links, b.n_links);
    assert_int_equal(verify(&back, reason, sizeof reason), 0);
    proof_bundle_free(&back);
    proof_bundle_free(&b);
  }
}

/* Flips one byte in the middle of buf. */
static void flip(ve_buf_t *buf) { buf->ptr[buf->len / 2] ^= 0x01; }

static void test_tampered_links_refused(void **state) {
  (void)state;
  char reason[PROOF_REASON_BYTES_MAX];
  for (int what = 0; what < 10; what++) {
    proof_bundle_t b;
    assert_int_equal(build(TOP - 1, &b), 0);
    assert_int_equal(b.n_links, 2);
    const char *named = "set change 2";
    switch (what) {
    case 0: flip(&b.links[1].record); break;
    case 1: flip(&b.links[1].proof); break;
    case 2: flip(&b.links[1].header); break;
    case 3: flip(&b.links[1].cert); break;
    case 4: b.links[1].epoch = 3; break;
    case 5: b.links[1].height = 9; break; /* another state version: header 10 */
    case 6: {                              /* reordered */
      proof_link_t l = b.links[0];
      b.links[0] = b.links[1];
      b.links[1] = l;
      named = "set change 1";
      break;
    }
    case 7: flip(&b.links[0].cert); named = "set change 1"; break;
    case 8: b.n_links = 1; named = NULL; break; /* the last change dropped: C unknown */
    case 9: b.n_links = 0; named = NULL; break; /* all dropped */
    }
    int rc = verify(&b, reason, sizeof reason);
    if (rc == VE_OK) fail_msg("tampering %d proved", what);
    assert_true(rc < 0);
    assert_true(reason[0] != 0);
    if (named && !strstr(reason, named)) fail_msg("tampering %d: reason does not name %s: %s", what, named, reason);
    if (what >= 8) b.n_links = 2; /* free what was allocated */
    proof_bundle_free(&b);
  }
}

static void test_verify_era(void **state) {
  (void)state;
  char reason[PROOF_REASON_BYTES_MAX];
  proof_bundle_t b;
  assert_int_equal(build(TOP - 1, &b), 0);
  proof_result_t res;
  assert_int_equal(proof_bundle_verify_era(&b, CHAIN, &g_cc, &res, reason, sizeof reason), 0);
  assert_int_equal(res.valset_changes, 0);
  assert_int_equal(res.total_power, 3);
  b.n_links = 0; /* the era check does not use them */
  assert_int_equal(proof_bundle_verify_era(&b, CHAIN, &g_cc, &res, reason, sizeof reason), 0);
  b.n_links = 2;
  assert_int_equal(proof_bundle_verify_era(&b, CHAIN, &g_a, &res, reason, sizeof reason), VE_ERR_HASH_MISMATCH);
  /* A set change's header cannot stand in for a later one: the fact must be
   * at or after the last set's first height. */
  proof_bundle_t early;
  assert_int_equal(build(4, &early), 0); /* header 5: A */
  proof_link_t *l = b.links;
  uint32_t n = b.n_links;
  b.links = early.links, b.n_links = early.n_links;
  early.links = l, early.n_links = n; /* early: A's fact with both links */
  int rc = verify(&early, reason, sizeof reason);
  assert_int_equal(rc, VE_ERR_HEIGHT);
  assert_non_null(strstr(reason, "precedes"));
  proof_bundle_free(&early);
  proof_bundle_free(&b);
}

/* Later trusted starting points: B as epoch 1 (from 6) follows change 2 only;
 * C as epoch 2 follows nothing; A passed off as epoch 1 fails at change 2
 * (its header names B); a fact before the trusted set's first height is not
 * proven by it. */
static void test_verify_from_trusted_epoch(void **state) {
  (void)state;
  char reason[PROOF_REASON_BYTES_MAX];
  proof_result_t res;
  proof_bundle_t b, early;
  assert_int_equal(build(TOP - 1, &b), 0);
  assert_int_equal(proof_bundle_verify_from(&b, CHAIN, &g_b, 1, 6, &res, reason, sizeof reason), 0);
  assert_int_equal(res.valset_changes, 1);
  assert_int_equal(proof_bundle_verify_from(&b, CHAIN, &g_cc, 2, 12, &res, reason, sizeof reason), 0);
  assert_int_equal(res.valset_changes, 0);
  assert_int_equal(proof_bundle_verify_from(&b, CHAIN, &g_a, 1, 6, &res, reason, sizeof reason),
                   VE_ERR_HASH_MISMATCH);
  assert_non_null(strstr(reason, "set change 2"));
  /* Trusting epoch 1 but a later first height than the truth: change 2's
   * header (11) would be before it. */
  assert_int_equal(proof_bundle_verify_from(&b, CHAIN, &g_b, 1, 12, &res, reason, sizeof reason), VE_ERR_HEIGHT);
  assert_int_equal(build(7, &early), 0); /* header 8: B */
  assert_int_equal(proof_bundle_verify_from(&early, CHAIN, &g_b, 1, 6, &res, reason, sizeof reason), 0);
  assert_int_equal(proof_bundle_verify_from(&early, CHAIN, &g_cc, 2, 12, &res, reason, sizeof reason),
                   VE_ERR_HEIGHT);
  assert_non_null(strstr(reason, "precedes"));
  proof_bundle_free(&early);
  proof_bundle_free(&b);
}

/* A bundle for a verifier that already trusts epoch K carries only the changes
 * after K: it proves from that epoch's set, not from the genesis (whose
 * verifier is told which change is missing); a K at or past the fact's epoch
 * leaves a version 1 bundle that the fact's own set proves. */
static void test_links_after_trusted_epoch(void **state) {
  (void)state;
  char reason[PROOF_REASON_BYTES_MAX];
  proof_result_t res;
  proof_bundle_t b;
  assert_int_equal(build_after(TOP - 1, 1, &b), 0);
  assert_int_equal(b.n_links, 1);
  assert_int_equal(b.links[0].epoch, 2);
  assert_int_equal(proof_bundle_verify_from(&b, CHAIN, &g_b, 1, 6, &res, reason, sizeof reason), 0);
  assert_int_equal(res.valset_changes, 1);
  assert_int_equal(verify(&b, reason, sizeof reason), VE_ERR_MALFORMED);
  assert_non_null(strstr(reason, "set change 1: it is for epoch 2"));
  /* Through JSON: version 2 with the one link. */
  json_t *j = proof_bundle_to_json(&b);
  proof_bundle_free(&b);
  proof_bundle_init(&b);
  assert_int_equal(json_integer_value(json_object_get(j, "version")), PROOF_BUNDLE_VERSION_CHAIN);
  assert_int_equal(proof_bundle_from_json(j, &b, reason, sizeof reason), 0);
  json_decref(j);
  assert_int_equal(proof_bundle_verify_from(&b, CHAIN, &g_b, 1, 6, &res, reason, sizeof reason), 0);
  proof_bundle_free(&b);
  for (uint64_t after = 2; after <= 3; after++) {
    assert_int_equal(build_after(TOP - 1, after, &b), 0);
    assert_int_equal(b.n_links, 0);
    assert_int_equal(proof_bundle_verify_from(&b, CHAIN, &g_cc, 2, 12, &res, reason, sizeof reason), 0);
    assert_int_equal(proof_bundle_verify(&b, CHAIN, &g_a, &res, reason, sizeof reason), VE_ERR_HASH_MISMATCH);
    proof_bundle_free(&b);
  }
  /* A fact of epoch 1 asked after epoch 0 (the default) or 1. */
  assert_int_equal(build_after(7, 0, &b), 0);
  assert_int_equal(b.n_links, 1);
  proof_bundle_free(&b);
  assert_int_equal(build_after(7, 1, &b), 0);
  assert_int_equal(b.n_links, 0);
  assert_int_equal(proof_bundle_verify_from(&b, CHAIN, &g_b, 1, 6, &res, reason, sizeof reason), 0);
  proof_bundle_free(&b);
}

/* A pruning store: once the versions holding the records (4 and 10) are gone,
 * the kept link proofs still build a bundle that proves; a store that kept
 * none answers VE_ERR_PRUNED. */
static void prune_to(uint64_t keep_from) {
  store_txn_t *t;
  size_t deleted = 0;
  assert_int_equal(store_txn_begin(g_c.store, true, &t), 0);
  assert_int_equal(state_prune(t, keep_from, 1000000, &deleted), 0);
  assert_true(deleted > 0);
  assert_int_equal(store_txn_commit(t), 0);
}

static void test_pruned_store_uses_kept_links(void **state) {
  (void)state;
  char reason[PROOF_REASON_BYTES_MAX];
  for (int keep = 1; keep >= 0; keep--) {
    tchain_free(&g_c);
    g_keep = keep;
    chain_build(true);
    prune_to(TOP - 2);
    proof_bundle_t b;
    assert_int_equal(build(4, &b), VE_ERR_PRUNED); /* the fact itself is gone */
    proof_bundle_free(&b);
    int rc = build(TOP - 1, &b);
    if (keep) {
      assert_int_equal(rc, 0);
      assert_int_equal(b.n_links, 2);
      if (verify(&b, reason, sizeof reason)) fail_msg("kept links: %s", reason);
    } else {
      assert_int_equal(rc, VE_ERR_PRUNED);
    }
    proof_bundle_free(&b);
  }
  g_keep = true;
}

/* JSON whose version and links disagree, or whose links are malformed. */
static void test_json_refuses(void **state) {
  (void)state;
  char reason[PROOF_REASON_BYTES_MAX];
  proof_bundle_t b;
  assert_int_equal(build(TOP - 1, &b), 0);
  json_t *good = proof_bundle_to_json(&b);
  proof_bundle_free(&b);
  assert_non_null(good);
  static const struct {
    const char *edit;
    int rc;
  } cases[] = {
      {"version1", VE_ERR_MALFORMED},  {"version3", VE_ERR_VERSION},   {"no_valsets", VE_ERR_MALFORMED},
      {"empty", VE_ERR_MALFORMED},     {"too_many", VE_ERR_MALFORMED}, {"no_epoch", VE_ERR_MALFORMED},
      {"negative", VE_ERR_MALFORMED},  {"odd_hex", VE_ERR_MALFORMED},  {"not_object", VE_ERR_MALFORMED},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *j = json_deep_copy(good);
    json_t *arr = json_object_get(j, "valsets");
    const char *e = cases[i].edit;
    if (!strcmp(e, "version1")) json_object_set_new(j, "version", json_integer(1));
    if (!strcmp(e, "version3")) json_object_set_new(j, "version", json_integer(3));
    if (!strcmp(e, "no_valsets")) json_object_del(j, "valsets");
    if (!strcmp(e, "empty")) json_array_clear(arr);
    if (!strcmp(e, "too_many"))
      while (json_array_size(arr) <= PROOF_VALSET_LINKS_MAX) json_array_append(arr, json_array_get(arr, 0));
    if (!strcmp(e, "no_epoch")) json_object_del(json_array_get(arr, 1), "epoch");
    if (!strcmp(e, "negative")) json_object_set_new(json_array_get(arr, 0), "height", json_integer(-1));
    if (!strcmp(e, "odd_hex")) json_object_set_new(json_array_get(arr, 1), "cert", json_string("abc"));
    if (!strcmp(e, "not_object")) json_array_set_new(arr, 0, json_string("link"));
    proof_bundle_init(&b);
    reason[0] = 0;
    int rc = proof_bundle_from_json(j, &b, reason, sizeof reason);
    if (rc != cases[i].rc) fail_msg("%s: got %d (%s), want %d", e, rc, reason, cases[i].rc);
    assert_true(reason[0] != 0);
    proof_bundle_free(&b);
    json_decref(j);
  }
  json_decref(good);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_links_follow_the_sets),
      cmocka_unit_test(test_tampered_links_refused),
      cmocka_unit_test(test_verify_era),
      cmocka_unit_test(test_verify_from_trusted_epoch),
      cmocka_unit_test(test_links_after_trusted_epoch),
      cmocka_unit_test(test_json_refuses),
      cmocka_unit_test(test_pruned_store_uses_kept_links),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
