/* property_test.c — the land registry on a running one-validator node, driven
 * through the `veche` binary as a registrar and citizens would
 * (src/apps/property, docs/property.md "CLI walk-through"):
 *   1. the founding authority registers a land registrar, three citizens and a
 *      bank (`veche tx register`) and gives the registrar land_registrar
 *      (`veche tx set-roles`);
 *   2. the registrar registers a parcel owned by alice (`veche property
 *      register`, digests of a plan and a deed file);
 *   3. alice -> bob: refused with the buyer's consent alone (the CLI names the
 *      missing seller; with --force the ledger refuses it: no_quorum), then
 *      accepted with both consents;
 *   4. a mortgage for the bank (bob and the bank consent);
 *   5. bob -> carol refused without the bank (CLI and ledger), then the bank
 *      releases the mortgage and the sale goes through;
 *   6. `veche property proof` of the title and of history version 2 verify
 *      offline with `veche verify` (PROVEN); the history lists alice, bob,
 *      carol in that order; carol's owned listing has the parcel, alice's
 *      does not;
 *   7. after a restart everything reads the same;
 *   8. lineage (protocol 3, which `veche init` starts at): a second parcel of
 *      alice's with the bank's mortgage is subdivided in two (`veche property
 *      subdivide --child NUM:PLANFILE:AREA[:DISTRICT]`; without the bank's
 *      consent the CLI names it as the mortgage holder); `show` gives the
 *      retired parent with its children and the children with their parent,
 *      the mortgage copied; the two children are merged back into a new
 *      parcel (the bank consents once for both mortgages, renumbered 1, 2);
 *      the bank's second mortgage is handed to carol (`replace-holder`, both
 *      consent); the history shows each new event; a proof bundle of the
 *      retired parent verifies offline.
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

#define CAD "77:01:0001001:1001"
enum { LAND, ALICE, BOB, CAROL, BANK, NPEOPLE };
static const char *const NAMES[NPEOPLE] = {"land", "alice", "bob", "carol", "bank"};

static const char *g_veche;
static struct {
  h_node_t n;
  char key[NPEOPLE][320], id[NPEOPLE][65];
  char auth_key[320], genesis[320], plan[320], deed[320], deed2[320], mortgage[320], release[320];
  char parcel[65];
  char out[16384];
} g;

#define VECHE(...) h_veche(&g.n, g.out, sizeof g.out, __VA_ARGS__, (char *)NULL)

static void expect(int line, int rc, int want, const char *says) {
  if ((want == 0) != (rc == 0) || (says && !strstr(g.out, says)))
    fail_msg("line %d: exit %d (want %s%s%s): %s", line, rc, want ? "failure" : "0", says ? ", saying " : "",
             says ? says : "", g.out);
}
#define EXPECT(want, says, ...) expect(__LINE__, VECHE(__VA_ARGS__), (want), (says))

static void path_in(char *out, const char *name) { snprintf(out, 320, "%s/%s", g.n.dir, name); }

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_true(fputs(text, f) >= 0);
  assert_int_equal(fclose(f), 0);
}

/* A consent file of who to `change` with the action options args[] (NULL-ended). */
static void consent(int who, const char *change, const char *file, const char *const *args) {
  const char *argv[31] = {"property", "consent", change};
  size_t n = 3;
  for (size_t i = 0; args[i]; i++) argv[n++] = args[i];
  argv[n++] = "--key", argv[n++] = g.key[who], argv[n++] = "--out", argv[n++] = file;
  while (n < 31) argv[n++] = NULL;
  int rc = VECHE(argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7], argv[8], argv[9], argv[10],
                 argv[11], argv[12], argv[13], argv[14], argv[15], argv[16], argv[17], argv[18], argv[19]);
  expect(__LINE__, rc, 0, NULL);
}

