/* gov_test.c — the council on a running one-validator node, driven through
 * the `veche` binary as a consortium and its authorities would
 * (src/apps/gov, docs/governance.md "CLI"):
 *   1. `veche init` makes a protocol-2 chain: the founding authority A is the
 *      council, 1 of 1, so `veche tx set-roles` becomes a proposal that
 *      executes at once; `--open-for` out of range and `init --protocol` past the newest implemented
 *      are refused with status 2;
 *   2. A registers B, C, X and Y; the validator approves the council {A, B,
 *      C}, k = 2, offline (`veche gov council-approve`) and anyone submits it
 *      (`veche gov council-set`); an approval of another council is refused
 *      locally;
 *   3. `veche tx set-roles X notary` by A: open, 1 of 2, X unchanged; listed
 *      by `veche gov list --open`; B approves: executed, X is a notary; C's
 *      approval after that: invalid_state; the old direct tx (--direct):
 *      needs_council_decision;
 *   4. a proposal B and C object to closes rejected; Y (a registrar, not a
 *      member) proposing: not_eligible;
 *   5. proofs of the proposal and of the council, PROVEN offline by `veche
 *      verify` once the node is stopped; after a restart the council and the
 *      proposals read the same;
 *   6. `veche init --protocol 1`: direct set-roles commits, `veche gov council`
 *      says there is none.
 * Every wait is bounded (the CLI's --wait, the harness's timeouts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "harness.h"

enum { B, C, X, Y, NPEOPLE };
static const char *const NAMES[NPEOPLE] = {"b", "c", "x", "y"};

static const char *g_veche;
static struct {
  h_node_t n;
  char key[NPEOPLE][320], id[NPEOPLE][65];
  char auth_key[320], auth_id[65], val_key[320], genesis[320];
  char executed[65], rejected[65];
  char out[16384];
} g;

#define VECHE(...) h_veche(&g.n, g.out, sizeof g.out, __VA_ARGS__, (char *)NULL)

static void expect(int line, int rc, int want, const char *says) {
  if ((want == 0) != (rc == 0) || (want > 1 && rc != want) || (says && !strstr(g.out, says)))
    fail_msg("line %d: exit %d (want %s%s%s): %s", line, rc, want ? "failure" : "0", says ? ", saying " : "",
             says ? says : "", g.out);
}
#define EXPECT(want, says, ...) expect(__LINE__, VECHE(__VA_ARGS__), (want), (says))

static void path_in(char *out, const char *name) { snprintf(out, 320, "%s/%s", g.n.dir, name); }

/* The proposal id the last command printed ("proposal <64 hex>"). */
static void proposal_id(char out[65]) {
  const char *p = strstr(g.out, "proposal ");
  if (!p) fail_msg("no proposal id in: %s", g.out);
  memcpy(out, p + 9, 64);
  out[64] = 0;
  uint8_t b[32];
  assert_int_equal(ve_hex_decode(b, 32, out), 0);
}

/* Roles of identity id as the node shows them, comma-separated ("" for none). */
static void roles_of(const char *id, char *out, size_t len) {
  char path[128];
  snprintf(path, sizeof path, "/v1/identities/%s", id);
  json_t *j = NULL;
  assert_int_equal(h_get(&g.n, path, &j), 200);
  out[0] = 0;
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(j, "roles"), i, r) {
    size_t l = strlen(out);
    snprintf(out + l, len - l, "%s%s", l ? "," : "", json_string_value(r));
  }
  json_decref(j);
}

static void roles_are(const char *id, const char *want) {
  char have[256];
  roles_of(id, have, sizeof have);
  assert_string_equal(have, want);
}

/* GET /v1/gov/proposals/id: its status. */
static void status_is(const char *id, const char *want) {
  char path[128];
  snprintf(path, sizeof path, "/v1/gov/proposals/%s", id);
  json_t *j = NULL;
  assert_int_equal(h_get(&g.n, path, &j), 200);
  assert_string_equal(json_string_value(json_object_get(j, "status")), want);
  json_decref(j);
}

