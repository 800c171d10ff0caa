/* pharma_test.c — pharmaceutical track-and-trace end to end through a real
 * one-validator node, its HTTP API and the `veche` CLI (docs/pharma.md):
 *   1. the genesis authority (every role) registers two regulators and gives
 *      them the regulator role (`veche tx register`, `veche tx set-roles`),
 *      then names their countries, DE and FR (`veche pharma jurisdiction`);
 *   2. DE licenses a manufacturer, FR a wholesaler and a pharmacy;
 *   3. the manufacturer registers a product (authorised in DE) and commissions
 *      100 packs from a serials file (one serial holds a '/', which the CLI
 *      percent-encodes in API paths);
 *   4. a shipment DE -> FR is refused until FR's regulator authorises the
 *      product, then accepted, received, passed on to the pharmacy and
 *      received there; a pack is dispensed;
 *   5. `veche pharma verify`: GENUINE_ACTIVE (exit 0) for a pack on the shelf,
 *      ALREADY_DISPENSED (exit 1) for the dispensed one, UNKNOWN (exit 1) for
 *      a serial never commissioned; the API answers 404 with the verdict for it;
 *   6. FR recalls the batch: dispensing refused, verify says RECALLED;
 *   7. containers (protocol 3): three packs of a new batch aggregated into a
 *      case (SSCC) in DE, the case shipped to FR and received there (one
 *      code scanned, every pack moved), shown with its packs; a pack inside
 *      refused by pack-level SHIP; the case opened (disaggregate) and one pack
 *      shipped to the pharmacy and dispensed; the SSCC never reused; a
 *      container bundle verified offline;
 *   8. `veche pharma proof` of a pack and of the batch, then `veche verify`
 *      with only the genesis file: PROVEN offline.
 * Every wait is bounded (the CLI's --wait, the harness's timeouts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "apps/identity/identity.h"
#include "apps/pharma/pharma.h"
#include "harness.h"

#define GTIN "04006381333931"
#define BATCH "LOT-2030/A"
#define PACKS 100
#define OUT_BYTES 16384

enum { REG_DE, REG_FR, MANUF, WHOLE, PHARM, N_PEOPLE };
static const char *NAMES[N_PEOPLE] = {"reg-de", "reg-fr", "manufacturer", "wholesaler", "pharmacy"};

static const char *g_veche;
static struct {
  h_node_t n;
  char key[N_PEOPLE][400];
  char id[N_PEOPLE][65];
  char authority[400], genesis[400], serials[400], dir[300];
  char out[OUT_BYTES];
} g;

/* Runs veche (NULL-terminated arguments); output in g.out. */
#define VECHE(...) h_veche(&g.n, g.out, sizeof g.out, __VA_ARGS__, (char *)NULL)

static void expect(int line, int rc, int want, const char *says) {
  if (rc != want || (says && !strstr(g.out, says)))
    fail_msg("line %d: exit %d (want %d%s%s): %s", line, rc, want, says ? ", saying " : "", says ? says : "", g.out);
}
#define EXPECT(want, says, ...) expect(__LINE__, VECHE(__VA_ARGS__), (want), (says))

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", g.n.dir, name); }

static void serial_of(char *out, size_t n, int i) {
  if (i == 7) snprintf(out, n, "S/7"); /* needs percent-encoding in a URL */
  else snprintf(out, n, "S%03d", i);
}

static int group_setup(void **state) {
  (void)state;
  h_node_init(&g.n, g_veche);
  h_node_start(&g.n);
  snprintf(g.dir, sizeof g.dir, "%s/net", g.n.dir);
  snprintf(g.authority, sizeof g.authority, "%s/authority.key", g.dir);
  snprintf(g.genesis, sizeof g.genesis, "%s/genesis.json", g.dir);
  for (int i = 0; i < N_PEOPLE; i++) {
    vcrypto_keypair_t kp;
    h_seed_key(&kp, 77, (uint32_t)i);
    uint8_t id[32];
    identity_id_from_pk(id, kp.pk);
    ve_hex_encode(g.id[i], id, 32);
    char name[64];
    snprintf(name, sizeof name, "%s.key", NAMES[i]);
    path_in(g.key[i], sizeof g.key[i], name);
    assert_int_equal(vcrypto_keyfile_write(g.key[i], &kp), 0);
    vcrypto_keypair_wipe(&kp);
    EXPECT(0, "committed", "tx", "register", "--pk-of", g.key[i], "--key", g.authority, "--wait");
  }
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  if (g.n.pid) h_node_stop(&g.n);
  h_node_cleanup(&g.n);
  return 0;
}