/* Runs `veche property CHANGE args... --consent F... --key LAND --wait [extra]`. */
static int change(const char *chg, const char *const *args, const char *const *files, const char *extra) {
  const char *argv[31] = {"property", chg};
  size_t n = 2;
  for (size_t i = 0; args[i]; i++) argv[n++] = args[i];
  for (size_t i = 0; files[i]; i++) argv[n++] = "--consent", argv[n++] = files[i];
  argv[n++] = "--key", argv[n++] = g.key[LAND], argv[n++] = "--wait";
  if (extra) argv[n++] = extra;
  while (n < 31) argv[n++] = NULL;
  return VECHE(argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7], argv[8], argv[9], argv[10],
               argv[11], argv[12], argv[13], argv[14], argv[15], argv[16], argv[17], argv[18], argv[19], argv[20],
               argv[21], argv[22], argv[23], argv[24]);
}

static json_t *title(void) {
  char path[200];
  snprintf(path, sizeof path, "/v1/property/parcels/%s", g.parcel);
  json_t *j = NULL;
  assert_int_equal(h_get(&g.n, path, &j), 200);
  return j;
}

static void title_is(uint64_t version, int owner, size_t encumbrances) {
  json_t *t = title();
  assert_int_equal(json_integer_value(json_object_get(t, "version")), (json_int_t)version);
  json_t *owners = json_object_get(t, "owners");
  assert_int_equal(json_array_size(owners), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(owners, 0), "identity")), g.id[owner]);
  assert_string_equal(json_string_value(json_object_get(json_array_get(owners, 0), "share")), "1/1");
  assert_int_equal(json_array_size(json_object_get(t, "encumbrances")), encumbrances);
  assert_string_equal(json_string_value(json_object_get(t, "cadastral")), CAD);
  json_decref(t);
}

/* ---- 1, 2: identities, roles, the parcel ---- */

static int group_setup(void **state) {
  (void)state;
  memset(&g, 0, sizeof g);
  h_node_init(&g.n, g_veche);
  h_node_start(&g.n);
  path_in(g.auth_key, "net/authority.key");
  snprintf(g.genesis, sizeof g.genesis, "%s/net/genesis.json", g.n.dir);
  for (int i = 0; i < NPEOPLE; i++) {
    vcrypto_keypair_t kp;
    h_seed_key(&kp, 80, (uint32_t)i);
    uint8_t id[32];
    identity_id_from_pk(id, kp.pk);
    ve_hex_encode(g.id[i], id, 32);
    char name[64];
    snprintf(name, sizeof name, "%s.key", NAMES[i]);
    path_in(g.key[i], name);
    assert_int_equal(vcrypto_keyfile_write(g.key[i], &kp), 0);
    vcrypto_keypair_wipe(&kp);
  }
  path_in(g.plan, "plan.geojson");
  path_in(g.deed, "deed-1998.pdf");
  path_in(g.deed2, "sale-2024.pdf");
  path_in(g.mortgage, "mortgage.pdf");
  path_in(g.release, "mortgage-paid.pdf");
  write_text(g.plan, "{\"type\": \"Polygon\", \"coordinates\": [[[37.61, 55.75], [37.62, 55.75], [37.62, 55.76]]]}\n");
  write_text(g.deed, "deed of 1998: alice owns parcel 77:01:0001001:1001\n");
  write_text(g.deed2, "contract of sale\n");
  write_text(g.mortgage, "mortgage contract\n");
  write_text(g.release, "mortgage paid off\n");
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  if (g.n.pid) h_node_stop(&g.n);
  h_log_check(&g.n);
  h_node_cleanup(&g.n);
  return 0;
}

