/* backup_test.c (it_backup) — `veche backup` of running nodes, and restores
 * that cannot double-sign, on a real network: four validators and an observer
 * from `veche testnet` on 127.0.0.1 under a light load of registrations.
 *
 * Validator v3:
 *   1. `veche backup` of v3 while it runs: exit 0, the height B printed;
 *   2. the network goes on 5 more heights; v3 is killed -9 and its data/
 *      replaced by the backup's;
 *   3. `veche start` of v3 without --sign-from exits non-zero within a bound,
 *      naming --sign-from, and leaves the store as it was (still marked B);
 *   4. started with --sign-from H: it catches up, /v1/status shows
 *      consensus.sign_from_height = H while it abstains, no certificate of a
 *      height it could have signed below H (after its restart) holds v3's
 *      precommit and v3 proposes none of those blocks, some certificate at or
 *      after H does hold it within a bound, no node holds equivocation
 *      evidence, and once v3 committed H the stored H is gone (status 0 and
 *      not in the store); a kill -9 before H and a restart without the flag
 *      keep H (stored, shown);
 *   5. a restart with the now stale flag still given works (ignored) and v3
 *      follows the chain.
 * H: the operator's rule is the network's height + 2. The test adds
 * SIGN_MARGIN heights, so that the abstention lasts long enough to be seen
 * (status, certificates) on a fast local network.
 * Observer o0: backed up while it runs, killed -9, restored; it starts without
 * any flag (the mark is removed: it signs nothing) and catches up.
 * A backup into a non-empty directory fails. Every node exits 0 on SIGTERM
 * and no node's log holds a sanitizer report. Bounds grow by H_SCALE.
 */
#include <errno.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/err.h"
#include "codec/codec.h"
#include "harness.h"
#include "store/store.h"

#define NV 4
#define NO 1
#define V3 3
#define OBS NV
#define EMPTY_BLOCK_MS 300
#define SIGN_MARGIN 12
#define SCALED(ms) ((int)(ms) * H_SCALE)
#define WAIT_MS SCALED(30000)         /* a height a network of 4 should reach soon */
#define REFUSE_MS SCALED(15000)       /* a refused start must have exited by then */
#define SIGN_AGAIN_HEIGHTS 40         /* v3 must be in a certificate within H..H+this */

static const char *g_veche;
static h_net_t g_net;
static uint32_t g_reg; /* registrations submitted */

/* One registration to node i, not waited for: the light load. */
static void load(size_t i) {
  uint8_t id[32];
  char *hex = h_register_hex(&g_net.node[0], 900, ++g_reg, 1, id);
  json_t *r = NULL;
  json_t *body = json_pack("{s:s}", "tx", hex); /* h_call does not take it */
  (void)h_call(&g_net.node[i], "POST", "/v1/txs", body, &r, SCALED(5000));
  json_decref(body);
  json_decref(r);
  free(hex);
}

/* h_wait_height with load on v0 meanwhile. */
static void wait_loaded(h_node_t *n, uint64_t want, int timeout_ms) {
  uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
  while (h_shown_height(n) < want) {
    if (h_now_ms() > end) fail_msg("%s not at height %llu within %d ms", n->dir, (unsigned long long)want, timeout_ms);
    load(0);
    h_sleep_ms(100);
  }
}

/* `veche start --dir DIR --sign-from H` through the harness; waits for /health. */
static void start_sign_from(h_node_t *n, uint64_t h) {
  char hs[24];
  snprintf(hs, sizeof hs, "%llu", (unsigned long long)h);
  const char *extra[] = {"--sign-from", hs, NULL};
  h_node_start_with(n, extra);
}

/* `veche backup` of node i into dest while it runs; returns the height. */
static uint64_t backup(size_t i, const char *dest) {
  char out[2048];
  int st = h_veche_bounded(&g_net.node[i], out, sizeof out, SCALED(30000), "backup", "--dir", g_net.node[i].conf, "--out", dest, NULL);
  if (st != 0) fail_msg("veche backup of %s: exit %d: %s", g_net.node[i].dir, st, out);
  const char *at = strstr(out, " at height ");
  assert_non_null(at);
  assert_non_null(strstr(out, dest));
  return strtoull(at + strlen(" at height "), NULL, 10);
}

/* Kill -9 node i and put the backup's data/ in place of its own. */
static void restore(size_t i, const char *dest) {
  h_node_kill9(&g_net.node[i]);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s/data' && cp -r '%s/data' '%s/data'", g_net.node[i].conf, dest,
           g_net.node[i].conf);
  assert_int_equal(system(cmd), 0);
}