/* ---- 1-2: regulators, jurisdictions, licences ---- */

static void test_setup_regulators_and_licences(void **state) {
  (void)state;
  /* Not yet a regulator: the jurisdiction is refused at execution. */
  EXPECT(1, "not_eligible", "pharma", "jurisdiction", "--regulator", g.id[REG_DE], "--country", "DE", "--key",
         g.authority, "--wait");
  for (int i = REG_DE; i <= REG_FR; i++)
    EXPECT(0, "committed", "tx", "set-roles", "--id", g.id[i], "--roles", "regulator", "--key", g.authority, "--wait");
  EXPECT(0, "committed", "pharma", "jurisdiction", "--regulator", g.id[REG_DE], "--country", "DE", "--key",
         g.authority, "--wait");
  EXPECT(0, "committed", "pharma", "jurisdiction", "--regulator", g.id[REG_FR], "--country", "FR", "--key",
         g.authority, "--wait");
  /* FR's regulator cannot license in DE. */
  EXPECT(1, "no_permission", "pharma", "license", "--country", "DE", "--party", g.id[MANUF], "--kinds",
         "manufacturer", "--key", g.key[REG_FR], "--wait");
  EXPECT(0, "committed", "pharma", "license", "--country", "DE", "--party", g.id[MANUF], "--kinds", "manufacturer",
         "--key", g.key[REG_DE], "--wait");
  EXPECT(0, "committed", "pharma", "license", "--country", "FR", "--party", g.id[WHOLE], "--kinds", "wholesaler",
         "--key", g.key[REG_FR], "--wait");
  EXPECT(0, "committed", "pharma", "license", "--country", "FR", "--party", g.id[PHARM], "--kinds", "dispenser",
         "--key", g.key[REG_FR], "--wait");
  EXPECT(0, "\"country\": \"FR\"", "pharma", "show", "jurisdiction", g.id[REG_FR]);
  EXPECT(0, "\"kinds\": \"dispenser\"", "pharma", "show", "licence", "FR", g.id[PHARM]);
  EXPECT(1, "404", "pharma", "show", "licence", "DE", g.id[PHARM]);
}

/* ---- 3-4: product, 100 packs, across the border ---- */