static void test_setup_and_register(void **state) {
  (void)state;
  for (int i = 0; i < NPEOPLE; i++) EXPECT(0, NULL, "tx", "register", "--pk-of", g.key[i], "--key", g.auth_key, "--wait");
  /* Only a land registrar records titles. */
  EXPECT(1, "no_permission", "property", "register", "--cadastral", CAD, "--owner", g.id[ALICE], "--plan", g.plan,
         "--area", "812", "--deed", g.deed, "--key", g.key[LAND], "--wait");
  EXPECT(0, NULL, "tx", "set-roles", "--id", g.id[LAND], "--roles", "land_registrar", "--key", g.auth_key, "--wait");
  EXPECT(0, "committed", "property", "register", "--cadastral", CAD, "--owner", g.id[ALICE], "--plan", g.plan,
         "--area", "812", "--district", "center", "--deed", g.deed, "--key", g.key[LAND], "--wait");
  const char *p = strstr(g.out, "parcel ");
  assert_non_null(p);
  memcpy(g.parcel, p + 7, 64);
  EXPECT(0, g.parcel, "property", "id", "--cadastral", CAD);
  EXPECT(1, "already_exists", "property", "register", "--cadastral", CAD, "--owner", g.id[BOB], "--plan", g.plan,
         "--area", "812", "--deed", g.deed, "--key", g.key[LAND], "--wait");
  title_is(1, ALICE, 0);
  /* The API's refusals. */
  json_t *j = NULL;
  char path[200];
  snprintf(path, sizeof path, "/v1/property/parcels/%064d", 0);
  assert_int_equal(h_get(&g.n, path, &j), 404);
  assert_string_equal(json_string_value(json_object_get(j, "error")), "not_found");
  json_decref(j);
  assert_int_equal(h_get(&g.n, "/v1/property/parcels/xyz", &j), 400);
  json_decref(j);
  assert_int_equal(h_get(&g.n, "/v1/property/parcels?cadastral=a%20b", &j), 400);
  json_decref(j);
  assert_int_equal(h_get(&g.n, "/v1/property/parcels?cadastral=77:01:0001001:1001", &j), 200);
  assert_string_equal(json_string_value(json_object_get(j, "id")), g.parcel);
  json_decref(j);
  snprintf(path, sizeof path, "/v1/property/parcels/%s/history?limit=999", g.parcel);
  assert_int_equal(h_get(&g.n, path, &j), 400);
  json_decref(j);
}

/* ---- 3, 4, 5: consents ---- */

static void test_transfers(void **state) {
  (void)state;
  char c_bob[320], c_alice[320], c_alice_stale[320];
  path_in(c_bob, "consent-bob-1.json");
  path_in(c_alice, "consent-alice-1.json");
  path_in(c_alice_stale, "consent-alice-stale.json");
  const char *sale[] = {"--cadastral", CAD, "--owner", g.id[BOB], "--deed", g.deed2, NULL};
  consent(BOB, "transfer", c_bob, sale);
  /* The buyer alone: the CLI names the missing seller and sends nothing; with
   * --force the ledger refuses it. */
  const char *only_bob[] = {c_bob, NULL};
  expect(__LINE__, change("transfer", sale, only_bob, NULL), 1, "missing the consent of");
  assert_non_null(strstr(g.out, "(current owner)"));
  assert_non_null(strstr(g.out, g.id[ALICE]));
  expect(__LINE__, change("transfer", sale, only_bob, "--force"), 1, "no_quorum");
  title_is(1, ALICE, 0);
  /* A consent to other terms is refused before anything is sent. */
  const char *other_terms[] = {"--cadastral", CAD, "--owner", g.id[CAROL], "--deed", g.deed2, NULL};
  consent(ALICE, "transfer", c_alice_stale, other_terms);
  const char *mixed[] = {c_bob, c_alice_stale, NULL};
  expect(__LINE__, change("transfer", sale, mixed, NULL), 1, "different change");
  /* Both: accepted. */
  consent(ALICE, "transfer", c_alice, sale);
  const char *both[] = {c_bob, c_alice, NULL};
  expect(__LINE__, change("transfer", sale, both, NULL), 0, "committed");
  title_is(2, BOB, 0);
  /* The same consents again: the title moved on (version 2), so they are void. */
  expect(__LINE__, change("transfer", sale, both, NULL), 1, "another title version");

  /* A mortgage: bob and the bank. */
  char m_bob[320], m_bank[320];
  path_in(m_bob, "mortgage-bob.json");
  path_in(m_bank, "mortgage-bank.json");
  const char *mort[] = {"--cadastral", CAD, "--kind", "mortgage", "--holder", g.id[BANK], "--document", g.mortgage, NULL};
  consent(BOB, "encumber", m_bob, mort);
  consent(BANK, "encumber", m_bank, mort);
  const char *mb[] = {m_bob, m_bank, NULL};
  expect(__LINE__, change("encumber", mort, mb, NULL), 0, "committed");
  title_is(3, BOB, 1);

  /* bob -> carol without the bank: refused by the CLI and by the ledger. */
  char s_bob[320], s_carol[320], s_bank[320];
  path_in(s_bob, "sale2-bob.json");
  path_in(s_carol, "sale2-carol.json");
  path_in(s_bank, "sale2-bank.json");
  const char *sale2[] = {"--cadastral", CAD, "--owner", g.id[CAROL], "--deed", g.deed2, NULL};
  consent(BOB, "transfer", s_bob, sale2);
  consent(CAROL, "transfer", s_carol, sale2);
  const char *no_bank[] = {s_bob, s_carol, NULL};
  expect(__LINE__, change("transfer", sale2, no_bank, NULL), 1, "(mortgage holder)");
  expect(__LINE__, change("transfer", sale2, no_bank, "--force"), 1, "no_quorum");
  title_is(3, BOB, 1);

  /* The bank releases its mortgage (number 1); then bob and carol suffice. */
  char r_bank[320];
  path_in(r_bank, "release-bank.json");
  const char *rel[] = {"--cadastral", CAD, "--number", "1", "--document", g.release, NULL};
  consent(BANK, "release", r_bank, rel);
  const char *rb[] = {r_bank, NULL};
  expect(__LINE__, change("release", rel, rb, NULL), 0, "committed");
  title_is(4, BOB, 0);
  /* The consents of bob and carol were signed at version 3: void now. */
  expect(__LINE__, change("transfer", sale2, no_bank, NULL), 1, "another title version");
  unlink(s_bob), unlink(s_carol);
  consent(BOB, "transfer", s_bob, sale2);
  consent(CAROL, "transfer", s_carol, sale2);
  expect(__LINE__, change("transfer", sale2, no_bank, NULL), 0, "committed");
  title_is(5, CAROL, 0);
}

