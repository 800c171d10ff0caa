/* net_test.c — a real network of `veche` processes on 127.0.0.1: four
 * validators and an observer made by `veche testnet`.
 *
 * One scenario, in steps that build on each other (each bounded in time):
 *   1. transactions submitted to every node, observer included, all commit;
 *   2. kill -9 of one validator: commits go on with three;
 *   3. the killed validator restarts and catches up to identical blocks;
 *   4. two of four stopped: no commits and no fork; one restarted: commits
 *      resume and the transaction left waiting commits;
 *   5. the observer's headers (state roots included) equal the validators' at
 *      every height it has;
 *   6. a second observer that knows only the genesis file and one peer (the
 *      first observer) syncs from genesis to the same blocks;
 *   7. an encrypted document blob uploaded to one validator is replicated to
 *      the other validators and the observer;
 *   8. a transaction given to the observer while every validator is down
 *      commits once they are back (the observer re-sends what it holds to a
 *      validator whose link comes up: it never proposes itself).
 * Certificates are not compared: each node keeps the precommits it gathered,
 * any 2/3+ subset; headers, hence state roots, must be identical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/http_client.h"
#include "apps/identity/identity.h"
#include "harness.h"

#define NV 4
#define NO 1
#define CATCHUP_TIMEOUT_MS 120000
#define HALT_OBSERVE_MS 4000

static const char *g_veche;
static uint32_t g_next_identity;

/* Submits one registration to node `to`; returns its id in id_out. */
static void submit_register(h_net_t *net, h_node_t *to, uint8_t id_out[32]) {
  char *hex = h_register_hex(&net->node[0], 0x4e4554, g_next_identity++, 1, id_out);
  json_t *r = NULL;
  int st = h_post(to, "/v1/txs", json_pack("{s:s}", "tx", hex), &r);
  if (st != 200 && st != 202) fail_msg("submit to %s: HTTP %d", to->dir, st);
  json_decref(r);
  free(hex);
}

static uint64_t max_height(h_net_t *net, const size_t *idx, size_t k) {
  uint64_t m = 0;
  for (size_t i = 0; i < k; i++) {
    uint64_t h = h_height(&net->node[idx[i]]);
    if (h > m) m = h;
  }
  return m;
}