static void test_commission_ship_dispense(void **state) {
  (void)state;
  static const char DIGEST[] = "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1";
  EXPECT(1, "GS1 check digit", "pharma", "product", "register", "--gtin", "04006381333932", "--country", "DE",
         "--data-digest", DIGEST, "--key", g.key[MANUF]);
  EXPECT(0, "committed", "pharma", "product", "register", "--gtin", GTIN, "--country", "DE", "--data-digest", DIGEST,
         "--key", g.key[MANUF], "--wait");
  EXPECT(0, "committed", "pharma", "product", "authorise", "--gtin", GTIN, "--country", "DE", "--key", g.key[REG_DE],
         "--wait");
  /* 100 serials in a file. */
  path_in(g.serials, sizeof g.serials, "serials.txt");
  FILE *f = fopen(g.serials, "w");
  assert_non_null(f);
  for (int i = 0; i < PACKS; i++) {
    char s[32];
    serial_of(s, sizeof s, i);
    fprintf(f, "%s\n", s);
  }
  assert_int_equal(fclose(f), 0);
  EXPECT(0, "committed", "pharma", "commission", "--gtin", GTIN, "--batch", BATCH, "--expires", "20301231",
         "--serials-file", g.serials, "--key", g.key[MANUF], "--wait");
  EXPECT(0, "\"packs\": 100", "pharma", "show", "batch", GTIN, BATCH);
  EXPECT(0, "\"status\": \"active\"", "pharma", "show", "pack", GTIN, "S/7");
  /* Into FR only once FR's regulator authorised the product. */
  EXPECT(1, "no_permission", "pharma", "ship", "--to", g.id[WHOLE], "--country", "FR", "--gtin", GTIN,
         "--serials-file", g.serials, "--key", g.key[MANUF], "--wait");
  EXPECT(0, "committed", "pharma", "product", "authorise", "--gtin", GTIN, "--country", "FR", "--key", g.key[REG_FR],
         "--wait");
  EXPECT(0, "\"country\": \"FR\"", "pharma", "show", "product", GTIN);
  EXPECT(0, "committed", "pharma", "ship", "--to", g.id[WHOLE], "--country", "FR", "--gtin", GTIN, "--serials-file",
         g.serials, "--key", g.key[MANUF], "--wait");
  EXPECT(1, "IN_TRANSIT", "pharma", "verify", GTIN, "S/7");
  /* Only the named recipient receives. */
  EXPECT(1, "no_permission", "pharma", "receive", "--gtin", GTIN, "--serial", "S000", "--key", g.key[PHARM], "--wait");
  EXPECT(0, "committed", "pharma", "receive", "--gtin", GTIN, "--serials-file", g.serials, "--key", g.key[WHOLE],
         "--wait");
  EXPECT(0, "committed", "pharma", "ship", "--to", g.id[PHARM], "--country", "FR", "--gtin", GTIN, "--serial", "S/7",
         "--serial", "S001", "--serial", "S002", "--key", g.key[WHOLE], "--wait");
  EXPECT(0, "committed", "pharma", "receive", "--gtin", GTIN, "--serial", "S/7", "--serial", "S001", "--serial",
         "S002", "--key", g.key[PHARM], "--wait");
  /* A wholesaler does not dispense; the pharmacy does, once. */
  EXPECT(1, "no_permission", "pharma", "dispense", "--gtin", GTIN, "--serial", "S003", "--key", g.key[WHOLE], "--wait");
  EXPECT(0, "committed", "pharma", "dispense", "--gtin", GTIN, "--serial", "S/7", "--key", g.key[PHARM], "--wait");
  EXPECT(1, "invalid_state", "pharma", "dispense", "--gtin", GTIN, "--serial", "S/7", "--key", g.key[PHARM], "--wait");
}

/* ---- 5-6: verdicts and a recall ---- */

static void test_verify_and_recall(void **state) {
  (void)state;
  EXPECT(0, "GENUINE_ACTIVE", "pharma", "verify", GTIN, "S001");
  EXPECT(1, "ALREADY_DISPENSED", "pharma", "verify", GTIN, "S/7");
  EXPECT(1, "UNKNOWN", "pharma", "verify", GTIN, "NEVER-MADE");
  EXPECT(1, "ELSEWHERE", "pharma", "verify", GTIN, "S001", "--country", "DE");
  /* The API: the dispensed pack's custody history, and 404 with a verdict. */
  json_t *j = NULL;
  assert_int_equal(h_get(&g.n, "/v1/pharma/packs/" GTIN "/S%2F7", &j), 200);
  assert_string_equal(json_string_value(json_object_get(j, "verdict")), "ALREADY_DISPENSED");
  json_t *hist = json_object_get(j, "history");
  assert_int_equal(json_array_size(hist), 6); /* commission, ship, receive, ship, receive, dispense */
  assert_string_equal(json_string_value(json_object_get(json_array_get(hist, 5), "kind")), "dispense");
  assert_string_equal(json_string_value(json_object_get(json_object_get(j, "pack"), "custodian")), g.id[PHARM]);
  json_decref(j);
  j = NULL;
  assert_int_equal(h_get(&g.n, "/v1/pharma/packs/" GTIN "/NOPE", &j), 404);
  assert_string_equal(json_string_value(json_object_get(j, "verdict")), "UNKNOWN");
  json_decref(j);
  j = NULL;
  assert_int_equal(h_get(&g.n, "/v1/pharma/packs/04006381333932/S001", &j), 400);
  json_decref(j);
  j = NULL;
  assert_int_equal(h_get(&g.n, "/v1/pharma/packs/" GTIN "/S001?country=fr", &j), 400);
  json_decref(j);
  /* FR recalls the batch; DE's regulator cannot recall it in FR. */
  static const char REASON[] = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
  EXPECT(1, "no_permission", "pharma", "recall", "--gtin", GTIN, "--batch", BATCH, "--country", "FR",
         "--reason-digest", REASON, "--key", g.key[REG_DE], "--wait");
  EXPECT(0, "committed", "pharma", "recall", "--gtin", GTIN, "--batch", BATCH, "--country", "FR", "--reason-digest",
         REASON, "--key", g.key[REG_FR], "--wait");
  EXPECT(1, "already_exists", "pharma", "recall", "--gtin", GTIN, "--batch", BATCH, "--country", "FR",
         "--reason-digest", REASON, "--key", g.key[REG_FR], "--wait");
  EXPECT(1, "RECALLED", "pharma", "verify", GTIN, "S001");
  EXPECT(1, "invalid_state", "pharma", "dispense", "--gtin", GTIN, "--serial", "S002", "--key", g.key[PHARM], "--wait");
  /* A stolen report: every later check says so. */
  EXPECT(0, "committed", "pharma", "decommission", "--reason", "stolen", "--gtin", GTIN, "--serial", "S050", "--key",
         g.key[WHOLE], "--wait");
  EXPECT(1, "DECOMMISSIONED stolen", "pharma", "verify", GTIN, "S050");
}