/* ---- 6, 7: proofs, history, owner index, restart ---- */

static void check_reads(void) {
  char bundle[320], bundle_v2[320];
  path_in(bundle, "title-proof.json");
  path_in(bundle_v2, "history-v2-proof.json");
  unlink(bundle), unlink(bundle_v2);
  EXPECT(0, NULL, "property", "proof", "--cadastral", CAD, "--out", bundle);
  EXPECT(0, "PROVEN", "verify", "--genesis", g.genesis, "--bundle", bundle);
  /* veche verify summarises the proven title: carol owns all of it. */
  char line[160];
  snprintf(line, sizeof line, "owner %s, share 1/1", g.id[CAROL]);
  if (!strstr(g.out, "title of parcel " CAD) || !strstr(g.out, line)) fail_msg("verify summary: %s", g.out);
  EXPECT(0, NULL, "property", "proof", "--parcel", g.parcel, "--version", "2", "--out", bundle_v2);
  EXPECT(0, "PROVEN", "verify", "--genesis", g.genesis, "--bundle", bundle_v2);
  snprintf(line, sizeof line, "owner %s, share 1/1", g.id[BOB]);
  if (!strstr(g.out, "version 2: transfer") || !strstr(g.out, line)) fail_msg("verify summary: %s", g.out);
  /* History: the owners in order, with the mortgage and its release between. */
  EXPECT(0, NULL, "property", "history", "--cadastral", CAD);
  const char *v1 = strstr(g.out, "v1 register"), *v2 = strstr(g.out, "v2 transfer"), *v3 = strstr(g.out, "v3 encumber"),
             *v4 = strstr(g.out, "v4 release"), *v5 = strstr(g.out, "v5 transfer");
  if (!v1 || !v2 || !v3 || !v4 || !v5 || !(v1 < v2 && v2 < v3 && v3 < v4 && v4 < v5)) fail_msg("history: %s", g.out);
  const char *a = strstr(v1, g.id[ALICE]), *b = strstr(v2, g.id[BOB]), *c = strstr(v5, g.id[CAROL]);
  if (!a || a > v2 || !b || b > v3 || !c) fail_msg("history owners: %s", g.out);
  assert_non_null(strstr(v3, "mortgage #1"));
  /* What each owns. */
  EXPECT(0, g.parcel, "property", "owned", "--identity", g.id[CAROL]);
  assert_non_null(strstr(g.out, "share 1/1"));
  EXPECT(0, NULL, "property", "owned", "--identity", g.id[ALICE]);
  assert_null(strstr(g.out, g.parcel));
  EXPECT(0, NULL, "property", "owned", "--identity", g.id[BOB]);
  assert_null(strstr(g.out, g.parcel));
  title_is(5, CAROL, 0);
}