static int group_setup(void **state) {
  (void)state;
  memset(&g, 0, sizeof g);
  h_node_init(&g.n, g_veche);
  h_node_start(&g.n);
  path_in(g.auth_key, "net/authority.key");
  path_in(g.val_key, "net/validator.key");
  path_in(g.genesis, "net/genesis.json");
  uint8_t id[32];
  identity_id_from_pk(id, g.n.authority.pk);
  ve_hex_encode(g.auth_id, id, 32);
  for (int i = 0; i < NPEOPLE; i++) {
    vcrypto_keypair_t kp;
    h_seed_key(&kp, 90, (uint32_t)i);
    identity_id_from_pk(id, kp.pk);
    ve_hex_encode(g.id[i], id, 32);
    char name[64];
    snprintf(name, sizeof name, "%s.key", NAMES[i]);
    path_in(g.key[i], name);
    assert_int_equal(vcrypto_keyfile_write(g.key[i], &kp), 0);
    vcrypto_keypair_wipe(&kp);
  }
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  if (g.n.pid) h_node_stop(&g.n);
  h_log_check(&g.n);
  h_node_cleanup(&g.n);
  return 0;
}

/* ---- 1: the founding council, 1 of 1 ---- */

static void test_founding_council(void **state) {
  (void)state;
  EXPECT(0, "council epoch 1: 1 of 1 members decide", "gov", "council");
  assert_non_null(strstr(g.out, g.auth_id));
  for (int i = 0; i < NPEOPLE; i++) EXPECT(0, "committed", "tx", "register", "--pk-of", g.key[i], "--key", g.auth_key, "--wait");
  EXPECT(0, "executed at height", "tx", "set-roles", "--id", g.id[Y], "--roles", "registrar", "--key", g.auth_key,
         "--wait");
  assert_non_null(strstr(g.out, "committed")); /* what older scripts grep for */
  roles_are(g.id[Y], "registrar");
  EXPECT(2, "--open-for must be", "tx", "set-roles", "--id", g.id[Y], "--roles", "none", "--open-for", "10s", "--key",
         g.auth_key);
  EXPECT(2, "--open-for must be", "gov", "propose", "--type", "0x0106", "--payload-hex", "00", "--open-for", "91d",
         "--key", g.auth_key);
  char dir[320], next[16];
  path_in(dir, "p3");
  snprintf(next, sizeof next, "%d", LEDGER_PROTOCOL_IMPLEMENTED + 1);
  EXPECT(2, "--protocol must be", "init", "--dir", dir, "--protocol", next);
}

/* ---- 2: the consortium appoints {A, B, C}, k = 2 ---- */

static void test_appoint(void **state) {
  (void)state;
  char members[3 * 65 + 3], approval[320], approval3[320];
  snprintf(members, sizeof members, "%s,%s,%s", g.id[C], g.auth_id, g.id[B]); /* any order */
  path_in(approval, "council-2.json");
  path_in(approval3, "council-3of3.json");
  EXPECT(1, "strict majority", "gov", "council-approve", "--members", members, "--k", "1", "--key", g.val_key);
  EXPECT(1, "not a validator", "gov", "council-approve", "--members", members, "--k", "2", "--key", g.key[B], "--out",
         approval);
  EXPECT(0, "approval of council epoch 2 (2 of 3)", "gov", "council-approve", "--members", members, "--k", "2",
         "--key", g.val_key, "--out", approval);
  EXPECT(0, NULL, "gov", "council-approve", "--members", members, "--k", "3", "--key", g.val_key, "--out", approval3);
  /* The k = 3 approval does not approve the k = 2 council: refused before sending. */
  EXPECT(1, "another council", "gov", "council-set", "--members", members, "--k", "2", "--approval", approval3,
         "--key", g.key[X], "--wait");
  EXPECT(0, "council epoch 2 appointed: 2 of 3", "gov", "council-set", "--members", members, "--k", "2", "--approval",
         approval, "--key", g.key[X], "--wait");
  EXPECT(0, "council epoch 2: 2 of 3 members decide", "gov", "council");
  assert_non_null(strstr(g.out, g.id[B]));
  assert_non_null(strstr(g.out, g.id[C]));
  /* The same approval again: epoch 3 is next now. */
  EXPECT(1, "moved on", "gov", "council-set", "--members", members, "--k", "2", "--approval", approval, "--key",
         g.key[X], "--wait");
}