/* ---- 7: containers ---- */

#define SSCC "106141411234567897" /* GS1's example SSCC */

static void test_containers(void **state) {
  (void)state;
  EXPECT(0, "committed", "pharma", "commission", "--gtin", GTIN, "--batch", "LOT-CASE", "--expires", "20301231",
         "--serial", "C1", "--serial", "C2", "--serial", "C3", "--key", g.key[MANUF], "--wait");
  EXPECT(1, "GS1 check digit", "pharma", "aggregate", "--sscc", "106141411234567898", "--gtin", GTIN, "--serial", "C1",
         "--key", g.key[MANUF]);
  EXPECT(0, "committed", "pharma", "aggregate", "--sscc", SSCC, "--gtin", GTIN, "--serial", "C1", "--serial", "C2",
         "--serial", "C3", "--key", g.key[MANUF], "--wait");
  EXPECT(0, "\"status\": \"closed\"", "pharma", "show", "container", SSCC);
  /* One code across the border: every pack inside moves. */
  EXPECT(0, "committed", "pharma", "ship-containers", "--to", g.id[WHOLE], "--country", "FR", "--sscc", SSCC, "--key",
         g.key[MANUF], "--wait");
  EXPECT(1, "IN_TRANSIT", "pharma", "verify", GTIN, "C2");
  assert_non_null(strstr(g.out, "in container " SSCC));
  EXPECT(0, "committed", "pharma", "receive-containers", "--sscc", SSCC, "--key", g.key[WHOLE], "--wait");
  json_t *j = NULL;
  assert_int_equal(h_get(&g.n, "/v1/pharma/containers/" SSCC, &j), 200);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "closed");
  assert_string_equal(json_string_value(json_object_get(j, "country")), "FR");
  assert_string_equal(json_string_value(json_object_get(j, "custodian")), g.id[WHOLE]);
  assert_string_equal(json_string_value(json_object_get(j, "packer")), g.id[MANUF]);
  json_t *packs = json_object_get(j, "packs");
  assert_int_equal(json_array_size(packs), 3);
  for (size_t i = 0; i < 3; i++)
    assert_string_equal(json_string_value(json_object_get(json_array_get(packs, i), "status")), "active");
  json_decref(j);
  j = NULL;
  assert_int_equal(h_get(&g.n, "/v1/pharma/containers/000000000000000017", &j), 404);
  json_decref(j);
  j = NULL;
  assert_int_equal(h_get(&g.n, "/v1/pharma/containers/106141411234567890", &j), 400);
  json_decref(j);
  EXPECT(0, "GENUINE_ACTIVE", "pharma", "verify", GTIN, "C1");
  /* Inside a case a pack does not move alone. */
  EXPECT(1, "invalid_state", "pharma", "ship", "--to", g.id[PHARM], "--country", "FR", "--gtin", GTIN, "--serial",
         "C1", "--key", g.key[WHOLE], "--wait");
  EXPECT(0, "committed", "pharma", "disaggregate", "--sscc", SSCC, "--key", g.key[WHOLE], "--wait");
  EXPECT(0, "\"status\": \"opened\"", "pharma", "show", "container", SSCC);
  EXPECT(1, "already_exists", "pharma", "aggregate", "--sscc", SSCC, "--gtin", GTIN, "--serial", "C2", "--key",
         g.key[WHOLE], "--wait");
  EXPECT(0, "committed", "pharma", "ship", "--to", g.id[PHARM], "--country", "FR", "--gtin", GTIN, "--serial", "C1",
         "--key", g.key[WHOLE], "--wait");
  EXPECT(0, "committed", "pharma", "receive", "--gtin", GTIN, "--serial", "C1", "--key", g.key[PHARM], "--wait");
  EXPECT(0, "committed", "pharma", "dispense", "--gtin", GTIN, "--serial", "C1", "--key", g.key[PHARM], "--wait");
  /* The pack's history shows every hand-over, the case's included. */
  assert_int_equal(h_get(&g.n, "/v1/pharma/packs/" GTIN "/C1", &j), 200);
  json_t *hist = json_object_get(j, "history");
  static const char *const kinds[] = {"commission", "aggregate", "ship", "receive", "disaggregate",
                                      "ship", "receive", "dispense"};
  assert_int_equal(json_array_size(hist), 8);
  for (size_t i = 0; i < 8; i++)
    assert_string_equal(json_string_value(json_object_get(json_array_get(hist, i), "kind")), kinds[i]);
  assert_string_equal(json_string_value(json_object_get(json_array_get(hist, 1), "container")), SSCC);
  assert_true(json_is_null(json_object_get(json_object_get(j, "pack"), "container")));
  json_decref(j);
  /* The container's record, proved offline. */
  char bundle[400];
  path_in(bundle, sizeof bundle, "container.bundle.json");
  EXPECT(0, "written", "pharma", "proof", "container", SSCC, "--out", bundle);
  EXPECT(0, "PROVEN", "verify", "--genesis", g.genesis, "--bundle", bundle);
  assert_non_null(strstr(g.out, "has this value"));
}

