/* valset_test.c — the consortium changes its validator set on a running
 * network (src/apps/valset; docs/consensus.md "Validator-set changes on the
 * ledger").
 *
 * A `veche testnet` of four validators of equal power and one more node, J,
 * started with a validator key that genesis does not name (the authority that
 * wants to join). J dials the validators, which refuse its key: it is nobody
 * yet. Then:
 *   1. a change approved by v0 alone (1/4 of the power) is refused at
 *      admission with no_quorum;
 *   2. a change adding J, approved by v0, v1, v2 (3/4), commits in block hc:
 *      block hc + 1 still names the genesis set's hash, block hc + 2 the new
 *      one; the validators admit J, which syncs;
 *   3. v3 is stopped: of the five equal powers four remain, more than 2/3
 *      only if J votes, so the chain keeps committing only because J does;
 *   4. a second change removes v3, approved by v0, v1, v2 and J (4/5), while
 *      v3 is down; once it governs, v2 is stopped too: v0, v1 and J hold 3 of 4
 *      and the chain keeps committing, which it could not with v3 still a
 *      member (3 of 5 is not more than 2/3);
 *   5. J and v0 restart and rejoin (the sets come back from their stores), the
 *      chain goes on, and every running node holds the same blocks.
 * A bundle of a height the third set governs carries both changes and proves
 * its fact against the genesis alone (tampered ones do not); J, which prunes,
 * still builds such bundles once it no longer keeps the states holding the
 * epoch records.
 * Every wait is bounded (longer under the sanitizers); every node must exit
 * cleanly on SIGTERM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "apps/valset/valset.h"
#include "base/bytes.h"
#include "harness.h"

#define NV 4
#define J NV /* node index of the joining authority's node */
#define EMPTY_BLOCK_MS 300
#define POWER 10 /* testnet's power per validator */
#define WAIT_MS (60000 * H_SCALE)
#define ADVANCE 5 /* heights the chain must add to count as committing */
#define KEEP_BLOCKS 16 /* J's state_keep_blocks: NODE_STATE_KEEP_BLOCKS_MIN */

static const char *g_veche;

static void vs_key(const h_node_t *n, vcrypto_keypair_t *kp) {
  char path[320];
  snprintf(path, sizeof path, "%s/validator.key", n->dir);
  assert_int_equal(vcrypto_keyfile_read(path, kp), 0);
}

/* A set of the given keys, each with POWER. */
static void vs_make(cons_valset_t *vs, const vcrypto_keypair_t *keys, size_t k) {
  memset(vs, 0, sizeof *vs);
  vs->count = (uint32_t)k;
  for (size_t i = 0; i < k; i++) {
    memcpy(vs->v[i].pk, keys[i].pk, VCRYPTO_PK_BYTES);
    vs->v[i].power = POWER;
  }
  assert_int_equal(cons_valset_check(vs), 0);
}

/* Submits a change from cur to next, approved by the validators of cur at
 * the given indices (increasing) with their keys, as the founding authority
 * (through node `to`). Returns the HTTP status; *err the error name if any. */
static int vs_submit(h_net_t *net, h_node_t *to, const cons_valset_t *cur, const cons_valset_t *next,
                     uint64_t epoch, const uint32_t *idx, const vcrypto_keypair_t *const *keys, size_t k,
                     uint8_t id[32], char *err, size_t err_len) {
  valset_change_t *c = calloc(1, sizeof *c);
  assert_non_null(c);
  c->set = *next;
  c->n_approvals = (uint32_t)k;
  for (size_t i = 0; i < k; i++) {
    c->approvals[i].index = idx[i];
    valset_approval_sign(c->approvals[i].sig, keys[i], net->node[0].chain, epoch, cur, next);
  }
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(valset_change_encode(&p, c), 0);
  free(c);
  char *hex = h_tx_hex(net->node[0].chain, &net->node[0].authority, net->node[0].seq++, TX_TYPE_VALSET_CHANGE,
                       ve_buf_slice(&p), id);
  ve_buf_free(&p);
  json_t *r = NULL;
  int st = h_post(to, "/v1/txs", json_pack("{s:s}", "tx", hex), &r);
  free(hex);
  const char *e = r ? json_string_value(json_object_get(r, "error")) : NULL;
  snprintf(err, err_len, "%s", e ? e : "");
  json_decref(r);
  return st;
}

