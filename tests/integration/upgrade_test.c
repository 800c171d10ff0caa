/* upgrade_test.c — the consortium schedules a protocol upgrade on a running
 * network, and nodes whose release does not implement it stop before it
 * (src/apps/upgrade; docs/operations.md "Upgrading the protocol").
 *
 * A `veche testnet` of four validators and an observer, all running this
 * release; the testnet starts at the latest protocol this release implements
 * (CUR) and the upgrade is to the next one (NEXT = CUR + 1), which it does not
 * implement. Through the CLI, as operators would:
 *   1. GET /v1/protocol: protocol CUR, nothing scheduled;
 *   2. one validator's approval alone (1/4 of the power) is refused by
 *      `veche upgrade schedule` before submitting;
 *   3. v0, v1, v2 approve protocol NEXT from a far height; scheduled: every node
 *      shows it (not implemented by this release), in /v1/protocol and in the
 *      veche_protocol_upgrade_height gauge, and logs a warning;
 *   4. the same validators cancel it (protocol CUR again): nothing scheduled;
 *   5. they schedule protocol NEXT from a near height A: every node, validators
 *      and observer, stops by itself after committing A - 1 (exit status not
 *      0, the reason in its log) and the chain halts there;
 *   6. restarted, a node refuses to start, naming the protocol, the height
 *      and its intact tip.
 * Every wait is bounded (longer under the sanitizers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

#define NV 4
#define NO 1
#define EMPTY_BLOCK_MS 300
#define WAIT_MS (60000 * H_SCALE)
#define NEAR 12 /* heights between scheduling and the upgrade of step 5 */
#define CUR LEDGER_PROTOCOL_IMPLEMENTED
#define NEXT (LEDGER_PROTOCOL_IMPLEMENTED + 1)

static const char *g_veche;
static h_net_t g_net;
static char g_out[8192];

static void expect(int line, int rc, int want, const char *says) {
  if (rc != want || (says && !strstr(g_out, says)))
    fail_msg("line %d: exit %d (want %d%s%s): %s", line, rc, want, says ? ", saying " : "", says ? says : "", g_out);
}
#define VECHE(want, says, ...) expect(__LINE__, h_veche(&g_net.node[0], g_out, sizeof g_out, __VA_ARGS__, (char *)NULL), (want), (says))

/* The approvals of v0..v(k-1) of protocol p from height a, in files; names
 * them in args (--approval FILE pairs) for `veche upgrade schedule`. */
static void approve(uint64_t p, uint64_t a, size_t k, char files[][320]) {
  char ps[24], as[24];
  snprintf(ps, sizeof ps, "%llu", (unsigned long long)p);
  snprintf(as, sizeof as, "%llu", (unsigned long long)a);
  for (size_t i = 0; i < k; i++) {
    char key[320];
    snprintf(key, sizeof key, "%s/validator.key", g_net.node[i].dir);
    static unsigned serial; /* approvals are never overwritten: one file each */
    snprintf(files[i], 320, "%s/approval-%u-v%zu.json", g_net.dir, serial++, i);
    VECHE(0, NULL, "upgrade", "approve", "--protocol", ps, "--from-height", as, "--key", key, "--out", files[i]);
  }
}

/* `veche upgrade schedule` with the approvals of v0..v(k-1); returns its exit. */
static int schedule(uint64_t p, uint64_t a, size_t k) {
  char files[NV][320], ps[24], as[24], akey[320];
  approve(p, a, k, files);
  snprintf(ps, sizeof ps, "%llu", (unsigned long long)p);
  snprintf(as, sizeof as, "%llu", (unsigned long long)a);
  snprintf(akey, sizeof akey, "%s/tn/authority.key", g_net.dir);
  const char *argv[32] = {"upgrade", "schedule", "--protocol", ps, "--from-height", as, "--key", akey, "--wait"};
  size_t n = 9;
  for (size_t i = 0; i < k; i++) {
    argv[n++] = "--approval";
    argv[n++] = files[i];
  }
  while (n < 32) argv[n++] = NULL;
  return h_veche(&g_net.node[0], g_out, sizeof g_out, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6],
                 argv[7], argv[8], argv[9], argv[10], argv[11], argv[12], argv[13], argv[14], argv[15], argv[16],
                 (char *)NULL);
}