/* META key of node i's store (stopped) as be64, or 0 when absent. */
static uint64_t stored_u64(size_t i, const char *key) {
  char dir[400];
  snprintf(dir, sizeof dir, "%s/data", g_net.node[i].conf);
  store_t *s;
  assert_int_equal(store_open_lmdb(&s, dir, 0), 0);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  ve_slice_t v;
  uint64_t b = 0;
  int rc = store_get(t, STORE_T_META, ve_slice(key, strlen(key)), &v);
  if (rc == 0) {
    assert_int_equal(v.len, 8);
    b = ve_be64_get(v.ptr);
  } else {
    assert_int_equal(rc, VE_ERR_NOT_FOUND);
  }
  store_txn_abort(t);
  store_close(s);
  return b;
}

/* The backup mark (node_backup.c), 0 when absent. */
static uint64_t stored_mark(size_t i) { return stored_u64(i, "backup_height"); }

/* Validator indexes in the certificate of height h as node n holds it (a
 * bit per index), and whether proposer_pk proposed it. */
static uint64_t cert_signers(h_node_t *n, uint64_t h, const char *proposer_hex, bool *proposed) {
  char path[64];
  snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)h);
  json_t *j = NULL;
  assert_int_equal(h_get(n, path, &j), 200);
  const char *hex = json_string_value(json_object_get(j, "cert"));
  const char *prop = json_string_value(json_object_get(json_object_get(j, "header"), "proposer"));
  assert_non_null(hex);
  assert_non_null(prop);
  *proposed = !strcmp(prop, proposer_hex);
  size_t len = strlen(hex) / 2;
  uint8_t *c = malloc(len + 1);
  assert_non_null(c);
  assert_int_equal(ve_hex_decode(c, len, hex), 0);
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(c, len));
  uint8_t id[32], sig[64];
  (void)codec_get_u8(&r);
  assert_int_equal(codec_get_uvarint(&r), h);
  (void)codec_get_uvarint(&r);
  codec_get_fixed(&r, id, 32);
  uint64_t count = codec_get_uvarint(&r), bits = 0;
  for (uint64_t k = 0; k < count && k < 64; k++) {
    uint64_t idx = codec_get_uvarint(&r);
    codec_get_fixed(&r, sig, 64);
    if (idx < 64) bits |= (uint64_t)1 << idx;
  }
  assert_int_equal(codec_reader_finish(&r), 0);
  free(c);
  json_decref(j);
  return bits;
}

/* v3's public key (hex) and its index in genesis. */
static size_t v3_index(char pk_hex[65]) {
  char path[400];
  snprintf(path, sizeof path, "%s/validator.key", g_net.node[V3].conf);
  vcrypto_keypair_t kp;
  assert_int_equal(vcrypto_keyfile_read(path, &kp), 0);
  ve_hex_encode(pk_hex, kp.pk, 32);
  vcrypto_keypair_wipe(&kp);
  snprintf(path, sizeof path, "%s/../genesis.json", g_net.node[V3].conf);
  json_error_t je;
  json_t *g = json_load_file(path, 0, &je);
  assert_non_null(g);
  json_t *vs = json_object_get(g, "validators");
  for (size_t i = 0; i < json_array_size(vs); i++)
    if (!strcmp(json_string_value(json_object_get(json_array_get(vs, i), "pk")), pk_hex)) {
      json_decref(g);
      return i;
    }
  fail_msg("v3's key is not in genesis");
  return 0;
}

static void no_evidence(void) {
  for (size_t i = 0; i < NV + NO; i++) {
    json_t *j = NULL;
    assert_int_equal(h_get(&g_net.node[i], "/v1/evidence", &j), 200);
    json_t *ev = json_object_get(j, "evidence");
    assert_non_null(ev);
    if (json_array_size(ev)) fail_msg("node %zu holds equivocation evidence", i);
    json_decref(j);
  }
}

