/* polls_test.c — a citizen poll through the real node, driven by the real
 * `veche` command as people would use it: trustees generate and publish their
 * keys, the organizer creates a poll (3 trustees, threshold 2, eligibility by
 * district), the trustees run the key generation, a few hundred voters vote
 * (some twice: the later ballot replaces the earlier one), ineligible, late,
 * malleated and replayed ballots are refused with their reasons, receipts are
 * checked offline, two trustees decrypt, the published result equals the
 * plaintext count of every voter's latest choice, and `veche audit poll`
 * passes against the node and an exported chain — and fails on every tampered
 * copy of that chain and against a genesis with other validators.
 *
 * Runtime: about 20 s (most of it one `veche poll vote` process per ballot). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "apps/identity/identity.h"
#include "base/err.h"
#include "harness.h"

#define N_VOTERS 240      /* eligible voters (district d1) */
#define N_OTHERS 10       /* district d2: not eligible */
#define N_REVOTES 30      /* voters 0..29 vote twice */
#define N_OPTIONS 3
#define OUT_BYTES 16384
#define TX_TYPE_POLL_BALLOT 0x0307 /* docs/voting.md (this test links no voting code) */

static const char *g_veche;

/* POST /v1/txs (h_post takes the body). */
static int post_txs(h_node_t *n, json_t *body, json_t **out) { return h_post(n, "/v1/txs", body, out); }

/* Runs veche with args; expects exit status want (or any non-zero if want < 0). */
#define VECHE(want, out, ...)                                                                  \
  do {                                                                                         \
    int st_ = h_veche(&n, out, OUT_BYTES, __VA_ARGS__, (char *)NULL);                          \
    if ((want) >= 0 ? st_ != (want) : st_ == 0)                                                \
      fail_msg("%s:%d: veche exited %d (want %d):\n%s", __FILE__, __LINE__, st_, (want), out); \
  } while (0)

/* The first JSON object printed, and its string field k (copied into v). */
static void out_field(const char *out, const char *k, char *v, size_t vlen) {
  const char *s = strchr(out, '{');
  assert_non_null(s);
  json_error_t je;
  json_t *j = json_loadb(s, strcspn(s, "\n"), 0, &je);
  if (!j) fail_msg("not JSON: %s", s);
  const char *x = json_string_value(json_object_get(j, k));
  if (!x) {
    fail_msg("no \"%s\" in %s", k, s);
    return;
  }
  snprintf(v, vlen, "%s", x);
  json_decref(j);
}

static void key_file(h_node_t *n, const char *name, const vcrypto_keypair_t *kp, char *path, size_t len) {
  snprintf(path, len, "%s/%s", n->dir, name);
  assert_int_equal(vcrypto_keyfile_write(path, kp), 0);
}

/* Registers identities through the API (authority = registrar), in batches. */
static void register_all(h_node_t *n, const vcrypto_keypair_t *keys, size_t count, const char *(*district)(size_t)) {
  uint8_t(*ids)[32] = calloc(count, 32);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  for (size_t b = 0; b < count; b += 200) {
    json_t *arr = json_array();
    for (size_t i = b; i < count && i < b + 200; i++) {
      identity_attr_t a;
      memset(&a, 0, sizeof a);
      strcpy(a.key, "district");
      snprintf(a.value, sizeof a.value, "%s", district(i));
      uint8_t digest[32] = {7};
      ve_buf_reset(&p);
      assert_int_equal(identity_payload_register(&p, keys[i].pk, digest, &a, 1), 0);
      char *hex = h_tx_hex(n->chain, &n->authority, n->seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), ids[i]);
      json_array_append_new(arr, json_string(hex));
      free(hex);
    }
    json_t *r;
    assert_int_equal(post_txs(n, json_pack("{s:o}", "txs", arr), &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r, "rejected")), 0);
    json_decref(r);
  }
  assert_int_equal(h_wait_final(n, ids, count), count);
  ve_buf_free(&p);
  free(ids);
}

static const char *trustee_district(size_t i) { return i < 3 ? "hq" : "?"; }
static const char *voter_district(size_t i) { return i < N_VOTERS ? "d1" : "d2"; }