/* ---- 3: a proposal, an approval that executes it ---- */

static void test_propose_approve(void **state) {
  (void)state;
  EXPECT(0, "open, 1 of 2 approvals", "tx", "set-roles", "--id", g.id[X], "--roles", "notary", "--note",
         "notary office 7", "--key", g.auth_key, "--wait");
  proposal_id(g.executed);
  roles_are(g.id[X], "");
  EXPECT(0, g.executed, "gov", "list", "--open");
  EXPECT(0, "\"note\": \"notary office 7\"", "gov", "show", g.executed);
  EXPECT(0, "executed at height", "gov", "approve", g.executed, "--key", g.key[B], "--wait");
  roles_are(g.id[X], "notary");
  status_is(g.executed, "executed");
  EXPECT(1, "invalid_state", "gov", "approve", g.executed, "--key", g.key[C], "--wait");
  EXPECT(1, "needs_council_decision", "tx", "set-roles", "--id", g.id[X], "--roles", "none", "--direct", "--key",
         g.auth_key, "--wait");
  roles_are(g.id[X], "notary");
  EXPECT(0, "no open proposals", "gov", "list", "--open");
  /* Suspending a role holder is the council's too; a role-less one is not. */
  EXPECT(0, "open, 1 of 2 approvals", "tx", "suspend", "--id", g.id[X], "--key", g.auth_key, "--wait");
}

/* ---- 4: objections close a proposal; non-members cannot propose ---- */

static void test_reject_and_non_member(void **state) {
  (void)state;
  EXPECT(0, "open, 1 of 2", "tx", "set-roles", "--id", g.id[X], "--roles", "notary,trustee", "--key", g.auth_key,
         "--wait");
  proposal_id(g.rejected);
  EXPECT(0, "open, 1 of 2", "gov", "reject", g.rejected, "--key", g.key[B], "--wait"); /* 1 objection: k still reachable */
  EXPECT(0, "rejected at height", "gov", "reject", g.rejected, "--key", g.key[C], "--wait");
  status_is(g.rejected, "rejected");
  EXPECT(1, "invalid_state", "gov", "approve", g.rejected, "--key", g.key[B], "--wait");
  roles_are(g.id[X], "notary");
  /* Y holds a role but is no member: the ledger's answer, and the wrapped
   * command's own explanation. */
  char payload[2 * 64];
  snprintf(payload, sizeof payload, "01%s00", g.id[X]); /* SET_ROLES v1: id, roles none */
  EXPECT(1, "not_eligible", "gov", "propose", "--type", "0x0106", "--payload-hex", payload, "--key", g.key[Y], "--wait");
  EXPECT(1, "not a council member", "tx", "set-roles", "--id", g.id[X], "--roles", "none", "--key", g.key[Y], "--wait");
  roles_are(g.id[X], "notary");
}

/* ---- 5: proofs offline; a restart ---- */