static void test_backup_restore(void **state) {
  (void)state;
  h_net_init(&g_net, g_veche, NV, NO, EMPTY_BLOCK_MS);
  for (size_t i = 0; i < NV + NO; i++) h_node_start(&g_net.node[i]);
  wait_loaded(&g_net.node[0], 5, WAIT_MS);

  /* 1-2: backup of v3 while it runs, then 5 more heights, then the restore. */
  char bk3[400], bko[400], out[4096];
  snprintf(bk3, sizeof bk3, "%s/backup-v3", g_net.dir);
  snprintf(bko, sizeof bko, "%s/backup-o0", g_net.dir);
  uint64_t b = backup(V3, bk3);
  print_message("backup of v3 at height %llu\n", (unsigned long long)b);
  assert_true(b >= 1);
  wait_loaded(&g_net.node[0], b + 5, WAIT_MS);
  restore(V3, bk3);

  /* 3: refused without --sign-from, the store unchanged. */
  int st = h_veche_bounded(&g_net.node[V3], out, sizeof out, REFUSE_MS, "start", "--dir", g_net.node[V3].conf, NULL);
  assert_int_not_equal(st, 0);
  if (!strstr(out, "--sign-from") || !strstr(out, "backup")) fail_msg("refusal does not say why: %s", out);
  assert_int_equal(stored_mark(V3), b);
  assert_int_equal(stored_u64(V3, "sign_from_height"), 0);

  /* A backup into a non-empty directory fails and leaves it alone. */
  st = h_veche_bounded(&g_net.node[0], out, sizeof out, SCALED(30000), "backup", "--dir", g_net.node[0].conf, "--out", bk3, NULL);
  assert_int_not_equal(st, 0);
  assert_non_null(strstr(out, "not empty"));

  /* 4: --sign-from H. */
  char pk3[65];
  size_t idx3 = v3_index(pk3);
  uint64_t h0 = h_height(&g_net.node[0]), H = h0 + 2 + SIGN_MARGIN;
  start_sign_from(&g_net.node[V3], H);
  uint64_t shown = h_status_u64(&g_net.node[V3], "consensus", "sign_from_height");
  if (shown != H) fail_msg("v3 shows sign_from_height %llu, want %llu", (unsigned long long)shown, (unsigned long long)H);
  /* A crash meanwhile: restarted without the flag, it keeps abstaining (H is
   * stored), and still shows H while below it. */
  h_node_kill9(&g_net.node[V3]);
  assert_int_equal(stored_u64(V3, "sign_from_height"), H);
  h_node_start(&g_net.node[V3]);
  if (h_shown_height(&g_net.node[V3]) < H)
    assert_int_equal(h_status_u64(&g_net.node[V3], "consensus", "sign_from_height"), H);
  wait_loaded(&g_net.node[V3], H + 1, WAIT_MS);
  /* Below H: nothing of v3's in any certificate or proposal of the heights it
   * could have signed since its restart, as any node holds them. */
  for (uint64_t h = h0 + 1; h < H; h++)
    for (size_t i = 0; i < NV + NO; i++) {
      bool proposed;
      uint64_t bits = cert_signers(&g_net.node[i], h, pk3, &proposed);
      if (bits >> idx3 & 1) fail_msg("v3 precommitted height %llu < H %llu", (unsigned long long)h, (unsigned long long)H);
      if (proposed) fail_msg("v3 proposed height %llu < H %llu", (unsigned long long)h, (unsigned long long)H);
    }
  /* From H: v3 signs again (some certificate within a bound holds it). */
  uint64_t seen = 0;
  for (uint64_t h = H; !seen && h < H + SIGN_AGAIN_HEIGHTS; h++) {
    wait_loaded(&g_net.node[0], h, WAIT_MS);
    wait_loaded(&g_net.node[V3], h, WAIT_MS);
    for (size_t i = 0; !seen && i < NV + NO; i++) {
      bool proposed;
      if (cert_signers(&g_net.node[i], h, pk3, &proposed) >> idx3 & 1) seen = h;
    }
  }
  if (!seen) fail_msg("v3 in no certificate of heights %llu..%llu", (unsigned long long)H,
                      (unsigned long long)(H + SIGN_AGAIN_HEIGHTS - 1));
  print_message("restored v3 abstained below %llu, signed at %llu\n", (unsigned long long)H, (unsigned long long)seen);
  assert_int_equal(h_status_u64(&g_net.node[V3], "consensus", "sign_from_height"), 0);
  no_evidence();

  /* 5: a restart with the flag still given (left in a service file) works:
   * H is below the store's height now, so it is ignored, and v3 keeps up. */
  h_node_stop(&g_net.node[V3]);
  assert_int_equal(stored_mark(V3), 0);
  assert_int_equal(stored_u64(V3, "sign_from_height"), 0); /* deleted with the commit of H */
  start_sign_from(&g_net.node[V3], H);
  assert_int_equal(h_status_u64(&g_net.node[V3], "consensus", "sign_from_height"), 0);
  wait_loaded(&g_net.node[V3], h_height(&g_net.node[0]) + 2, WAIT_MS);

  /* The observer: backed up running, restored, starts without a flag. */
  uint64_t bo = backup(OBS, bko);
  wait_loaded(&g_net.node[0], bo + 3, WAIT_MS);
  restore(OBS, bko);
  assert_int_equal(stored_mark(OBS), bo);
  h_node_start(&g_net.node[OBS]);
  assert_int_equal(h_status_u64(&g_net.node[OBS], "consensus", "sign_from_height"), 0);
  wait_loaded(&g_net.node[OBS], h_height(&g_net.node[0]), WAIT_MS);
  no_evidence();

  for (size_t i = 0; i < NV + NO; i++) h_node_stop(&g_net.node[i]);
  assert_int_equal(stored_mark(OBS), 0); /* removed at its start */
  for (size_t i = 0; i < NV + NO; i++) h_log_check(&g_net.node[i]);
  h_net_cleanup(&g_net);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_backup_restore)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