static void test_reads_and_restart(void **state) {
  (void)state;
  check_reads();
  h_node_stop(&g.n);
  h_node_start(&g.n);
  check_reads();
  /* Still writable after the restart: a court order seizes it. */
  char order[320];
  path_in(order, "court-order.pdf");
  write_text(order, "court order: seizure\n");
  const char *arrest[] = {"--cadastral", CAD, "--kind", "arrest", "--holder", g.id[BANK], "--document", order, NULL};
  const char *none[] = {NULL};
  expect(__LINE__, change("encumber", arrest, none, NULL), 0, "committed");
  json_t *t = title();
  assert_true(json_is_true(json_object_get(t, "arrested")));
  json_decref(t);
}

/* ---- 8: subdivision, merger, holder replacement ---- */

#define LOT "77:01:0001002:2001"

static json_t *title_of(const char *cad) {
  char path[200];
  snprintf(path, sizeof path, "/v1/property/parcels?cadastral=%s", cad);
  json_t *j = NULL;
  assert_int_equal(h_get(&g.n, path, &j), 200);
  return j;
}

static const char *jstr(const json_t *j, const char *k) {
  const char *v = json_string_value(json_object_get(j, k));
  if (!v) fail_msg("no \"%s\"", k);
  return v;
}

static void test_lineage(void **state) {
  (void)state;
  char plan1[320], plan2[320], planm[320], split[320], join[320], assign[320], child1[400], child2[400];
  path_in(plan1, "plan-lot-1.geojson");
  path_in(plan2, "plan-lot-2.geojson");
  path_in(planm, "plan-lot-m.geojson");
  path_in(split, "survey-split.pdf");
  path_in(join, "survey-join.pdf");
  path_in(assign, "mortgage-assignment.pdf");
  write_text(plan1, "{\"type\": \"Polygon\", \"lot\": 1}\n");
  write_text(plan2, "{\"type\": \"Polygon\", \"lot\": 2}\n");
  write_text(planm, "{\"type\": \"Polygon\", \"lot\": \"1+2\"}\n");
  write_text(split, "survey: the lot is split in two\n");
  write_text(join, "survey: the two lots are one again\n");
  write_text(assign, "the bank assigns its mortgage to carol\n");
  EXPECT(0, "committed", "property", "register", "--cadastral", LOT, "--owner", g.id[ALICE], "--plan", g.plan,
         "--area", "1000", "--deed", g.deed, "--key", g.key[LAND], "--wait");
  char m_alice[320], m_bank[320];
  path_in(m_alice, "lot-mortgage-alice.json");
  path_in(m_bank, "lot-mortgage-bank.json");
  const char *mort[] = {"--cadastral", LOT, "--kind", "mortgage", "--holder", g.id[BANK], "--document", g.mortgage, NULL};
  consent(ALICE, "encumber", m_alice, mort);
  consent(BANK, "encumber", m_bank, mort);
  const char *mab[] = {m_alice, m_bank, NULL};
  expect(__LINE__, change("encumber", mort, mab, NULL), 0, "committed");

  /* Subdivision: alice and the bank consent. */
  snprintf(child1, sizeof child1, LOT "/1:%s:600:west", plan1);
  snprintf(child2, sizeof child2, LOT "/2:%s:400", plan2);
  const char *sub[] = {"--cadastral", LOT, "--child", child1, "--child", child2, "--deed", split, NULL};
  char s_alice[320], s_bank[320];
  path_in(s_alice, "split-alice.json");
  path_in(s_bank, "split-bank.json");
  consent(ALICE, "subdivide", s_alice, sub);
  const char *only_alice[] = {s_alice, NULL};
  expect(__LINE__, change("subdivide", sub, only_alice, NULL), 1, "(mortgage holder)");
  consent(BANK, "subdivide", s_bank, sub);
  const char *sab[] = {s_alice, s_bank, NULL};
  expect(__LINE__, change("subdivide", sub, sab, NULL), 0, "committed");
  json_t *parent = title_of(LOT), *c1 = title_of(LOT "/1"), *c2 = title_of(LOT "/2");
  assert_string_equal(jstr(parent, "status"), "retired");
  assert_int_equal(json_array_size(json_object_get(parent, "children")), 2);
  assert_int_equal(json_array_size(json_object_get(parent, "owners")), 1); /* the last picture */
  char parent_id[65], id1[65], id2[65];
  snprintf(parent_id, sizeof parent_id, "%s", jstr(parent, "id"));
  snprintf(id1, sizeof id1, "%s", jstr(c1, "id"));
  snprintf(id2, sizeof id2, "%s", jstr(c2, "id"));
  for (json_t **c = (json_t *[]){c1, c2, NULL}; *c; c++) {
    assert_string_equal(jstr(*c, "status"), "active");
    assert_int_equal(json_integer_value(json_object_get(*c, "version")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(*c, "parents"), 0)), parent_id);
    json_t *e = json_array_get(json_object_get(*c, "encumbrances"), 0);
    assert_string_equal(jstr(e, "holder"), g.id[BANK]);
    assert_string_equal(jstr(json_array_get(json_object_get(*c, "owners"), 0), "identity"), g.id[ALICE]);
  }
  assert_int_equal(json_integer_value(json_object_get(c1, "area_m2")), 600);
  assert_string_equal(jstr(c1, "district"), "west");
  json_decref(parent), json_decref(c1), json_decref(c2);
  EXPECT(0, "\"retired\"", "property", "show", "--cadastral", LOT);
  EXPECT(0, "v3 subdivide", "property", "history", "--cadastral", LOT);
  assert_non_null(strstr(g.out, id1));
  EXPECT(0, "v1 origin", "property", "history", "--cadastral", LOT "/2");
  assert_non_null(strstr(g.out, parent_id));
  EXPECT(0, id1, "property", "owned", "--identity", g.id[ALICE]);
  assert_null(strstr(g.out, parent_id));
  /* The retired parent takes nothing any more. */
  EXPECT(1, "invalid_state", "property", "release", "--cadastral", LOT, "--number", "1", "--document", g.release,
         "--key", g.key[LAND], "--wait", "--force");
  assert_non_null(strstr(g.out, "is retired"));
  /* Its lineage, one level each way. */
  char path[200];
  snprintf(path, sizeof path, "/v1/property/parcels/%s/lineage", parent_id);
  json_t *j = NULL;
  assert_int_equal(h_get(&g.n, path, &j), 200);
  json_t *kids = json_object_get(j, "children");
  assert_int_equal(json_array_size(kids), 2);
  const char *k0 = jstr(json_array_get(kids, 0), "cadastral"), *k1 = jstr(json_array_get(kids, 1), "cadastral");
  assert_true((!strcmp(k0, LOT "/1") && !strcmp(k1, LOT "/2")) || (!strcmp(k0, LOT "/2") && !strcmp(k1, LOT "/1")));
  json_decref(j);

  /* The two lots merged back: alice and the bank (once, for two mortgages). */
  const char *mrg[] = {"--cadastral", LOT "/1", "--cadastral", LOT "/2", "--into", LOT "/M", "--plan", planm,
                       "--area", "1000", "--deed", join, NULL};
  char j_alice[320], j_bank[320];
  path_in(j_alice, "join-alice.json");
  path_in(j_bank, "join-bank.json");
  consent(ALICE, "merge", j_alice, mrg);
  consent(BANK, "merge", j_bank, mrg);
  const char *jab[] = {j_alice, j_bank, NULL};
  expect(__LINE__, change("merge", mrg, jab, NULL), 0, "committed");
  json_t *m = title_of(LOT "/M");
  assert_string_equal(jstr(m, "status"), "active");
  assert_int_equal(json_array_size(json_object_get(m, "parents")), 2);
  json_t *encs = json_object_get(m, "encumbrances");
  assert_int_equal(json_array_size(encs), 2);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(encs, 1), "number")), 2);
  char merged_id[65];
  snprintf(merged_id, sizeof merged_id, "%s", jstr(m, "id"));
  json_decref(m);
  c1 = title_of(LOT "/1");
  assert_string_equal(jstr(c1, "status"), "retired");
  assert_string_equal(json_string_value(json_array_get(json_object_get(c1, "children"), 0)), merged_id);
  json_decref(c1);
  EXPECT(0, "v2 merge", "property", "history", "--cadastral", LOT "/2");
  assert_non_null(strstr(g.out, merged_id));

  /* The bank's mortgage #2 goes to carol: both consent. */
  const char *rh[] = {"--cadastral", LOT "/M", "--number", "2", "--holder", g.id[CAROL], "--document", assign, NULL};
  char h_bank[320], h_carol[320];
  path_in(h_bank, "assign-bank.json");
  path_in(h_carol, "assign-carol.json");
  consent(CAROL, "replace-holder", h_carol, rh);
  const char *only_carol[] = {h_carol, NULL};
  expect(__LINE__, change("replace-holder", rh, only_carol, NULL), 1, "(current holder)");
  consent(BANK, "replace-holder", h_bank, rh);
  const char *hbc[] = {h_bank, h_carol, NULL};
  expect(__LINE__, change("replace-holder", rh, hbc, NULL), 0, "committed");
  m = title_of(LOT "/M");
  encs = json_object_get(m, "encumbrances");
  assert_string_equal(jstr(json_array_get(encs, 0), "holder"), g.id[BANK]);
  assert_string_equal(jstr(json_array_get(encs, 1), "holder"), g.id[CAROL]);
  assert_int_equal(json_integer_value(json_object_get(m, "version")), 2);
  json_decref(m);
  EXPECT(0, "v2 holder_replace", "property", "history", "--cadastral", LOT "/M");
  assert_non_null(strstr(g.out, g.id[CAROL]));

  /* The retired parent's title, proven offline: status and children. */
  char bundle[320];
  path_in(bundle, "retired-proof.json");
  unlink(bundle);
  EXPECT(0, NULL, "property", "proof", "--cadastral", LOT, "--out", bundle);
  EXPECT(0, "PROVEN", "verify", "--genesis", g.genesis, "--bundle", bundle);
  /* veche verify's summary names the status and both children. */
  char child_line[80];
  if (!strstr(g.out, "status retired")) fail_msg("verify summary without the status: %s", g.out);
  snprintf(child_line, sizeof child_line, "child %s", id1);
  if (!strstr(g.out, child_line)) fail_msg("verify summary without child %s: %s", id1, g.out);
  snprintf(child_line, sizeof child_line, "child %s", id2);
  if (!strstr(g.out, child_line)) fail_msg("verify summary without child %s: %s", id2, g.out);
  /* The proven value is the version-2 title (docs/property.md): it starts
   * with the version byte 2 and ends with status 1 (retired), no parents and
   * the two children in id order. */
  json_error_t je;
  json_t *b = json_load_file(bundle, 0, &je);
  assert_non_null(b);
  const char *value = jstr(b, "value");
  char tail[2 * 3 + 2 * 64 + 1];
  bool one_first = strcmp(id1, id2) < 0;
  snprintf(tail, sizeof tail, "010002%s%s", one_first ? id1 : id2, one_first ? id2 : id1);
  size_t vl = strlen(value), tl = strlen(tail);
  if (strncmp(value, "02", 2) || vl < tl || strcmp(value + vl - tl, tail)) fail_msg("retired title value: %s", value);
  json_decref(b);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_setup_and_register),
      cmocka_unit_test(test_transfers),
      cmocka_unit_test(test_reads_and_restart),
      cmocka_unit_test(test_lineage),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