static void test_network(void **state) {
  (void)state;
  h_net_t net;
  h_net_init(&net, g_veche, NV, NO, 300);
  for (size_t i = 0; i < NV + NO; i++) h_node_start(&net.node[i]);
  h_node_t *v = net.node, *obs = &net.node[NV];
  h_wait_height(&v[0], 2, 30000);

  /* 1. Submitted anywhere, committed everywhere. */
  enum { N1 = 100 };
  uint8_t ids[N1][32];
  for (size_t i = 0; i < N1; i++) submit_register(&net, &net.node[i % (NV + NO)], ids[i]);
  for (size_t k = 0; k < NV + NO; k++) assert_int_equal(h_wait_final(&net.node[k], ids, N1), N1);
  /* Each node reports when it committed each of them (GET /v1/commits). */
  for (size_t k = 0; k < NV + NO; k++) {
    json_t *c;
    assert_int_equal(h_get(&net.node[k], "/v1/commits?from=1&limit=256", &c), 200);
    size_t found = 0;
    size_t i;
    json_t *blk;
    json_array_foreach(json_object_get(c, "commits"), i, blk) {
      json_t *txs = json_object_get(blk, "txs");
      if (json_array_size(txs)) assert_true(json_integer_value(json_object_get(blk, "committed_ms")) > 0);
      size_t x;
      json_t *tid;
      json_array_foreach(txs, x, tid) {
        char hx[65];
        for (size_t q = 0; q < N1; q++) {
          ve_hex_encode(hx, ids[q], 32);
          if (!strcmp(hx, json_string_value(tid))) found++;
        }
      }
    }
    json_decref(c);
    assert_int_equal(found, N1);
  }
  print_message("step 1: %d txs submitted round-robin to 5 nodes committed on all; height %llu\n", N1,
                (unsigned long long)h_height(&v[0]));

  /* 2. One validator of four killed: the other three still commit. */
  h_node_kill9(&v[3]);
  enum { N2 = 40 };
  uint8_t ids2[N2][32];
  for (size_t i = 0; i < N2; i++) submit_register(&net, &net.node[i % 3], ids2[i]);
  assert_int_equal(h_wait_final(&v[1], ids2, N2), N2);
  uint64_t h_after_kill = h_height(&v[0]);
  print_message("step 2: v3 killed; %d more txs committed by three validators; height %llu\n", N2,
                (unsigned long long)h_after_kill);

  /* 3. Restarted, it catches up to the same blocks. */
  h_node_start(&v[3]);
  h_wait_height(&v[3], h_after_kill, CATCHUP_TIMEOUT_MS);
  uint64_t cmp = h_same_chain(&v[0], &v[3], 0);
  assert_true(cmp >= h_after_kill);
  print_message("step 3: v3 restarted and caught up; %llu heights identical to v0\n", (unsigned long long)cmp);

  /* 4. Two of four stopped: 20 of 40 power left, below the 2/3 quorum. */
  uint64_t timeouts0 = h_status_u64(&v[0], "consensus", "timeouts"), late0 = h_status_u64(&v[0], "consensus", "late_commits");
  h_node_stop(&v[2]);
  h_node_stop(&v[3]);
  size_t live[] = {0, 1};
  h_sleep_ms(1500); /* a decision already made may still be arriving */
  uint64_t h_halt = max_height(&net, live, 2);
  uint8_t waiting[1][32];
  submit_register(&net, &v[0], waiting[0]);
  h_sleep_ms(HALT_OBSERVE_MS);
  assert_int_equal(max_height(&net, live, 2), h_halt);
  json_t *j;
  char path[128], hex[65];
  ve_hex_encode(hex, waiting[0], 32);
  snprintf(path, sizeof path, "/v1/txs/%s", hex);
  assert_int_equal(h_get(&v[0], path, &j), 200);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "pending");
  json_decref(j);
  h_same_chain(&v[0], &v[1], 0);
  /* The stall is visible in the consensus metrics: steps timed out. */
  assert_true(h_status_u64(&v[0], "consensus", "timeouts") > timeouts0);
  print_message("step 4: two validators stopped; no commit for %d ms at height %llu\n", HALT_OBSERVE_MS,
                (unsigned long long)h_halt);
  h_node_start(&v[2]);
  h_wait_height(&v[0], h_halt + 2, CATCHUP_TIMEOUT_MS);
  assert_int_equal(h_wait_final(&v[2], waiting, 1), 1);
  assert_true(h_status_u64(&v[0], "consensus", "late_commits") > late0); /* decided after round 0 */
  h_same_chain(&v[0], &v[2], 0);
  h_same_chain(&v[1], &v[2], 0);
  print_message("step 4: v2 restarted; commits resumed (height %llu), the waiting tx committed\n",
                (unsigned long long)h_height(&v[0]));

  /* 5. The observer has the validators' headers, state roots included. */
  h_wait_height(obs, h_height(&v[0]), CATCHUP_TIMEOUT_MS);
  cmp = h_same_chain(&v[0], obs, 0);
  print_message("step 5: observer equal to v0 at all %llu heights\n", (unsigned long long)cmp);

  /* 6. A new observer from genesis and one peer address (the first observer). */
  h_node_t o2;
  memset(&o2, 0, sizeof o2);
  snprintf(o2.veche, sizeof o2.veche, "%s", g_veche);
  snprintf(o2.dir, sizeof o2.dir, "%.200s/o-new", net.dir);
  snprintf(o2.conf, sizeof o2.conf, "%s", o2.dir);
  o2.port = (uint16_t)(net.base_port + NV + NO);
  char genesis[400], peer[64], api[16], out[4096];
  snprintf(genesis, sizeof genesis, "%s/tn/genesis.json", net.dir);
  snprintf(peer, sizeof peer, "127.0.0.1:%u", net.base_port + 100 + NV);
  snprintf(api, sizeof api, "%u", o2.port);
  int rc = h_veche(&v[0], out, sizeof out, "init-observer", "--dir", o2.dir, "--genesis", genesis, "--peer",
                   peer, "--api-port", api, NULL);
  if (rc != 0) fail_msg("init-observer: %s", out);
  h_node_start(&o2);
  h_wait_height(&o2, h_height(&v[0]), CATCHUP_TIMEOUT_MS);
  cmp = h_same_chain(&v[0], &o2, 0);
  print_message("step 6: observer from genesis + one peer synced %llu heights, all equal\n",
                (unsigned long long)cmp);
  h_node_stop(&o2);

  /* 7. A document blob uploaded to v0 reaches every other running node. */
  char file[400], key[400], subject[65], blob[65];
  snprintf(file, sizeof file, "%s/deed.txt", net.dir);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  for (int i = 0; i < 20000; i++) fprintf(f, "deed line %d\n", i);
  fclose(f);
  snprintf(key, sizeof key, "%s/tn/authority.key", net.dir);
  uint8_t sid[32];
  identity_id_from_pk(sid, v[0].authority.pk);
  ve_hex_encode(subject, sid, 32);
  rc = h_veche(&v[0], out, sizeof out, "doc", "register", file, "--type", "deed", "--subject", subject,
               "--encrypt", "--key", key, NULL);
  if (rc != 0) fail_msg("doc register: %s", out);
  static const char pat[] = "\"blob_id\": \"";
  const char *bp = strstr(out, pat);
  if (!bp) fail_msg("no blob_id in: %s", out);
  memcpy(blob, bp + strlen(pat), 64);
  blob[64] = 0;
  snprintf(path, sizeof path, "/v1/blobs/%s", blob);
  size_t holders[] = {1, 2, NV}; /* v3 is stopped since step 4 */
  for (size_t k = 0; k < sizeof holders / sizeof holders[0]; k++) {
    h_node_t *nd = &net.node[holders[k]];
    for (int waited = 0;; waited += 100) {
      http_response_t r;
      int hrc = http_request("127.0.0.1", nd->port, "GET", path, NULL, NULL, 0, 10000, &r);
      int status = hrc == 0 ? r.status : 0;
      if (hrc == 0) http_response_free(&r);
      if (status == 200) break;
      if (waited > CATCHUP_TIMEOUT_MS) fail_msg("blob %s not replicated to %s (HTTP %d)", blob, nd->dir, status);
      h_sleep_ms(100);
    }
  }
  print_message("step 7: encrypted blob uploaded to v0 replicated to v1, v2 and the observer\n");

  /* 8. Given to the observer while no validator is up: gossip has nobody to
   * go to, and the observer never proposes. */
  for (size_t i = 0; i < 3; i++) h_node_stop(&v[i]); /* v3 is stopped since step 4 */
  h_sleep_ms(300);
  assert_int_equal(h_status_u64(obs, NULL, "peers"), 0);
  uint64_t resent0 = h_status_u64(obs, "gossip", "txs_resent");
  /* Step 7's `veche doc register` signed with the authority too. */
  char signer[128], pkhex[65];
  ve_hex_encode(pkhex, v[0].authority.pk, 32);
  snprintf(signer, sizeof signer, "/v1/signers/%s", pkhex);
  assert_int_equal(h_get(obs, signer, &j), 200);
  v[0].seq = (uint64_t)json_integer_value(json_object_get(j, "next_seq"));
  json_decref(j);
  assert_true(v[0].seq > 0);
  uint8_t alone[1][32];
  submit_register(&net, obs, alone[0]);
  ve_hex_encode(hex, alone[0], 32);
  snprintf(path, sizeof path, "/v1/txs/%s", hex);
  assert_int_equal(h_get(obs, path, &j), 200);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "pending");
  json_decref(j);
  for (size_t i = 0; i < 3; i++) h_node_start(&v[i]);
  assert_int_equal(h_wait_final(obs, alone, 1), 1);
  assert_int_equal(h_wait_final(&v[0], alone, 1), 1);
  assert_true(h_status_u64(obs, "gossip", "txs_resent") > resent0);
  print_message("step 8: a tx given to the observer with every validator down committed once they returned "
                "(%llu re-sent)\n", (unsigned long long)(h_status_u64(obs, "gossip", "txs_resent") - resent0));

  for (size_t i = 0; i < NV + NO; i++)
    if (net.node[i].pid) h_node_stop(&net.node[i]);
  h_net_cleanup(&net);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_network)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
