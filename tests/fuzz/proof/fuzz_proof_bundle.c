/* fuzz_proof_bundle.c — proof bundles (docs/proofs.md) on arbitrary bytes, as
 * `veche verify` reads them from a file and the CLI's poll and audit commands
 * from a node's answer.
 *
 * Input: JSON text. Text that jansson refuses (duplicate keys included), over
 * TEXT_BYTES_MAX or nesting deeper than API_JSON_DEPTH_MAX is dropped. For the
 * rest, whatever the value:
 *   - proof_bundle_from_json refuses it with a real error code and a reason
 *     (non-empty, terminated within PROOF_REASON_BYTES_MAX), or accepts it;
 *   - an accepted bundle is what the input says: proof_bundle_to_json gives
 *     version 1 exactly when there are no links ("valsets" exactly when there
 *     are), and every field it writes is in the input with the same value (hex
 *     in lower case; the parser also reads upper case);
 *   - the parser and the serialiser agree: that JSON parses again to the same
 *     fields, which serialise to equal JSON;
 *   - proof_bundle_verify (from a genesis set) and proof_bundle_verify_era
 *     (trusting the set for the fact's era), both against a fixed set of four
 *     seeded validators on chain FUZZ_CHAIN, return 0 or a real error with a
 *     reason, never crash; without links the two agree exactly.
 * Everything is freed (LeakSanitizer). No clock, no randomness, nothing kept
 * between runs but the validator set. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "base/err.h"
#include "proof/proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHAIN "veche-fuzz"
#define FUZZ_VALIDATORS 4
/* A bundle the fuzzer makes is far smaller; the replay driver's limit. */
#define TEXT_BYTES_MAX ((size_t)1024 * 1024)

static cons_valset_t g_vs;
static bool g_ready;

/* Validator i: key from seed {'p', i + 1, 0, ...}, power 1. */
static void setup(void) {
  VE_ASSERT(vcrypto_init() == VE_OK);
  memset(&g_vs, 0, sizeof g_vs);
  g_vs.count = FUZZ_VALIDATORS;
  for (uint32_t i = 0; i < FUZZ_VALIDATORS; i++) {
    uint8_t seed[VCRYPTO_SEED_BYTES] = {'p', (uint8_t)(i + 1)};
    vcrypto_keypair_t kp;
    vcrypto_keypair_from_seed(&kp, seed);
    memcpy(g_vs.v[i].pk, kp.pk, VCRYPTO_PK_BYTES);
    g_vs.v[i].power = 1;
    vcrypto_keypair_wipe(&kp);
  }
  VE_ASSERT(cons_valset_check(&g_vs) == VE_OK);
  g_ready = true;
}

/* A failure: a real VE_ERR_* code, and a reason that says something, ends
 * within its buffer (filled with 0x55 before the call) and is one line of
 * printable ASCII (`veche verify` prints it: a bundle must not be able to
 * write a second line, such as a fake "PROVEN", or terminal escapes). */
static void assert_refusal(int rc, const char reason[PROOF_REASON_BYTES_MAX]) {
  VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
  VE_ASSERT(strcmp(ve_strerror(rc), "unknown error") != 0); /* ve_strerror of a code not in the table */
  VE_ASSERT(memchr(reason, 0, PROOF_REASON_BYTES_MAX) != NULL && reason[0] != 0);
  for (const char *c = reason; *c; c++) VE_ASSERT(*c >= 0x20 && *c <= 0x7e);
}

static bool buf_eq(const ve_buf_t *a, const ve_buf_t *b) {
  return ve_slice_eq(ve_buf_slice(a), ve_buf_slice(b));
}

/* Field by field. */
static void assert_same_bundle(const proof_bundle_t *a, const proof_bundle_t *b) {
  VE_ASSERT(strcmp(a->chain_id, b->chain_id) == 0);
  VE_ASSERT(a->height == b->height && a->present == b->present);
  VE_ASSERT(buf_eq(&a->key, &b->key) && buf_eq(&a->value, &b->value));
  VE_ASSERT(buf_eq(&a->proof, &b->proof) && buf_eq(&a->header, &b->header) && buf_eq(&a->cert, &b->cert));
  VE_ASSERT(a->n_links == b->n_links);
  for (uint32_t i = 0; i < a->n_links; i++) {
    const proof_link_t *x = &a->links[i], *y = &b->links[i];
    VE_ASSERT(x->epoch == y->epoch && x->height == y->height);
    VE_ASSERT(buf_eq(&x->record, &y->record) && buf_eq(&x->proof, &y->proof));
    VE_ASSERT(buf_eq(&x->header, &y->header) && buf_eq(&x->cert, &y->cert));
  }
}

static bool is_hex_name(const char *name) {
  static const char *const names[] = {"key", "value", "proof", "header", "cert", "record"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i]) == 0) return true;
  return false;
}