/* ---- 8: offline proof ---- */

static void test_proof_offline(void **state) {
  (void)state;
  char pack[400], batch[400], absent[400];
  path_in(pack, sizeof pack, "pack.bundle.json");
  path_in(batch, sizeof batch, "batch.bundle.json");
  path_in(absent, sizeof absent, "absent.bundle.json");
  EXPECT(0, "written", "pharma", "proof", "pack", GTIN, "S/7", "--out", pack);
  EXPECT(0, "written", "pharma", "proof", "batch", GTIN, BATCH, "--out", batch);
  EXPECT(0, "written", "pharma", "proof", "pack", GTIN, "NEVER-MADE", "--out", absent);
  /* The node is not needed to check them. */
  h_node_stop(&g.n);
  EXPECT(0, "PROVEN", "verify", "--genesis", g.genesis, "--bundle", pack);
  assert_non_null(strstr(g.out, "has this value"));
  /* veche verify summarises the proven pack. */
  if (!strstr(g.out, "pack GTIN " GTIN " serial S/7, batch " BATCH) || !strstr(g.out, "status dispensed"))
    fail_msg("verify summary: %s", g.out);
  EXPECT(0, "PROVEN", "verify", "--genesis", g.genesis, "--bundle", batch);
  EXPECT(0, "is absent", "verify", "--genesis", g.genesis, "--bundle", absent);
  /* The pack bundle's value decodes to the dispensed pack. */
  json_error_t je;
  json_t *b = json_load_file(pack, 0, &je);
  assert_non_null(b);
  const char *hex = json_string_value(json_object_get(b, "value"));
  assert_non_null(hex);
  size_t n = strlen(hex) / 2;
  uint8_t *v = malloc(n);
  assert_int_equal(ve_hex_decode(v, n, hex), 0);
  pharma_pack_t p;
  assert_int_equal(pharma_pack_decode(ve_slice(v, n), &p), 0);
  assert_int_equal(p.status, PHARMA_PACK_DISPENSED);
  assert_string_equal(p.ref.serial, "S/7");
  free(v);
  json_decref(b);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_setup_regulators_and_licences),
      cmocka_unit_test(test_commission_ship_dispense),
      cmocka_unit_test(test_verify_and_recall),
      cmocka_unit_test(test_containers),
      cmocka_unit_test(test_proof_offline),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