/* The height at which tx id committed on n (waits, bounded). */
static uint64_t vs_committed_at(h_node_t *n, const uint8_t id[32]) {
  uint8_t ids[1][32];
  memcpy(ids[0], id, 32);
  assert_int_equal(h_wait_final(n, ids, 1), 1);
  char hex[65], path[96];
  ve_hex_encode(hex, id, 32);
  snprintf(path, sizeof path, "/v1/txs/%s", hex);
  json_t *j;
  assert_int_equal(h_get(n, path, &j), 200);
  json_t *h = json_object_get(j, "height");
  assert_true(json_is_integer(h));
  uint64_t at = (uint64_t)json_integer_value(h);
  json_decref(j);
  return at;
}

/* Whether block `height` on n names the set `vs` (its header's valset_hash). */
static bool vs_block_names(h_node_t *n, uint64_t height, const cons_valset_t *vs) {
  char path[64];
  snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)height);
  json_t *j;
  assert_int_equal(h_get(n, path, &j), 200);
  json_t *hdr = json_object_get(j, "header");
  const char *hx = json_string_value(json_object_get(hdr ? hdr : j, "valset_hash"));
  if (!hx) fail_msg("block %llu: no valset_hash in %s", (unsigned long long)height, path);
  uint8_t want[32], got[32];
  cons_valset_hash(want, vs);
  assert_int_equal(ve_hex_decode(got, 32, hx), 0);
  json_decref(j);
  return memcmp(want, got, 32) == 0;
}

/* Waits until n's height grows by ADVANCE from what it is now. */
static void vs_advances(h_node_t *n, const char *why) {
  uint64_t from = h_height(n), end = h_now_ms() + WAIT_MS;
  while (h_height(n) < from + ADVANCE) {
    if (h_now_ms() > end)
      fail_msg("%s: height stuck at %llu (from %llu) for %d ms", why, (unsigned long long)h_height(n),
               (unsigned long long)from, WAIT_MS);
    h_sleep_ms(100);
  }
}

/* Writes bundle src with its "valsets" edited to dst: link `drop` removed
 * (-1: none), or one hex digit of link `flip`'s field flipped, or (swap) the
 * first two links exchanged; plain: valsets removed and version 1. */
typedef struct {
  int drop, flip;
  const char *field;
  bool swap, plain;
} vs_edit_t;

static void vs_tamper(const char *src, const char *dst, vs_edit_t e) {
  json_t *j = json_load_file(src, 0, NULL);
  assert_non_null(j);
  json_t *arr = json_object_get(j, "valsets");
  assert_true(json_array_size(arr) >= 2);
  if (e.drop >= 0) assert_int_equal(json_array_remove(arr, (size_t)e.drop), 0);
  if (e.flip >= 0) {
    json_t *l = json_array_get(arr, (size_t)e.flip);
    char *hex = strdup(json_string_value(json_object_get(l, e.field)));
    size_t pos = strlen(hex) / 2;
    hex[pos] = hex[pos] == '0' ? '1' : '0';
    json_object_set_new(l, e.field, json_string(hex));
    free(hex);
  }
  if (e.swap) {
    json_t *first = json_incref(json_array_get(arr, 0));
    assert_int_equal(json_array_remove(arr, 0), 0);
    assert_int_equal(json_array_insert_new(arr, 1, first), 0);
  }
  if (e.plain) {
    json_object_del(j, "valsets");
    json_object_set_new(j, "version", json_integer(1));
  }
  assert_int_equal(json_dump_file(j, dst, 0), 0);
  json_decref(j);
}

/* The bundle of the authority's identity record at height h from node n,
 * written to bundle; returns `veche verify`'s exit against the genesis alone,
 * its output in out. */
static int vs_bundle_verify(h_net_t *net, h_node_t *n, uint64_t h, const char *bundle, char *out, size_t cap) {
  uint8_t auth_id[32];
  char idhex[65], hs[24], genesis[320];
  identity_id_from_pk(auth_id, net->node[0].authority.pk);
  ve_hex_encode(idhex, auth_id, 32);
  snprintf(hs, sizeof hs, "%llu", (unsigned long long)h);
  snprintf(genesis, sizeof genesis, "%s/tn/genesis.json", net->dir);
  h_wait_height(n, h + 2, WAIT_MS); /* block h + 1 certified */
  assert_int_equal(h_veche(n, out, cap, "proof", "identity", idhex, "--height", hs, "--out", bundle, NULL), 0);
  return h_veche(n, out, cap, "verify", "--genesis", genesis, "--bundle", bundle, NULL);
}

