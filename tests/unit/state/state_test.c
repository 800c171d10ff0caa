/* state_test.c — unit tests of src/state: get/commit/root, the empty root, a
 * fixed vector, proofs of presence and absence, tampering of every proof bit,
 * historical proofs, delete-restores-root, order and history independence,
 * argument limits, and one run on LMDB. Roots are also checked against the
 * reference definition in state_test_util.c. Random tests print their seed and
 * replay with VECHE_SEED=<seed>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* Root of {a:1, b:2, c:3} and proofs in it; also in docs/state.md. */
#define STATE_TEST_PROOF_A \
  "0102c062bfb48fa8335da9ab0387904ca989fff856388b14896f1f9322f9e5f9423e7d16cb0f0a8afbe32fd1e67451bdab8de21e5fc03286c2461920387434d937907501dcb28d39456b1329d9715b407a3c83d44497eafe4197699226d4c84a9e1ed1fea7a4b0662fdae99d299a614a01e708dfc2d3d24fccbd6bb6d52e2f26fdebf695"
#define STATE_TEST_PROOF_E \
  "0102c062bfb48fa8335da9ab0387904ca989fff856388b14896f1f9322f9e5f9423e7d459951ff4f96ea5ecf8f8a99796357802f5a17ce5ee59757ad4e441a25da94fc01907399764d0b2d9ad26eb01a0f8b83a545f4549bd9ee791cafe9b8ef89b097f057bb37fb1321271528b10f4b750cd23c6d2350a7fc318f3b7ffcdbbbba37767e"
#define STATE_TEST_VECTOR_ABC "2e5fc61bf45dfe23429262958d1a85fda72abce8950e2143933e282a7b57d30f"

#include "base/err.h"
#include "crypto/crypto.h"
#include "state/state.h"
#include "state/state_int.h" /* proof decoder, to pick absence proofs of both kinds */
#include "state_test_util.h"

static ve_slice_t str(const char *s) { return ve_slice(s, strlen(s)); }

static state_change_t set(const char *k, const char *v) {
  state_change_t c = {str(k), str(v), false};
  return c;
}

static state_change_t del(const char *k) {
  state_change_t c = {str(k), ve_slice(NULL, 0), true};
  return c;
}

static store_t *mem_store(void) {
  store_t *s = NULL;
  assert_int_equal(store_open_mem(&s), 0);
  return s;
}

static void root_at(store_t *s, uint64_t v, uint8_t out[32]) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  assert_int_equal(state_root_at(t, v, out), 0);
  store_txn_abort(t);
}

/* ---- basics ---- */

static void test_empty_root(void **st) {
  (void)st;
  for (unsigned i = 0; i < 32; i++) assert_int_equal(STATE_EMPTY_ROOT[i], 0);
  store_t *s = mem_store();
  store_txn_t *t;
  uint8_t root[32];
  uint64_t v;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  assert_int_equal(state_root_at(t, 0, root), VE_ERR_NOT_FOUND);
  assert_int_equal(state_version_latest(t, &v), VE_ERR_NOT_FOUND);
  store_txn_abort(t);

  assert_int_equal(tu_commit(s, 0, NULL, 0, root), 0);
  assert_memory_equal(root, STATE_EMPTY_ROOT, 32);
  root_at(s, 0, root);
  assert_memory_equal(root, STATE_EMPTY_ROOT, 32);
  root_at(s, 1000, root);
  assert_memory_equal(root, STATE_EMPTY_ROOT, 32);
  /* Absence in the empty map has a proof too. */
  assert_true(tu_prove_check(s, 0, STATE_EMPTY_ROOT, str("nobody"), NULL) > 0);
  store_close(s);
}