/* out, written by proof_bundle_to_json, is lower-case hex spelling the same
 * bytes as in (either case). */
static void assert_same_hex(const json_t *out, const json_t *in) {
  const char *o = json_string_value(out), *s = json_string_value(in);
  VE_ASSERT(o && s && json_string_length(out) == json_string_length(in));
  for (size_t i = 0; o[i]; i++) {
    VE_ASSERT((o[i] >= '0' && o[i] <= '9') || (o[i] >= 'a' && o[i] <= 'f'));
    char c = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
    VE_ASSERT(o[i] == c);
  }
}

/* Every member of out (an object the serialiser wrote, without arrays) is in
 * in with the same value. */
static void assert_members_from(const json_t *out, const json_t *in) {
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)out, name, v) {
    if (json_is_array(v)) continue; /* "valsets": compared by the caller */
    json_t *w = json_object_get(in, name);
    VE_ASSERT(w != NULL);
    if (is_hex_name(name) && json_is_string(v)) assert_same_hex(v, w);
    else VE_ASSERT(json_equal(v, w));
  }
}

/* The bundle b serialised to out says what the input in said. */
static void assert_from_input(const proof_bundle_t *b, const json_t *out, const json_t *in) {
  VE_ASSERT(json_is_object(out));
  json_int_t version = json_integer_value(json_object_get(out, "version"));
  VE_ASSERT(version == (b->n_links ? PROOF_BUNDLE_VERSION_CHAIN : PROOF_BUNDLE_VERSION_PLAIN));
  assert_members_from(out, in);
  const json_t *links = json_object_get(out, "valsets");
  VE_ASSERT((links != NULL) == (b->n_links > 0));
  if (!links) return;
  const json_t *in_links = json_object_get(in, "valsets");
  VE_ASSERT(b->n_links <= PROOF_VALSET_LINKS_MAX);
  VE_ASSERT(json_array_size(links) == b->n_links && json_array_size(in_links) == b->n_links);
  for (size_t i = 0; i < b->n_links; i++) assert_members_from(json_array_get(links, i), json_array_get(in_links, i));
}

/* Both verifiers against the fixed set: 0 or a real error with a reason. */
static void verify(const proof_bundle_t *b) {
  char reason[PROOF_REASON_BYTES_MAX], era_reason[PROOF_REASON_BYTES_MAX];
  proof_result_t res, era_res;
  memset(reason, 0x55, sizeof reason);
  int rc = proof_bundle_verify(b, FUZZ_CHAIN, &g_vs, &res, reason, sizeof reason);
  if (rc) assert_refusal(rc, reason);
  else VE_ASSERT(strcmp(b->chain_id, FUZZ_CHAIN) == 0 && res.valset_changes == b->n_links);

  memset(era_reason, 0x55, sizeof era_reason);
  int era_rc = proof_bundle_verify_era(b, FUZZ_CHAIN, &g_vs, &era_res, era_reason, sizeof era_reason);
  if (era_rc) assert_refusal(era_rc, era_reason);
  else VE_ASSERT(era_res.valset_changes == 0 && era_res.total_power == FUZZ_VALIDATORS);

  /* Without links the genesis set is the era's set: one verdict. */
  if (b->n_links == 0) {
    VE_ASSERT(rc == era_rc);
    VE_ASSERT(rc == VE_OK ? memcmp(&res, &era_res, sizeof res) == 0 : strcmp(reason, era_reason) == 0);
  }
}

static void fuzz_bundle(const json_t *in) {
  char reason[PROOF_REASON_BYTES_MAX];
  memset(reason, 0x55, sizeof reason);
  proof_bundle_t b;
  proof_bundle_init(&b);
  int rc = proof_bundle_from_json(in, &b, reason, sizeof reason);
  if (rc) {
    assert_refusal(rc, reason);
    proof_bundle_free(&b);
    return;
  }
  VE_ASSERT(memchr(b.chain_id, 0, sizeof b.chain_id) != NULL);

  json_t *out = proof_bundle_to_json(&b);
  VE_ASSERT(out != NULL);
  assert_from_input(&b, out, in);

  proof_bundle_t again;
  proof_bundle_init(&again);
  memset(reason, 0x55, sizeof reason);
  VE_ASSERT(proof_bundle_from_json(out, &again, reason, sizeof reason) == VE_OK);
  assert_same_bundle(&b, &again);
  json_t *out2 = proof_bundle_to_json(&again);
  VE_ASSERT(out2 != NULL && json_equal(out, out2));
  json_decref(out2);
  proof_bundle_free(&again);
  json_decref(out);

  verify(&b);
  proof_bundle_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ready) setup();
  if (size == 0 || size > TEXT_BYTES_MAX || api_json_depth_check(data, size, API_JSON_DEPTH_MAX) != VE_OK) return 0;
  json_error_t jerr;
  json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
  if (!in) return 0;
  fuzz_bundle(in);
  json_decref(in);
  return 0;
}