/* A proof bundle of a fact at height h, which the third set governs (h + 1 >=
 * the second change's from_height): it carries both changes (format 2) and
 * `veche verify` proves it against the genesis alone; dropping, reordering or
 * altering a change, or stripping them, makes it NOT PROVEN; with --valset
 * naming a trusted set (GET /v1/valset?height=...), the changes after it are
 * followed (epoch1: a height of the first change's set). */
static void vs_verify_after_change(h_net_t *net, h_node_t *n, uint64_t h, uint64_t epoch1) {
  char bundle[320], bad[320], setf[320], genesis[320], out[4096], path[160];
  snprintf(bundle, sizeof bundle, "%s/bundle.json", net->dir);
  snprintf(bad, sizeof bad, "%s/tampered.json", net->dir);
  snprintf(setf, sizeof setf, "%s/set.json", net->dir);
  snprintf(genesis, sizeof genesis, "%s/tn/genesis.json", net->dir);
  int rc = vs_bundle_verify(net, n, h, bundle, out, sizeof out);
  if (rc != 0 || !strstr(out, "PROVEN") || !strstr(out, "through 2 validator-set changes") ||
      !strstr(out, "epoch 1 from height") || !strstr(out, "epoch 2 from height"))
    fail_msg("verify against the genesis, through two set changes: exit %d: %s", rc, out);
  print_message("%s", out);
  json_t *j = json_load_file(bundle, 0, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
  assert_int_equal(json_array_size(json_object_get(j, "valsets")), 2);
  json_decref(j);

  const struct {
    const char *why;
    vs_edit_t e;
  } bads[] = {
      {"first change dropped", {0, -1, NULL, false, false}},
      {"second change dropped", {1, -1, NULL, false, false}},
      {"changes swapped", {-1, -1, NULL, true, false}},
      {"changes stripped (version 1)", {-1, -1, NULL, false, true}},
      {"first change's certificate", {-1, 0, "cert", false, false}},
      {"first change's header", {-1, 0, "header", false, false}},
      {"second change's record", {-1, 1, "record", false, false}},
      {"second change's proof", {-1, 1, "proof", false, false}},
  };
  for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
    vs_tamper(bundle, bad, bads[i].e);
    rc = h_veche(n, out, sizeof out, "verify", "--genesis", genesis, "--bundle", bad, NULL);
    if (rc != 1 || !strstr(out, "NOT PROVEN")) fail_msg("tampered bundle (%s): exit %d: %s", bads[i].why, rc, out);
  }

  /* Trusted starting points: the set of h + 1 (epoch 2, nothing to follow);
   * the same set without its epoch (the fact under it alone); the set of
   * epoch 1 (change 2 followed from it); epoch 1's set claimed as an era set
   * for h + 1 (refused: it does not govern it). */
  const struct {
    uint64_t height; /* GET /v1/valset?height= */
    bool strip;      /* drop "epoch" and "from_height" */
    int exit;
    const char *says;
  } starts[] = {{h + 1, false, 0, "PROVEN"},
                {h + 1, true, 0, "the validator set you gave"},
                {epoch1, false, 0, "through 1 validator-set change"},
                {epoch1, true, 1, "NOT PROVEN"}};
  for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
    json_t *set;
    snprintf(path, sizeof path, "/v1/valset?height=%llu", (unsigned long long)starts[i].height);
    assert_int_equal(h_get(n, path, &set), 200);
    if (starts[i].strip) {
      json_object_del(set, "epoch");
      json_object_del(set, "from_height");
    }
    assert_int_equal(json_dump_file(set, setf, 0), 0);
    json_decref(set);
    rc = h_veche(n, out, sizeof out, "verify", "--genesis", genesis, "--bundle", bundle, "--valset", setf, NULL);
    if (rc != starts[i].exit || !strstr(out, starts[i].says))
      fail_msg("verify with --valset of height %llu%s: exit %d: %s", (unsigned long long)starts[i].height,
               starts[i].strip ? " (no epoch)" : "", rc, out);
  }

  /* A short bundle for a verifier that trusts epoch 1: `veche proof
   * --valsets-after 1` carries change 2 only; it proves from that set and not
   * from the genesis alone. A bad value is refused. */
  json_t *set;
  snprintf(path, sizeof path, "/v1/valset?height=%llu", (unsigned long long)epoch1);
  assert_int_equal(h_get(n, path, &set), 200);
  assert_int_equal(json_dump_file(set, setf, 0), 0);
  json_decref(set);
  uint8_t auth_id[32];
  char idhex[65], hs[24];
  identity_id_from_pk(auth_id, net->node[0].authority.pk);
  ve_hex_encode(idhex, auth_id, 32);
  snprintf(hs, sizeof hs, "%llu", (unsigned long long)h);
  assert_int_equal(h_veche(n, out, sizeof out, "proof", "identity", idhex, "--height", hs, "--valsets-after", "1",
                           "--out", bundle, NULL),
                   0);
  j = json_load_file(bundle, 0, NULL);
  json_t *links = json_object_get(j, "valsets");
  assert_int_equal(json_array_size(links), 1);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(links, 0), "epoch")), 2);
  json_decref(j);
  rc = h_veche(n, out, sizeof out, "verify", "--genesis", genesis, "--bundle", bundle, "--valset", setf, NULL);
  if (rc != 0 || !strstr(out, "through 1 validator-set change"))
    fail_msg("short bundle, verify from epoch 1: exit %d: %s", rc, out);
  rc = h_veche(n, out, sizeof out, "verify", "--genesis", genesis, "--bundle", bundle, NULL);
  if (rc != 1 || !strstr(out, "NOT PROVEN: set change 1: it is for epoch 2"))
    fail_msg("short bundle, verify from the genesis: exit %d: %s", rc, out);
  snprintf(path, sizeof path, "/v1/proofs/identities/%s?valsets_after=x", idhex);
  json_t *err;
  assert_int_equal(h_get(n, path, &err), 400);
  json_decref(err);
}