/* /v1/protocol of node i: protocol, decisions, and the scheduled upgrade
 * (0, 0 when none). */
static void protocol_of(size_t i, uint64_t *protocol, uint64_t *decisions, uint64_t *next, uint64_t *from) {
  json_t *j;
  assert_int_equal(h_get(&g_net.node[i], "/v1/protocol", &j), 200);
  assert_int_equal(json_integer_value(json_object_get(j, "implemented")), CUR);
  *protocol = (uint64_t)json_integer_value(json_object_get(j, "protocol"));
  *decisions = (uint64_t)json_integer_value(json_object_get(j, "decisions"));
  json_t *s = json_object_get(j, "next");
  *next = *from = 0;
  if (json_is_object(s)) {
    *next = (uint64_t)json_integer_value(json_object_get(s, "protocol"));
    *from = (uint64_t)json_integer_value(json_object_get(s, "from_height"));
    assert_true(json_is_false(json_object_get(s, "implemented")));
  } else {
    assert_true(json_is_null(s));
  }
  json_decref(j);
}

/* Waits until every node shows `decisions` decisions, then checks what they show. */
static void all_show(uint64_t decisions, uint64_t next, uint64_t from) {
  for (size_t i = 0; i < NV + NO; i++) {
    uint64_t p, d = 0, nx, f, end = h_now_ms() + WAIT_MS;
    while (protocol_of(i, &p, &d, &nx, &f), d < decisions) {
      if (h_now_ms() > end) fail_msg("node %zu still shows %llu upgrade decisions", i, (unsigned long long)d);
      h_sleep_ms(100);
    }
    assert_int_equal(p, CUR);
    assert_int_equal(d, decisions);
    assert_int_equal(nx, next);
    assert_int_equal(f, from);
    assert_int_equal((uint64_t)h_metric(&g_net.node[i], "veche_protocol_upgrade_height"), from);
  }
}

static bool log_says(const h_node_t *n, const char *what) {
  char path[320];
  snprintf(path, sizeof path, "%s/node.log", n->dir);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  char line[2048];
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) found = strstr(line, what) != NULL;
  fclose(f);
  return found;
}

static void test_upgrade_schedule_cancel_halt(void **state) {
  (void)state;
  h_net_init(&g_net, g_veche, NV, NO, EMPTY_BLOCK_MS);
  for (size_t i = 0; i < NV + NO; i++) h_node_start(&g_net.node[i]);
  h_wait_height(&g_net.node[0], 3, WAIT_MS);
  all_show(0, 0, 0);

  uint64_t far = h_height(&g_net.node[0]) + 100000;
  expect(__LINE__, schedule(NEXT, far, 1), 1, "more than 2/3");
  assert_int_equal(schedule(NEXT, far, 3), 0);
  all_show(1, NEXT, far);
  char warn[128];
  snprintf(warn, sizeof warn, "protocol %d is scheduled from height %llu", NEXT, (unsigned long long)far);
  for (size_t i = 0; i < NV + NO; i++)
    if (!log_says(&g_net.node[i], warn)) fail_msg("node %zu did not warn \"%s\"", i, warn);

  assert_int_equal(schedule(CUR, far, 3), 0); /* cancels */
  all_show(2, 0, 0);

  uint64_t a = h_height(&g_net.node[0]) + NEAR;
  assert_int_equal(schedule(NEXT, a, 3), 0);
  char stop[96];
  snprintf(stop, sizeof stop, "stopping after height %llu", (unsigned long long)a - 1);
  for (size_t i = 0; i < NV + NO; i++) {
    int st = h_node_wait_exit(&g_net.node[i], WAIT_MS + NEAR * EMPTY_BLOCK_MS * 4);
    if (st == 0) fail_msg("node %zu exited with status 0 at the upgrade", i);
    if (!log_says(&g_net.node[i], stop)) fail_msg("node %zu's log does not say \"%s\"", i, stop);
  }

  char says[160];
  snprintf(says, sizeof says, "runs protocol %d from height %llu", NEXT, (unsigned long long)a);
  VECHE(1, says, "start", "--dir", g_net.node[1].conf);
  snprintf(says, sizeof says, "intact at height %llu", (unsigned long long)a - 1);
  VECHE(1, says, "start", "--dir", g_net.node[1].conf);
  h_net_cleanup(&g_net);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_upgrade_schedule_cancel_halt)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