/* Flips one byte of the blocks region of an export file (after its header). */
static void tamper_copy(const char *src, const char *dst, long from_end) {
  FILE *f = fopen(src, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)len);
  assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  b[len - from_end] ^= 0x01;
  f = fopen(dst, "wb");
  assert_int_equal(fwrite(b, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  free(b);
}

static void test_poll_end_to_end(void **state) {
  (void)state;
  h_node_t n;
  h_node_init(&n, g_veche);
  /* Faster empty blocks, so the poll's phases pass in seconds. */
  h_config_set(&n, "empty_block_ms", json_integer(100));
  h_node_start(&n);
  static char out[OUT_BYTES];
  char genesis[400], akey[400];
  snprintf(genesis, sizeof genesis, "%s/net/genesis.json", n.dir);
  snprintf(akey, sizeof akey, "%s/net/authority.key", n.dir);

  /* Identities: 3 trustees (given the trustee role), 240 + 10 voters. */
  static vcrypto_keypair_t trustees[3], voters[N_VOTERS + N_OTHERS];
  char tkey[3][400], tenc[3][400], tid[3][65];
  for (int j = 0; j < 3; j++) {
    h_seed_key(&trustees[j], 40, (uint32_t)j);
    char name[32];
    snprintf(name, sizeof name, "trustee%d.key", j + 1);
    key_file(&n, name, &trustees[j], tkey[j], sizeof tkey[j]);
    snprintf(tenc[j], sizeof tenc[j], "%s/trustee%d-enc.json", n.dir, j + 1);
    uint8_t id[32];
    identity_id_from_pk(id, trustees[j].pk);
    ve_hex_encode(tid[j], id, 32);
  }
  for (size_t i = 0; i < N_VOTERS + N_OTHERS; i++) h_seed_key(&voters[i], 41, (uint32_t)i);
  register_all(&n, trustees, 3, trustee_district);
  register_all(&n, voters, N_VOTERS + N_OTHERS, voter_district);
  {
    uint8_t ids[3][32];
    ve_buf_t p;
    ve_buf_init(&p, 0);
    for (int j = 0; j < 3; j++) {
      uint8_t id[32];
      identity_id_from_pk(id, trustees[j].pk);
      ve_buf_reset(&p);
      assert_int_equal(identity_payload_set_roles(&p, id, ROLE_TRUSTEE), 0);
      uint32_t type = TX_TYPE_IDENTITY_SET_ROLES;
      h_council_wrap(&type, &p);
      char *hex = h_tx_hex(n.chain, &n.authority, n.seq++, type, ve_buf_slice(&p), ids[j]);
      json_t *r;
      assert_int_equal(post_txs(&n, json_pack("{s:s}", "tx", hex), &r), 202);
      json_decref(r);
      free(hex);
    }
    assert_int_equal(h_wait_final(&n, ids, 3), 3);
    ve_buf_free(&p);
  }

  /* Trustee keys, generated and published with the CLI. */
  for (int j = 0; j < 3; j++) {
    VECHE(0, out, "poll", "trustee-keygen", "--out", tenc[j]);
    VECHE(0, out, "poll", "trustee-register", "--key", tkey[j], "--trustee-key", tenc[j], "--wait");
  }
  VECHE(0, out, "poll", "--help");
  assert_non_null(strstr(out, "trustee-keygen"));
  VECHE(0, out, "audit", "--help");
  VECHE(2, out, "poll", "create", "--title", "no close height");

  /* The voting window in blocks (10 a second: empty_block_ms is 100 above):
   * twice what the ballots are estimated to take, from the cost of a CLI round
   * trip here (a sanitizer build is several times slower). */
  uint64_t t_cli = h_now_ms();
  for (int k = 0; k < 4; k++) VECHE(0, out, "poll", "list");
  double per_vote = (double)(h_now_ms() - t_cli) / 4000 + 0.005; /* s */
  char close_arg[32];
  snprintf(close_arg, sizeof close_arg, "+%d", 125 + 200 + (int)(2 * per_vote * (N_VOTERS + N_REVOTES) * 10));
  fprintf(stderr, "  voting window: close at %s (%.0f ms per CLI vote estimated)\n", close_arg, per_vote * 1000);

  /* The poll: one question, three options, one choice, district d1 only. */
  VECHE(0, out, "poll", "create", "--key", akey, "--title", "Name of the new metro line", "--question",
        "Which name do you prefer?", "--option", "Kalininskaya", "--option", "Solntsevskaya", "--option",
        "Nekrasovskaya", "--trustee", tid[0], "--trustee", tid[1], "--trustee", tid[2], "--threshold", "2",
        "--eligible", "district=d1", "--deal-end", "+60", "--complaint-end", "+120", "--close", close_arg);
  /* (at most 30 arguments: --open takes its default, complaint-end + 5) */
  char poll[65];
  out_field(out, "poll", poll, sizeof poll);
  json_t *pj = NULL;
  char path[256];
  snprintf(path, sizeof path, "/v1/polls/%s", poll);
  for (int i = 0; i < 400 && h_get(&n, path, NULL) != 200; i++) h_sleep_ms(25);
  assert_int_equal(h_get(&n, path, &pj), 200);
  json_t *hts = json_object_get(pj, "heights");
  uint64_t deal_end = (uint64_t)json_integer_value(json_object_get(hts, "deal_end"));
  uint64_t complaint_end = (uint64_t)json_integer_value(json_object_get(hts, "complaint_end"));
  uint64_t open = (uint64_t)json_integer_value(json_object_get(hts, "open"));
  uint64_t close = (uint64_t)json_integer_value(json_object_get(hts, "close"));
  assert_string_equal(json_string_value(json_object_get(pj, "phase")), "dkg");
  json_decref(pj);

  /* Key generation. */
  for (int j = 0; j < 3; j++) VECHE(0, out, "poll", "dkg", "deal", "--key", tkey[j], "--trustee-key", tenc[j], "--poll", poll);
  h_wait_height(&n, deal_end, 60000);
  for (int j = 0; j < 3; j++) {
    VECHE(0, out, "poll", "dkg", "check", "--key", tkey[j], "--trustee-key", tenc[j], "--poll", poll);
    assert_null(strstr(out, "\"bad\""));
    assert_non_null(strstr(out, "\"good\""));
  }
  VECHE(-1, out, "poll", "dkg", "finish", "--key", akey, "--poll", poll, "--wait"); /* too early */
  assert_non_null(strstr(out, "too_early"));
  h_wait_height(&n, complaint_end, 60000);
  VECHE(0, out, "poll", "dkg", "finish", "--key", akey, "--poll", poll, "--wait");
  assert_int_equal(h_get(&n, path, &pj), 200);
  assert_true(json_is_string(json_object_get(pj, "election_key")));
  json_decref(pj);
  VECHE(-1, out, "poll", "vote", "--key", tkey[0], "--poll", poll, "--choice", "1"); /* not open yet */
  h_wait_height(&n, open - 1, 60000);

  /* Votes: one `veche poll vote` per ballot. Voters 0..2 submit themselves
   * and keep receipts; the others' signed ballots (--print) go to the node in
   * batches, so the chain does not grow a block per ballot. Voters 0..29 vote
   * twice; the second ballot replaces the first. */
  static int latest[N_VOTERS];
  char vkey[400];
  uint64_t t0 = h_now_ms();
  for (int round = 0; round < 2; round++) {
    json_t *batch = json_array();
    uint8_t(*ids)[32] = calloc(N_VOTERS, 32);
    size_t nids = 0;
    for (int v = 0; v < (round ? N_REVOTES : N_VOTERS); v++) {
      latest[v] = (v * v + round) % N_OPTIONS; /* uneven: 0 and 1 mostly */
      char name[32], choice[16], receipt[400], seq[16];
      snprintf(name, sizeof name, "voter%d.key", v);
      if (!round) key_file(&n, name, &voters[v], vkey, sizeof vkey);
      else snprintf(vkey, sizeof vkey, "%s/%s", n.dir, name);
      snprintf(choice, sizeof choice, "%d", latest[v] + 1);
      snprintf(seq, sizeof seq, "%d", round + 1);
      snprintf(receipt, sizeof receipt, "%s/receipt-%d-%d.json", n.dir, v, round);
      if (v < 3) {
        VECHE(0, out, "poll", "vote", "--key", vkey, "--poll", poll, "--choice", choice, "--receipt-out", receipt,
              "--genesis", genesis, "--wait");
        continue;
      }
      VECHE(0, out, "poll", "vote", "--key", vkey, "--poll", poll, "--choice", choice, "--seq", seq, "--print");
      char *hex = out + strcspn(out, "\n") + 1;
      hex[strcspn(hex, "\n")] = 0;
      size_t len = strlen(hex) / 2;
      uint8_t *raw = malloc(len);
      assert_int_equal(ve_hex_decode(raw, len, hex), 0);
      ledger_tx_id(ids[nids++], ve_slice(raw, len));
      free(raw);
      json_array_append_new(batch, json_string(hex));
      if (json_array_size(batch) == 60) {
        json_t *r;
        assert_int_equal(post_txs(&n, json_pack("{s:o}", "txs", batch), &r), 200);
        assert_int_equal(json_integer_value(json_object_get(r, "rejected")), 0);
        json_decref(r);
        batch = json_array();
      }
    }
    json_t *r;
    if (json_array_size(batch)) {
      assert_int_equal(post_txs(&n, json_pack("{s:o}", "txs", batch), &r), 200);
      assert_int_equal(json_integer_value(json_object_get(r, "rejected")), 0);
      json_decref(r);
    } else {
      json_decref(batch);
    }
    assert_int_equal(h_wait_final(&n, ids, nids), nids);
    free(ids);
  }
  fprintf(stderr, "  %d ballots by the CLI in %.1f s\n", N_VOTERS + N_REVOTES, (double)(h_now_ms() - t0) / 1000);
  assert_true(h_height(&n) < close);

  /* Refusals, each with its reason. */
  key_file(&n, "other.key", &voters[N_VOTERS], vkey, sizeof vkey);
  VECHE(1, out, "poll", "vote", "--key", vkey, "--poll", poll, "--choice", "1");
  assert_non_null(strstr(out, "not_eligible"));
  VECHE(1, out, "poll", "vote", "--key", vkey, "--poll", poll, "--choice", "1,2"); /* two choices: refused locally */
  assert_non_null(strstr(out, "wants 1..1 choices"));
  snprintf(vkey, sizeof vkey, "%s/voter5.key", n.dir);
  VECHE(0, out, "poll", "vote", "--key", vkey, "--poll", poll, "--choice", "1", "--print");
  {
    /* A malleated ballot under a valid signature, and the same ballot replayed. */
    char *hex = strdup(out + strcspn(out, "\n") + 1);
    hex[strcspn(hex, "\n")] = 0;
    size_t len = strlen(hex) / 2;
    uint8_t *raw = malloc(len);
    assert_int_equal(ve_hex_decode(raw, len, hex), 0);
    ledger_tx_t tx;
    assert_int_equal(ledger_tx_decode(ve_slice(raw, len), &tx), 0);
    uint8_t *pl = malloc(tx.payload.len);
    memcpy(pl, tx.payload.ptr, tx.payload.len);
    pl[tx.payload.len - 100] ^= 0x04;
    char *bad = h_tx_hex(n.chain, &voters[5], tx.seq, TX_TYPE_POLL_BALLOT, ve_slice(pl, tx.payload.len), NULL);
    json_t *r;
    int st = post_txs(&n, json_pack("{s:s}", "tx", bad), &r);
    const char *e = json_string_value(json_object_get(r, "error"));
    if (st == 202 || !e || (strcmp(e, "bad_proof") && strcmp(e, "non_canonical") && strcmp(e, "malformed")))
      fail_msg("malleated ballot: %d %s", st, e ? e : "?");
    json_decref(r);
    assert_int_equal(post_txs(&n, json_pack("{s:s}", "tx", hex), &r), 202);
    json_decref(r);
    latest[5] = 0;
    h_wait_height(&n, h_height(&n) + 2, 60000);
    char *again = h_tx_hex(n.chain, &voters[5], tx.seq + 1, TX_TYPE_POLL_BALLOT, tx.payload, NULL);
    st = post_txs(&n, json_pack("{s:s}", "tx", again), &r);
    e = json_string_value(json_object_get(r, "error"));
    if (st == 202 || !e || strcmp(e, "duplicate")) fail_msg("replayed ballot: %d %s", st, e ? e : "?");
    json_decref(r);
    free(again);
    free(bad);
    free(pl);
    free(raw);
    free(hex);
  }

  /* Receipts: voter 0's second ballot is counted, its first is not any more. */
  char r0a[400], r0b[400], saved[400];
  snprintf(r0a, sizeof r0a, "%s/receipt-0-0.json", n.dir);
  snprintf(r0b, sizeof r0b, "%s/receipt-0-1.json", n.dir);
  snprintf(saved, sizeof saved, "%s/bundle-0.json", n.dir);
  h_wait_height(&n, h_height(&n) + 2, 60000);
  VECHE(0, out, "poll", "receipt", "--genesis", genesis, "--receipt", r0b, "--save", saved);
  assert_non_null(strstr(out, "COUNTED"));
  VECHE(1, out, "poll", "receipt", "--genesis", genesis, "--receipt", r0a);
  assert_non_null(strstr(out, "NOT COUNTED"));
  VECHE(0, out, "poll", "receipt", "--genesis", genesis, "--bundle", saved);

  /* Close, decrypt (trustees 1 and 3), result. */
  VECHE(-1, out, "poll", "decrypt", "--key", tkey[0], "--trustee-key", tenc[0], "--poll", poll); /* still open */
  /* The close may still be hundreds of blocks away (the window is sized for
   * slow CLI votes): allow 250 ms a block on top of the usual minute, so a
   * loaded machine's slower blocks are not taken for a stuck node. */
  uint64_t now_h = h_height(&n);
  h_wait_height(&n, close + 1, 60000 + (int)(close + 1 > now_h ? (close + 1 - now_h) * 250 : 0));
  snprintf(vkey, sizeof vkey, "%s/voter7.key", n.dir);
  VECHE(1, out, "poll", "vote", "--key", vkey, "--poll", poll, "--choice", "2");
  assert_non_null(strstr(out, "too_late"));
  VECHE(-1, out, "poll", "decrypt", "--key", tkey[1], "--trustee-key", tenc[0], "--poll", poll); /* wrong key file */
  VECHE(0, out, "poll", "decrypt", "--key", tkey[0], "--trustee-key", tenc[0], "--poll", poll, "--wait");
  VECHE(0, out, "poll", "decrypt", "--key", tkey[2], "--trustee-key", tenc[2], "--poll", poll, "--wait");
  VECHE(-1, out, "poll", "decrypt", "--key", tkey[1], "--trustee-key", tenc[1], "--poll", poll); /* done */
  uint64_t want[N_OPTIONS] = {0};
  for (int v = 0; v < N_VOTERS; v++) want[latest[v]]++;
  assert_int_equal(h_get(&n, path, &pj), 200);
  assert_string_equal(json_string_value(json_object_get(pj, "status")), "done");
  json_t *res = json_object_get(pj, "result");
  assert_int_equal(json_integer_value(json_object_get(res, "voters")), N_VOTERS);
  json_t *counts = json_array_get(json_object_get(res, "counts"), 0);
  for (int o = 0; o < N_OPTIONS; o++) assert_int_equal(json_integer_value(json_array_get(counts, (size_t)o)), want[o]);
  json_decref(pj);
  fprintf(stderr, "  result: %llu / %llu / %llu\n", (unsigned long long)want[0], (unsigned long long)want[1],
          (unsigned long long)want[2]);

  /* The public audit: against the node, then an exported chain. */
  h_wait_height(&n, h_height(&n) + 2, 60000);
  VECHE(0, out, "audit", "poll", poll, "--genesis", genesis);
  assert_non_null(strstr(out, "AUDIT OK"));
  fprintf(stderr, "%s", out);
  char exp[400], bad[400];
  snprintf(exp, sizeof exp, "%s/poll.export", n.dir);
  snprintf(bad, sizeof bad, "%s/tampered.export", n.dir);
  VECHE(0, out, "audit", "export", "--poll", poll, "--out", exp);
  h_node_stop(&n); /* the exported chain stands alone */
  VECHE(0, out, "audit", "poll", poll, "--genesis", genesis, "--chain", exp);
  assert_non_null(strstr(out, "AUDIT OK"));
  /* Tampered copies: bytes in the last blocks (decryptions, the result's
   * header), in the middle (ballots) and near the start (dealings). */
  static const long offsets[] = {50, 700, 5000, 60000, 150000, 300000};
  FILE *f = fopen(exp, "rb");
  fseek(f, 0, SEEK_END);
  long total = ftell(f);
  fclose(f);
  for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
    if (offsets[k] >= total) continue;
    tamper_copy(exp, bad, offsets[k]);
    VECHE(1, out, "audit", "poll", poll, "--genesis", genesis, "--chain", bad);
    assert_non_null(strstr(out, "AUDIT FAILED"));
  }
  /* Another genesis (other validators): nothing is certified any more. */
  char other_dir[400], other_genesis[500];
  snprintf(other_dir, sizeof other_dir, "%s/other", n.dir);
  VECHE(0, out, "init", "--dir", other_dir, "--chain-id", "veche-it-1");
  snprintf(other_genesis, sizeof other_genesis, "%s/genesis.json", other_dir);
  VECHE(-1, out, "audit", "poll", poll, "--genesis", other_genesis, "--chain", exp);
  assert_null(strstr(out, "AUDIT OK"));
  h_node_cleanup(&n);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_poll_end_to_end)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