/* J prunes (state_keep_blocks = KEEP_BLOCKS): once it no longer
 * keeps the states that hold the epoch records (it answers 410 for them), a
 * bundle it builds still carries both changes, from the link proofs it kept
 * when it committed them, and proves the fact against the genesis. */
static void vs_verify_pruned(h_net_t *net, h_node_t *jn, uint64_t hc, uint64_t hr) {
  uint64_t top = hr + 2 * KEEP_BLOCKS;
  h_wait_height(jn, top + 2, WAIT_MS);
  uint8_t auth_id[32];
  char idhex[65], path[160], bundle[320], out[4096];
  identity_id_from_pk(auth_id, net->node[0].authority.pk);
  ve_hex_encode(idhex, auth_id, 32);
  for (uint64_t h = hc; h <= hr; h += hr - hc) { /* the versions holding records 1 and 2 */
    json_t *r = NULL;
    snprintf(path, sizeof path, "/v1/proofs/identities/%s?height=%llu", idhex, (unsigned long long)h);
    int st = h_get(jn, path, &r);
    json_decref(r);
    if (st != 410) fail_msg("J still serves height %llu (HTTP %d): nothing was pruned", (unsigned long long)h, st);
  }
  snprintf(bundle, sizeof bundle, "%s/bundle-pruned.json", net->dir);
  int rc = vs_bundle_verify(net, jn, top, bundle, out, sizeof out);
  if (rc != 0 || !strstr(out, "through 2 validator-set changes"))
    fail_msg("a pruning node's bundle against the genesis: exit %d: %s", rc, out);
}