static void test_basic_get_commit(void **st) {
  (void)st;
  store_t *s = mem_store();
  uint8_t r0[32], r1[32], r2[32], r[32];
  state_change_t c1[] = {set("alice", "1"), set("bob", "2"), set("carol", "")};
  assert_int_equal(tu_commit(s, 0, NULL, 0, r0), 0);
  assert_int_equal(tu_commit(s, 1, c1, 3, r1), 0);
  assert_memory_not_equal(r1, STATE_EMPTY_ROOT, 32);

  store_txn_t *t;
  ve_slice_t v;
  assert_int_equal(store_txn_begin(s, true, &t), 0);
  assert_int_equal(state_get(t, str("alice"), &v), 0);
  assert_true(ve_slice_eq(v, str("1")));
  assert_int_equal(state_get(t, str("carol"), &v), 0);
  assert_int_equal(v.len, 0);
  assert_int_equal(state_get(t, str("dave"), &v), VE_ERR_NOT_FOUND);
  assert_int_equal(state_get(t, ve_slice(NULL, 0), &v), VE_ERR_INVALID);
  /* Later changes in the same txn are visible to state_get. */
  state_change_t c2[] = {set("alice", "3"), del("bob"), del("nobody")};
  assert_int_equal(state_commit(t, 2, c2, 3, r2), 0);
  assert_int_equal(state_get(t, str("alice"), &v), 0);
  assert_true(ve_slice_eq(v, str("3")));
  assert_int_equal(state_get(t, str("bob"), &v), VE_ERR_NOT_FOUND);
  uint64_t latest;
  assert_int_equal(state_version_latest(t, &latest), 0);
  assert_int_equal(latest, 2);
  /* Versions strictly increase. */
  assert_int_equal(state_commit(t, 2, c2, 1, r), VE_ERR_HEIGHT);
  assert_int_equal(store_txn_commit(t), 0);
  assert_int_equal(tu_commit(s, 1, NULL, 0, r), VE_ERR_HEIGHT);

  uint8_t got[32];
  root_at(s, 1, got);
  assert_memory_equal(got, r1, 32);
  root_at(s, 2, got);
  assert_memory_equal(got, r2, 32);
  root_at(s, 77, got);
  assert_memory_equal(got, r2, 32);
  assert_memory_not_equal(r1, r2, 32);

  /* Gaps between versions are allowed; a commit with no change keeps the root. */
  assert_int_equal(tu_commit(s, 10, NULL, 0, got), 0);
  assert_memory_equal(got, r2, 32);
  root_at(s, 9, got);
  assert_memory_equal(got, r2, 32);
  store_close(s);
}

/* Roots computed by hand from the definition, and a fixed vector (also in
 * docs/state.md) pinning the whole construction. */
static void test_root_definition(void **st) {
  (void)st;
  store_t *s = mem_store();
  uint8_t root[32];
  state_change_t one[] = {set("a", "1")};
  assert_int_equal(tu_commit(s, 1, one, 1, root), 0);
  tu_ref_leaf_t l[3];
  tu_ref_leaf(&l[0], str("a"), str("1"));
  assert_memory_equal(root, l[0].leaf, 32); /* one leaf: the root is the leaf */

  state_change_t more[] = {set("b", "2"), set("c", "3")};
  assert_int_equal(tu_commit(s, 2, more, 2, root), 0);
  tu_ref_leaf(&l[1], str("b"), str("2"));
  tu_ref_leaf(&l[2], str("c"), str("3"));
  uint8_t want[32];
  tu_ref_root(want, l, 3);
  assert_memory_equal(root, want, 32);

  char hex[65];
  ve_hex_encode(hex, root, 32);
  printf("vector root {a:1,b:2,c:3} = %s\n", hex);
  assert_string_equal(hex, STATE_TEST_VECTOR_ABC);

  /* Proof vectors in the same map: "a" present, "e" absent (ends at leaf "b"). */
  const char *keys[] = {"a", "e"};
  const char *want_hex[] = {STATE_TEST_PROOF_A, STATE_TEST_PROOF_E};
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  for (unsigned i = 0; i < 2; i++) {
    ve_buf_t proof;
    ve_buf_init(&proof, 0);
    bool present;
    assert_int_equal(state_prove(t, 2, str(keys[i]), &present, NULL, &proof), 0);
    assert_int_equal(present, i == 0);
    char phex[2 * 200 + 1];
    assert_true(proof.len <= 200);
    ve_hex_encode(phex, proof.ptr, proof.len);
    printf("vector proof of %s = %s\n", keys[i], phex);
    assert_string_equal(phex, want_hex[i]);
    ve_buf_free(&proof);
  }
  store_txn_abort(t);
  store_close(s);
}

/* ---- proofs ---- */

#define PROOF_MAP_KEYS 600

static void key_name(char *out, size_t cap, unsigned i) { snprintf(out, cap, "key-%u", i); }

static store_t *build_map(unsigned nkeys, uint8_t root[32]) {
  store_t *s = mem_store();
  state_change_t *ch = calloc(nkeys, sizeof *ch);
  char (*names)[16] = calloc(nkeys, 16);
  assert_non_null(ch);
  assert_non_null(names);
  for (unsigned i = 0; i < nkeys; i++) {
    key_name(names[i], 16, i);
    ch[i].key = str(names[i]);
    ch[i].val = str(names[i] + 4); /* value = the number */
  }
  assert_int_equal(tu_commit(s, 1, ch, nkeys, root), 0);
  free(ch);
  free(names);
  return s;
}