static void test_proofs_restart(void **state) {
  (void)state;
  char pbundle[320], cbundle[320];
  path_in(pbundle, "proposal.json");
  path_in(cbundle, "council.json");
  EXPECT(0, "written to", "gov", "proof", g.executed, "--out", pbundle);
  EXPECT(0, "written to", "gov", "proof", "council", "--out", cbundle);
  h_node_stop(&g.n);
  EXPECT(0, "PROVEN", "verify", "--genesis", g.genesis, "--bundle", pbundle);
  char says[160];
  snprintf(says, sizeof says, "proposal %s of council epoch 2: executed", g.executed);
  assert_non_null(strstr(g.out, says));
  assert_non_null(strstr(g.out, "2 approvals, 0 objections; decided at height"));
  EXPECT(0, "council epoch 2: 2 of 3 members decide", "verify", "--genesis", g.genesis, "--bundle", cbundle);
  assert_non_null(strstr(g.out, g.id[C]));
  /* A tampered value is not proven. */
  FILE *f = fopen(cbundle, "r+");
  assert_non_null(f);
  char text[16384];
  size_t len = fread(text, 1, sizeof text - 1, f);
  text[len] = 0;
  char *v = strstr(text, g.id[C]);
  assert_non_null(v);
  v[0] = v[0] == 'a' ? 'b' : 'a';
  rewind(f);
  assert_int_equal(fwrite(text, 1, len, f), len);
  fclose(f);
  EXPECT(1, "NOT PROVEN", "verify", "--genesis", g.genesis, "--bundle", cbundle);
  h_node_start(&g.n);
  EXPECT(0, "council epoch 2: 2 of 3 members decide", "gov", "council");
  status_is(g.executed, "executed");
  status_is(g.rejected, "rejected");
  EXPECT(0, g.rejected, "gov", "list", "--limit", "3");
}

/* ---- 6: a chain at protocol 1 ---- */

static void test_protocol1(void **state) {
  (void)state;
  h_node_t n1;
  h_node_init(&n1, g_veche); /* a protocol-2 network, replaced below on the same port */
  char dir[300], port[16], file[400];
  snprintf(dir, sizeof dir, "%s/net", n1.dir);
  snprintf(port, sizeof port, "%u", n1.port);
  static const char *const files[] = {"genesis.json", "config.json", "authority.key", "validator.key"};
  for (size_t i = 0; i < 4; i++) {
    snprintf(file, sizeof file, "%s/%s", dir, files[i]);
    assert_int_equal(unlink(file), 0);
  }
  char out[4096];
  assert_int_equal(h_veche(&n1, out, sizeof out, "init", "--dir", dir, "--chain-id", "veche-it-1", "--api-port", port,
                           "--protocol", "1", (char *)NULL),
                   0);
  assert_non_null(strstr(out, "(protocol 1)"));
  snprintf(file, sizeof file, "%s/authority.key", dir);
  assert_int_equal(vcrypto_keyfile_read(file, &n1.authority), 0);
  h_node_start(&n1);
  char node[64];
  snprintf(node, sizeof node, "127.0.0.1:%u", n1.port);
  if (h_veche(&n1, out, sizeof out, "gov", "council", "--node", node, (char *)NULL) == 0 || !strstr(out, "no council"))
    fail_msg("gov council on a protocol-1 chain: %s", out);
  if (h_veche(&n1, out, sizeof out, "tx", "register", "--pk-of", g.key[X], "--key", file, "--node", node, "--wait",
              (char *)NULL))
    fail_msg("register: %s", out);
  if (h_veche(&n1, out, sizeof out, "tx", "set-roles", "--id", g.id[X], "--roles", "notary", "--key", file, "--node",
              node, "--wait", (char *)NULL) ||
      !strstr(out, "committed") || strstr(out, "proposal"))
    fail_msg("direct set-roles on a protocol-1 chain: %s", out);
  h_node_stop(&n1);
  h_log_check(&n1);
  h_node_cleanup(&n1);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_founding_council), cmocka_unit_test(test_appoint),
      cmocka_unit_test(test_propose_approve),  cmocka_unit_test(test_reject_and_non_member),
      cmocka_unit_test(test_proofs_restart),   cmocka_unit_test(test_protocol1),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