static void test_valset_changes(void **state) {
  (void)state;
  h_net_t net;
  h_net_init(&net, g_veche, NV, 1, EMPTY_BLOCK_MS);
  h_node_t *v = net.node, *jn = &net.node[J];

  /* The joining authority's node: a validator key of its own; it dials the
   * validators (its testnet config as an observer already lists them). */
  vcrypto_keypair_t keys[NV + 1];
  for (size_t i = 0; i < NV; i++) vs_key(&v[i], &keys[i]);
  h_seed_key(&keys[J], 0x56414c53, 1);
  char kpath[320];
  snprintf(kpath, sizeof kpath, "%s/validator.key", jn->dir);
  assert_int_equal(vcrypto_keyfile_write(kpath, &keys[J]), 0);
  h_config_set(jn, "key", json_string("validator.key"));
  h_config_set(jn, "state_keep_blocks", json_integer(KEEP_BLOCKS));

  cons_valset_t genesis_set, with_j, without_v3;
  vs_make(&genesis_set, keys, NV);
  vs_make(&with_j, keys, NV + 1);
  vcrypto_keypair_t keep[NV] = {keys[0], keys[1], keys[2], keys[J]};
  vs_make(&without_v3, keep, NV);

  for (size_t i = 0; i <= J; i++) h_node_start(&net.node[i]);
  h_wait_height(&v[0], 3, WAIT_MS);
  assert_int_equal(h_status_u64(jn, NULL, "peers"), 0); /* nobody admits J yet */

  /* 1. One validator alone cannot change the set. */
  uint8_t id[32];
  char err[64];
  const vcrypto_keypair_t *by_v0[] = {&keys[0]};
  uint32_t idx_v0[] = {0};
  int st = vs_submit(&net, &v[0], &genesis_set, &with_j, 1, idx_v0, by_v0, 1, id, err, sizeof err);
  if (st < 400 || st >= 500 || strcmp(err, "no_quorum"))
    fail_msg("a change approved by 1/4 of the power: HTTP %d %s (want 4xx no_quorum)", st, err);

  /* 2. Three of four add J. */
  const vcrypto_keypair_t *by_3[] = {&keys[0], &keys[1], &keys[2]};
  uint32_t idx_3[] = {0, 1, 2};
  st = vs_submit(&net, &v[1], &genesis_set, &with_j, 1, idx_3, by_3, 3, id, err, sizeof err);
  if (st != 200 && st != 202) fail_msg("adding J: HTTP %d %s", st, err);
  uint64_t hc = vs_committed_at(&v[0], id);
  h_wait_height(&v[0], hc + 2, WAIT_MS);
  assert_true(vs_block_names(&v[0], hc + 1, &genesis_set));
  assert_true(vs_block_names(&v[0], hc + 2, &with_j));
  h_wait_height(jn, hc + 2, WAIT_MS); /* admitted, synced */
  print_message("J added at height %llu; J at height %llu with %llu peers\n", (unsigned long long)hc,
                (unsigned long long)h_height(jn), (unsigned long long)h_status_u64(jn, NULL, "peers"));

  /* 3. Without v3, four of five: more than 2/3 only with J's votes. */
  h_node_stop(&v[3]);
  vs_advances(&v[0], "v3 stopped, J must vote");

  /* 4. Remove v3 (approved by v0, v1, v2 and J: indices 0, 1, 2, 4 of with_j). */
  const vcrypto_keypair_t *by_4[] = {&keys[0], &keys[1], &keys[2], &keys[J]};
  uint32_t idx_4[] = {0, 1, 2, 4};
  st = vs_submit(&net, jn, &with_j, &without_v3, 2, idx_4, by_4, 4, id, err, sizeof err);
  if (st != 200 && st != 202) fail_msg("removing v3: HTTP %d %s", st, err);
  uint64_t hr = vs_committed_at(&v[0], id);
  h_wait_height(&v[0], hr + 2, WAIT_MS);
  assert_true(vs_block_names(&v[0], hr + 1, &with_j));
  assert_true(vs_block_names(&v[0], hr + 2, &without_v3));
  h_node_stop(&v[2]);
  vs_advances(&v[0], "v2 and v3 stopped, v3 removed: v0, v1 and J hold 3 of 4");
  print_message("v3 removed at height %llu; with v2 and v3 down the chain is at %llu\n", (unsigned long long)hr,
                (unsigned long long)h_height(&v[0]));

  vs_verify_after_change(&net, &v[0], hr + 3, hc + 2);

  /* 5. Restarts read the sets back from the store. v0 and J are two of the
   * three running members: while either is down nothing commits, so the
   * chain advancing after each restart shows it voting again. */
  h_node_stop(jn);
  h_node_start(jn);
  vs_advances(&v[0], "J restarted");
  h_node_stop(&v[0]);
  h_node_start(&v[0]);
  vs_advances(&v[1], "v0 restarted");
  uint64_t top = h_height(&v[1]);
  h_wait_height(&v[0], top, WAIT_MS);
  h_wait_height(jn, top, WAIT_MS);
  assert_true(h_same_chain(&v[0], &v[1], top) == top);
  assert_true(h_same_chain(jn, &v[1], top) == top);
  vs_verify_pruned(&net, jn, hc, hr);

  h_node_stop(&v[0]);
  h_node_stop(&v[1]);
  h_node_stop(jn);
  for (size_t i = 0; i <= J; i++) h_log_check(&net.node[i]);
  for (size_t i = 0; i <= J; i++) vcrypto_keypair_wipe(&keys[i]);
  h_net_cleanup(&net);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_valset_changes)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