static void test_proofs_present_absent(void **st) {
  (void)st;
  uint8_t root[32];
  store_t *s = build_map(PROOF_MAP_KEYS, root);
  char name[16];
  long max_len = 0;
  for (unsigned i = 0; i < 2 * PROOF_MAP_KEYS; i++) {
    key_name(name, sizeof name, i);
    ve_slice_t want = str(name + 4);
    long len = tu_prove_check(s, 1, root, str(name), i < PROOF_MAP_KEYS ? &want : NULL);
    assert_true(len > 0);
    if (len > max_len) max_len = len;
  }
  assert_true(max_len <= STATE_PROOF_BYTES_MAX);

  /* A proof shows exactly one claim. */
  store_txn_t *t;
  ve_buf_t val, proof;
  ve_buf_init(&val, 0);
  ve_buf_init(&proof, 0);
  bool present;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  assert_int_equal(state_prove(t, 1, str("key-5"), &present, &val, &proof), 0);
  assert_true(present);
  ve_slice_t good = str("5"), bad = str("6"), empty = ve_slice(NULL, 0);
  assert_int_equal(state_proof_verify(root, str("key-5"), &good, ve_buf_slice(&proof)), 0);
  assert_int_equal(state_proof_verify(root, str("key-5"), &bad, ve_buf_slice(&proof)), VE_ERR_PROOF);
  assert_int_equal(state_proof_verify(root, str("key-5"), &empty, ve_buf_slice(&proof)), VE_ERR_PROOF);
  assert_int_equal(state_proof_verify(root, str("key-5"), NULL, ve_buf_slice(&proof)), VE_ERR_PROOF);
  assert_int_equal(state_proof_verify(root, str("key-6"), &good, ve_buf_slice(&proof)), VE_ERR_PROOF);
  assert_int_equal(state_proof_verify(root, str("key-6"), NULL, ve_buf_slice(&proof)), VE_ERR_PROOF);

  assert_int_equal(state_prove(t, 1, str("absent"), &present, &val, &proof), 0);
  assert_false(present);
  assert_int_equal(val.len, 0);
  assert_int_equal(state_proof_verify(root, str("absent"), NULL, ve_buf_slice(&proof)), 0);
  assert_int_equal(state_proof_verify(root, str("absent"), &good, ve_buf_slice(&proof)), VE_ERR_PROOF);
  assert_int_equal(state_proof_verify(root, str("key-5"), NULL, ve_buf_slice(&proof)), VE_ERR_PROOF);
  assert_int_equal(state_prove(t, 0, str("absent"), &present, &val, &proof), VE_ERR_NOT_FOUND);
  store_txn_abort(t);
  ve_buf_free(&val);
  ve_buf_free(&proof);
  store_close(s);
}

/* Every single-bit flip anywhere in the proof, every truncation, an extra byte,
 * a flipped root bit and a different key or value must all be refused. */
static void tamper_all(const uint8_t root[32], ve_slice_t key, const ve_slice_t *val,
                       ve_slice_t proof) {
  assert_int_equal(state_proof_verify(root, key, val, proof), 0);
  uint8_t *buf = malloc(proof.len + 1);
  assert_non_null(buf);
  for (size_t i = 0; i < proof.len; i++) {
    for (unsigned b = 0; b < 8; b++) {
      memcpy(buf, proof.ptr, proof.len);
      buf[i] ^= (uint8_t)(1u << b);
      int rc = state_proof_verify(root, key, val, ve_slice(buf, proof.len));
      if (rc == 0) fail_msg("flip of byte %zu bit %u still verifies", i, b);
    }
  }
  for (size_t len = 0; len < proof.len; len++) {
    assert_int_not_equal(state_proof_verify(root, key, val, ve_slice(proof.ptr, len)), 0);
  }
  memcpy(buf, proof.ptr, proof.len);
  buf[proof.len] = 0;
  assert_int_equal(state_proof_verify(root, key, val, ve_slice(buf, proof.len + 1)), VE_ERR_MALFORMED);
  uint8_t r2[32];
  for (unsigned bit = 0; bit < 256; bit += 7) {
    memcpy(r2, root, 32);
    r2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    assert_int_equal(state_proof_verify(r2, key, val, proof), VE_ERR_PROOF);
  }
  /* A different key (one bit of it flipped). */
  memcpy(buf, key.ptr, key.len);
  buf[key.len - 1] ^= 1;
  assert_int_equal(state_proof_verify(root, ve_slice(buf, key.len), val, proof), VE_ERR_PROOF);
  if (val) {
    uint8_t v2[64];
    assert_true(val->len < sizeof v2);
    memcpy(v2, val->ptr, val->len);
    v2[val->len] = 'x';
    ve_slice_t longer = ve_slice(v2, val->len + 1);
    assert_int_equal(state_proof_verify(root, key, &longer, proof), VE_ERR_PROOF);
    if (val->len > 0) {
      v2[0] ^= 0x01;
      ve_slice_t flipped = ve_slice(v2, val->len);
      assert_int_equal(state_proof_verify(root, key, &flipped, proof), VE_ERR_PROOF);
    }
  }
  free(buf);
}

static void test_tampered_proofs_fail(void **st) {
  (void)st;
  uint8_t root[32];
  store_t *s = build_map(PROOF_MAP_KEYS, root);
  store_txn_t *t;
  ve_buf_t val, proof;
  ve_buf_init(&val, 0);
  ve_buf_init(&proof, 0);
  bool present;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  unsigned seen_empty = 0, seen_leaf = 0;
  char name[16];
  /* Present keys, then absent ones until both kinds of absence were seen. */
  for (unsigned i = 0; i < 3; i++) {
    key_name(name, sizeof name, i * 97);
    ve_slice_t want = str(name + 4);
    assert_int_equal(state_prove(t, 1, str(name), &present, &val, &proof), 0);
    assert_true(present);
    tamper_all(root, str(name), &want, ve_buf_slice(&proof));
  }
  for (unsigned i = PROOF_MAP_KEYS; i < PROOF_MAP_KEYS + 400 && (!seen_empty || !seen_leaf); i++) {
    key_name(name, sizeof name, i);
    assert_int_equal(state_prove(t, 1, str(name), &present, &val, &proof), 0);
    assert_false(present);
    static state_proof_t decoded;
    assert_int_equal(state_proof_decode(&decoded, ve_buf_slice(&proof)), 0);
    bool ends_in_leaf = decoded.leaf, ends_empty = !decoded.leaf;
    if (ends_in_leaf && seen_leaf < 2) {
      seen_leaf++;
      tamper_all(root, str(name), NULL, ve_buf_slice(&proof));
    } else if (ends_empty && seen_empty < 2) {
      seen_empty++;
      tamper_all(root, str(name), NULL, ve_buf_slice(&proof));
    }
  }
  assert_true(seen_empty > 0 && seen_leaf > 0);
  store_txn_abort(t);
  ve_buf_free(&val);
  ve_buf_free(&proof);
  store_close(s);
}

static void test_proof_malformed(void **st) {
  (void)st;
  ve_slice_t key = str("k");
  uint8_t buf[8];
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, key, NULL, ve_slice(NULL, 0)), VE_ERR_MALFORMED);
  buf[0] = 1, buf[1] = 0, buf[2] = 0; /* depth 0, terminal empty: the empty map */
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, key, NULL, ve_slice(buf, 3)), 0);
  buf[0] = 2;
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, key, NULL, ve_slice(buf, 3)), VE_ERR_VERSION);
  buf[0] = 1, buf[2] = 2; /* unknown terminal */
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, key, NULL, ve_slice(buf, 3)), VE_ERR_MALFORMED);
  buf[1] = 0x80, buf[2] = 0x00; /* non-minimal uvarint for 0 */
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, key, NULL, ve_slice(buf, 4)), VE_ERR_MALFORMED);
  buf[1] = 0x81, buf[2] = 0x02; /* depth 257 */
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, key, NULL, ve_slice(buf, 3)), VE_ERR_MALFORMED);
  buf[1] = 1, buf[2] = 0x00, buf[3] = 0; /* depth 1 with an empty last sibling */
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, key, NULL, ve_slice(buf, 4)), VE_ERR_MALFORMED);
  buf[1] = 1, buf[2] = 0x40, buf[3] = 0; /* padding bit set */
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, key, NULL, ve_slice(buf, 4)), VE_ERR_MALFORMED);
  uint8_t big_key[STATE_KEY_BYTES_MAX + 1] = {0};
  buf[1] = 0, buf[2] = 0;
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, ve_slice(big_key, sizeof big_key), NULL,
                                      ve_slice(buf, 3)), VE_ERR_INVALID);
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, ve_slice(NULL, 0), NULL, ve_slice(buf, 3)),
                   VE_ERR_INVALID);
  /* An explicitly encoded all-zero sibling is not canonical. */
  uint8_t z[1 + 1 + 1 + 32 + 1] = {1, 1, 0x80};
  assert_int_equal(state_proof_verify(STATE_EMPTY_ROOT, key, NULL, ve_slice(z, sizeof z)), VE_ERR_MALFORMED);
}

/* ---- history, deletes, order ---- */

static void test_historical_proofs(void **st) {
  (void)st;
  tu_rng_seed(tu_seed("historical_proofs"));
  enum { VERSIONS = 12, KEYS = 300 };
  store_t *s = mem_store();
  static char vals[VERSIONS + 1][KEYS][12]; /* value of key i after version v; "" = absent */
  static bool has[VERSIONS + 1][KEYS];
  uint8_t roots[VERSIONS + 1][32];
  char names[KEYS][12];
  for (unsigned i = 0; i < KEYS; i++) snprintf(names[i], sizeof names[i], "h%u", i);
  assert_int_equal(tu_commit(s, 0, NULL, 0, roots[0]), 0);
  for (unsigned v = 1; v <= VERSIONS; v++) {
    memcpy(vals[v], vals[v - 1], sizeof vals[v]);
    memcpy(has[v], has[v - 1], sizeof has[v]);
    state_change_t ch[60];
    for (unsigned j = 0; j < 60; j++) {
      unsigned k = (unsigned)tu_rng_below(KEYS);
      ch[j].key = str(names[k]);
      if (has[v][k] && tu_rng_below(3) == 0) {
        ch[j].del = true;
        ch[j].val = ve_slice(NULL, 0);
        has[v][k] = false;
      } else {
        ch[j].del = false;
        snprintf(vals[v][k], 12, "v%u.%u", v, j);
        ch[j].val = str(vals[v][k]);
        has[v][k] = true;
      }
    }
    assert_int_equal(tu_commit(s, v, ch, 60, roots[v]), 0);
  }
  /* Every key at every version, against that version's root. */
  for (unsigned v = 0; v <= VERSIONS; v++) {
    uint8_t r[32];
    root_at(s, v, r);
    assert_memory_equal(r, roots[v], 32);
    for (unsigned k = 0; k < KEYS; k++) {
      ve_slice_t want = str(vals[v][k]);
      long len = tu_prove_check(s, v, roots[v], str(names[k]), has[v][k] ? &want : NULL);
      if (len < 0) fail_msg("key %u at version %u", k, v);
    }
  }
  store_close(s);
}

static void test_delete_restores_root(void **st) {
  (void)st;
  uint8_t base[32], r[32];
  store_t *s = build_map(200, base);
  state_change_t ins[] = {set("X", "x")};
  state_change_t rm[] = {del("X")};
  assert_int_equal(tu_commit(s, 2, ins, 1, r), 0);
  assert_memory_not_equal(r, base, 32);
  assert_int_equal(tu_commit(s, 3, rm, 1, r), 0);
  assert_memory_equal(r, base, 32);
  /* Two keys in, then out again in one batch; an update and its undo. */
  state_change_t ins2[] = {set("X", "x"), set("Y", "y"), set("key-7", "changed")};
  state_change_t rm2[] = {del("Y"), set("key-7", "7"), del("X")};
  assert_int_equal(tu_commit(s, 4, ins2, 3, r), 0);
  assert_int_equal(tu_commit(s, 5, rm2, 3, r), 0);
  assert_memory_equal(r, base, 32);
  /* Deleting every key gives the empty root. */
  state_change_t *all = calloc(200, sizeof *all);
  char (*names)[16] = calloc(200, 16);
  for (unsigned i = 0; i < 200; i++) {
    key_name(names[i], 16, i);
    all[i].key = str(names[i]);
    all[i].del = true;
  }
  assert_int_equal(tu_commit(s, 6, all, 200, r), 0);
  assert_memory_equal(r, STATE_EMPTY_ROOT, 32);
  /* Old versions still prove after everything is gone. */
  ve_slice_t want = str("7");
  assert_true(tu_prove_check(s, 1, base, str("key-7"), &want) > 0);
  assert_true(tu_prove_check(s, 6, STATE_EMPTY_ROOT, str("key-7"), NULL) > 0);
  free(all);
  free(names);
  store_close(s);
}

static void test_same_value_rewrite(void **st) {
  (void)st;
  uint8_t r1[32], r2[32];
  store_t *s = build_map(50, r1);
  state_change_t again[] = {set("key-3", "3"), set("key-4", "4")};
  assert_int_equal(tu_commit(s, 2, again, 2, r2), 0);
  assert_memory_equal(r1, r2, 32);
  ve_slice_t want = str("3");
  assert_true(tu_prove_check(s, 2, r2, str("key-3"), &want) > 0);
  store_close(s);
}

/* The hashes of the tree are vcrypto_hash with the four tags (docs/state.md
 * section 2), for messages of every length a key can have. */
static void test_tagged_hashes(void **st) {
  (void)st;
  uint8_t msg[STATE_KEY_BYTES_MAX], a[32], b[32], vh[32];
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 1);
  for (size_t len = 0; len <= STATE_KEY_BYTES_MAX; len++) {
    if (len > 0) {
      state_key_path(a, ve_slice(msg, len));
      vcrypto_hash(b, STATE_TAG_KEY, msg, len);
      assert_memory_equal(a, b, 32);
    }
    state_value_hash(a, ve_slice(msg, len));
    vcrypto_hash(b, STATE_TAG_VALUE, msg, len);
    assert_memory_equal(a, b, 32);
  }
  memcpy(vh, msg + 32, 32);
  state_leaf_hash(a, msg, vh);
  vcrypto_hash(b, STATE_TAG_LEAF, msg, 64);
  assert_memory_equal(a, b, 32);
  state_node_hash(a, msg + 100, msg + 132);
  vcrypto_hash(b, STATE_TAG_NODE, msg + 100, 64);
  assert_memory_equal(a, b, 32);
}

/* A stored node that does not decode exactly (truncated, extended, unknown
 * format, a leaf bit without its slot, a non-minimal version) is refused as
 * corrupt by proofs and commits that reach it, never read as something else.
 * The bad bytes are committed (as a disk would hold them: commits read nodes
 * from the committed state first), checked in a later txn, then the good
 * node is put back. */
static void root_node_put(store_t *s, const uint8_t *bytes, size_t len) {
  uint8_t key[9];
  ve_be64_put(key, 1);
  key[8] = 0xff; /* the root node of version 1 */
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, true, &t), 0);
  assert_int_equal(store_put(t, STORE_T_STATE_NODES, ve_slice(key, 9), ve_slice(bytes, len)), 0);
  assert_int_equal(store_txn_commit(t), 0);
}

static const uint8_t *g_good_node;
static size_t g_good_len;

static void corrupt_root_node_expect(store_t *s, const uint8_t *bytes, size_t len) {
  root_node_put(s, bytes, len);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, true, &t), 0);
  bool present;
  ve_buf_t val, proof;
  ve_buf_init(&val, STATE_VALUE_BYTES_MAX);
  ve_buf_init(&proof, STATE_PROOF_BYTES_MAX);
  assert_int_equal(state_prove(t, 1, str("key-7"), &present, &val, &proof), VE_ERR_CORRUPT);
  assert_false(present);
  ve_buf_free(&val);
  ve_buf_free(&proof);
  uint8_t root[32];
  state_change_t ch[] = {set("key-7", "x")};
  assert_int_equal(state_commit(t, 2, ch, 1, root), VE_ERR_CORRUPT);
  store_txn_abort(t);
  root_node_put(s, g_good_node, g_good_len);
}

static void test_corrupt_nodes(void **st) {
  (void)st;
  uint8_t root[32], node[STATE_NODE_BYTES_MAX + 2], bad[STATE_NODE_BYTES_MAX + 2];
  store_t *s = build_map(40, root);
  uint8_t key[9];
  ve_be64_put(key, 1);
  key[8] = 0xff;
  store_txn_t *t;
  ve_slice_t v;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  assert_int_equal(store_get(t, STORE_T_STATE_NODES, ve_slice(key, 9), &v), 0);
  size_t len = v.len;
  assert_true(len > 5 && len <= STATE_NODE_BYTES_MAX);
  memcpy(node, v.ptr, len);
  store_txn_abort(t);
  g_good_node = node;
  g_good_len = len;

  for (size_t cut = 0; cut < len; cut++) corrupt_root_node_expect(s, node, cut);
  memcpy(bad, node, len);
  bad[len] = 0;
  corrupt_root_node_expect(s, bad, len + 1); /* a trailing byte */
  for (unsigned f = 0; f < 3; f += 2) { /* formats 0 and 2 */
    memcpy(bad, node, len);
    bad[0] = (uint8_t)f;
    corrupt_root_node_expect(s, bad, len);
  }
  unsigned present = (unsigned)node[1] << 8 | node[2];
  if (present != 0xffff) { /* a leaf bit for an empty slot */
    memcpy(bad, node, len);
    unsigned leaves = ((unsigned)node[3] << 8 | node[4]) | (~present & 0xffff);
    bad[3] = (uint8_t)(leaves >> 8);
    bad[4] = (uint8_t)leaves;
    corrupt_root_node_expect(s, bad, len);
  }
  /* The first slot's version (1, one byte) written as two bytes. */
  unsigned leaves = (unsigned)node[3] << 8 | node[4];
  unsigned first = (unsigned)__builtin_ctz(present);
  size_t at = 5 + 32 + ((leaves >> first) & 1 ? 32 : 0);
  assert_int_equal(node[at], 1);
  memcpy(bad, node, at);
  bad[at] = 0x81;
  bad[at + 1] = 0x00;
  memcpy(bad + at + 2, node + at + 1, len - at - 1);
  corrupt_root_node_expect(s, bad, len + 1);

  /* The untouched store still proves and commits. */
  ve_slice_t want = str("7");
  assert_true(tu_prove_check(s, 1, root, str("key-7"), &want) > 0);
  state_change_t ch[] = {set("key-7", "x")};
  assert_int_equal(tu_commit(s, 2, ch, 1, root), 0);
  store_close(s);
}

/* Batches whose paths share long prefixes sort like any other: keys ground
 * until their paths start with the same 12 bits (the commit's sort buckets
 * on the first bits of the path) give the reference root, in any order. */
static void test_shared_prefix_batch(void **st) {
  (void)st;
  enum { N = 200 };
  static char names[N][24];
  state_change_t ch[N];
  tu_ref_leaf_t ref[N];
  unsigned found = 0;
  for (uint64_t i = 0; found < N; i++) {
    char name[24];
    snprintf(name, sizeof name, "grind-%llu", (unsigned long long)i);
    uint8_t path[32];
    state_key_path(path, str(name));
    if (path[0] != 0x5a || (path[1] >> 4) != 0x3) continue;
    memcpy(names[found], name, sizeof name);
    found++;
  }
  for (unsigned pass = 0; pass < 2; pass++) {
    for (unsigned i = 0; i < N; i++) {
      unsigned j = pass ? N - 1 - i : i;
      ch[i] = set(names[j], names[j] + 6);
      tu_ref_leaf(&ref[i], ch[i].key, ch[i].val);
    }
    store_t *s = mem_store();
    uint8_t root[32], want[32];
    assert_int_equal(tu_commit(s, 1, ch, N, root), 0);
    tu_ref_root(want, ref, N);
    assert_memory_equal(root, want, 32);
    store_close(s);
  }
}

/* Same final map => same root, whatever the order inside a batch, duplicates in
 * it, or the history of batches that led there; and equal to the reference. */
static void test_order_independence(void **st) {
  (void)st;
  tu_rng_seed(tu_seed("order_independence"));
  enum { KEYS = 1500 };
  char (*names)[16] = calloc(KEYS, 16);
  char (*vals)[16] = calloc(KEYS, 16);
  state_change_t *ch = calloc(3 * KEYS, sizeof *ch);
  tu_ref_leaf_t *ref = calloc(KEYS, sizeof *ref);
  for (unsigned i = 0; i < KEYS; i++) {
    snprintf(names[i], 16, "o%u", i);
    snprintf(vals[i], 16, "%llu", (unsigned long long)tu_rng_below(1000000));
    tu_ref_leaf(&ref[i], str(names[i]), str(vals[i]));
  }
  uint8_t want[32], ra[32], rb[32], rc[32];
  tu_ref_root(want, ref, KEYS);

  /* A: one batch in order. */
  store_t *a = mem_store();
  for (unsigned i = 0; i < KEYS; i++) ch[i] = set(names[i], vals[i]);
  assert_int_equal(tu_commit(a, 1, ch, KEYS, ra), 0);
  assert_memory_equal(ra, want, 32);

  /* B: keys in a shuffled order, each preceded (earlier in the batch) by stale
   * writes and deletes of itself that the final write must override. */
  store_t *b = mem_store();
  size_t n = 0;
  unsigned *perm = calloc(KEYS, sizeof *perm);
  for (unsigned i = 0; i < KEYS; i++) perm[i] = i;
  for (unsigned i = KEYS; i-- > 1;) {
    unsigned j = (unsigned)tu_rng_below(i + 1), tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
  n = 0;
  for (unsigned p = 0; p < KEYS; p++) {
    unsigned i = perm[p];
    if (i % 3 == 0) ch[n++] = set(names[i], "stale");
    if (i % 5 == 0) ch[n++] = del(names[i]);
  }
  for (unsigned p = KEYS; p-- > 0;) ch[n++] = set(names[perm[p]], vals[perm[p]]);
  assert_int_equal(tu_commit(b, 1, ch, n, rb), 0);
  assert_memory_equal(rb, want, 32);

  /* C: many batches with extra keys, wrong values and deletes on the way. */
  store_t *c = mem_store();
  uint64_t version = 0;
  for (unsigned round = 0; round < 4; round++) {
    n = 0;
    for (unsigned p = 0; p < KEYS; p++) {
      unsigned i = perm[(p + round * 373) % KEYS];
      unsigned what = (unsigned)tu_rng_below(4);
      if (what == 0) ch[n++] = set(names[i], "wrong");
      if (what == 1) ch[n++] = del(names[i]);
      if (what == 2) ch[n++] = set(names[i], vals[i]);
    }
    for (unsigned x = 0; x < 50; x++) {
      static char extra[50][16];
      snprintf(extra[x], 16, "extra%u", x);
      ch[n++] = round < 3 ? set(extra[x], "e") : del(extra[x]);
    }
    assert_int_equal(tu_commit(c, ++version, ch, n, rc), 0);
  }
  n = 0;
  for (unsigned i = 0; i < KEYS; i++) ch[n++] = set(names[i], vals[i]);
  assert_int_equal(tu_commit(c, ++version, ch, n, rc), 0);
  assert_memory_equal(rc, want, 32);

  store_close(a);
  store_close(b);
  store_close(c);
  free(perm);
  free(names);
  free(vals);
  free(ch);
  free(ref);
}

/* ---- limits ---- */

static void test_invalid_changes(void **st) {
  (void)st;
  store_t *s = mem_store();
  uint8_t r0[32], r[32];
  state_change_t ok[] = {set("a", "1")};
  assert_int_equal(tu_commit(s, 1, ok, 1, r0), 0);
  static uint8_t big[STATE_VALUE_BYTES_MAX + 1];
  state_change_t bad_key_empty[] = {set("b", "2"), {ve_slice(NULL, 0), str("x"), false}};
  state_change_t bad_key_long[] = {{ve_slice(big, STATE_KEY_BYTES_MAX + 1), str("x"), false}};
  state_change_t bad_val[] = {{str("c"), ve_slice(big, STATE_VALUE_BYTES_MAX + 1), false}};
  state_change_t max_ok[] = {{ve_slice(big, STATE_KEY_BYTES_MAX), ve_slice(big, STATE_VALUE_BYTES_MAX), false}};
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, true, &t), 0);
  assert_int_equal(state_commit(t, 2, bad_key_empty, 2, r), VE_ERR_INVALID);
  assert_int_equal(state_commit(t, 2, bad_key_long, 1, r), VE_ERR_TOO_BIG);
  assert_int_equal(state_commit(t, 2, bad_val, 1, r), VE_ERR_TOO_BIG);
  assert_int_equal(state_commit(t, 2, ok, STATE_COMMIT_CHANGES_MAX + 1, r), VE_ERR_LIMIT);
  /* Refused before writing anything: the map is unchanged. */
  ve_slice_t v;
  assert_int_equal(state_get(t, str("b"), &v), VE_ERR_NOT_FOUND);
  uint64_t latest;
  assert_int_equal(state_version_latest(t, &latest), 0);
  assert_int_equal(latest, 1);
  /* The largest key and value are accepted and provable. */
  assert_int_equal(state_commit(t, 2, max_ok, 1, r), 0);
  assert_int_equal(store_txn_commit(t), 0);
  ve_slice_t want = ve_slice(big, STATE_VALUE_BYTES_MAX);
  assert_true(tu_prove_check(s, 2, r, ve_slice(big, STATE_KEY_BYTES_MAX), &want) > 0);

  assert_int_equal(store_txn_begin(s, false, &t), 0);
  bool present;
  ve_buf_t proof;
  ve_buf_init(&proof, 0);
  assert_int_equal(state_prove(t, 2, ve_slice(big, STATE_KEY_BYTES_MAX + 1), &present, NULL, &proof),
                   VE_ERR_INVALID);
  store_txn_abort(t);
  ve_buf_free(&proof);
  store_close(s);
}

/* ---- LMDB ---- */

static void test_lmdb(void **st) {
  (void)st;
  tu_rng_seed(tu_seed("lmdb"));
  char dir[TU_LMDB_DIR_BYTES];
  store_t *s = tu_lmdb_open(dir);
  assert_non_null(s);
  enum { KEYS = 3000, VERSIONS = 5 };
  static char names[KEYS][16], vals[KEYS][24];
  static bool has[KEYS];
  state_change_t *ch = calloc(KEYS, sizeof *ch);
  uint8_t roots[VERSIONS + 1][32];
  for (unsigned v = 1; v <= VERSIONS; v++) {
    size_t n = 0;
    for (unsigned i = 0; i < KEYS; i++) {
      if (tu_rng_below(3) != 0) continue;
      snprintf(names[i], 16, "L%u", i);
      if (has[i] && tu_rng_below(4) == 0) {
        has[i] = false;
        ch[n++] = del(names[i]);
      } else {
        has[i] = true;
        snprintf(vals[i], 24, "%u:%llu", v, (unsigned long long)tu_rng());
        ch[n++] = set(names[i], vals[i]);
      }
    }
    assert_int_equal(tu_commit(s, v, ch, n, roots[v]), 0);
  }
  store_close(s);
  /* Reopen: roots and proofs survive. */
  assert_int_equal(store_open_lmdb(&s, dir, (size_t)1 << 30), 0);
  uint8_t r[32];
  for (unsigned v = 1; v <= VERSIONS; v++) {
    root_at(s, v, r);
    assert_memory_equal(r, roots[v], 32);
  }
  tu_ref_leaf_t *ref = calloc(KEYS, sizeof *ref);
  size_t nref = 0;
  for (unsigned i = 0; i < KEYS; i++) {
    char name[16];
    snprintf(name, sizeof name, "L%u", i);
    ve_slice_t want = str(vals[i]);
    assert_true(tu_prove_check(s, VERSIONS, roots[VERSIONS], str(name), has[i] ? &want : NULL) > 0);
    if (has[i]) tu_ref_leaf(&ref[nref++], str(name), want);
  }
  uint8_t want_root[32];
  tu_ref_root(want_root, ref, nref);
  assert_memory_equal(want_root, roots[VERSIONS], 32);
  tu_lmdb_close(s, dir);
  free(ch);
  free(ref);
}

int main(void) {
  assert_int_equal(vcrypto_init(), 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_root),
      cmocka_unit_test(test_basic_get_commit),
      cmocka_unit_test(test_root_definition),
      cmocka_unit_test(test_proofs_present_absent),
      cmocka_unit_test(test_tampered_proofs_fail),
      cmocka_unit_test(test_proof_malformed),
      cmocka_unit_test(test_historical_proofs),
      cmocka_unit_test(test_delete_restores_root),
      cmocka_unit_test(test_same_value_rewrite),
      cmocka_unit_test(test_order_independence),
      cmocka_unit_test(test_tagged_hashes),
      cmocka_unit_test(test_corrupt_nodes),
      cmocka_unit_test(test_shared_prefix_batch),
      cmocka_unit_test(test_invalid_changes),
      cmocka_unit_test(test_lmdb),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
