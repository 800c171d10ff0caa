/* cmd_gov_file.c — `veche gov`'s files: a validator's approval of a council,
 * as JSON, and the checks it passes before it goes into a GOV_COUNCIL_SET
 * (the ones the ledger makes, so a stale or mismatched approval is refused
 * here with a reason instead of failing on the chain). No exits: every
 * function returns its VE_ERR code with the reason in err (cmd_gov_int.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cmd_gov_int.h"
#include "cli/cmd_valset_int.h"
#include "node/config.h"

static int id_cmp(const void *a, const void *b) { return memcmp(a, b, LEDGER_HASH_BYTES); }

/* Sorts and checks the members of c; k already set. */
static int council_check(gov_council_t *c, char *err, size_t err_len) {
  if (c->n == 0) return vsc_fail(err, err_len, VE_ERR_INVALID, "a council needs at least one member");
  qsort(c->members, c->n, LEDGER_HASH_BYTES, id_cmp);
  for (uint32_t i = 1; i < c->n; i++)
    if (!memcmp(c->members[i - 1], c->members[i], LEDGER_HASH_BYTES)) {
      char h[65];
      ve_hex_encode(h, c->members[i], LEDGER_HASH_BYTES);
      return vsc_fail(err, err_len, VE_ERR_INVALID, "member %s is named twice", h);
    }
  if (c->k < gov_threshold_min(c->n) || c->k > c->n)
    return vsc_fail(err, err_len, VE_ERR_INVALID,
                "k must be a strict majority of the %u members: from %u to %u (two disjoint groups must never both "
                "decide)",
                c->n, gov_threshold_min(c->n), c->n);
  return VE_OK;
}

int gc_council_args(const char *members, const char *k, gov_council_t *c, char *err, size_t err_len) {
  memset(c, 0, sizeof *c);
  if (!members || !k) return vsc_fail(err, err_len, VE_ERR_INVALID, "--members ID,ID,... and --k K are required");
  char *end;
  unsigned long kv = strtoul(k, &end, 10);
  if (k[0] < '0' || k[0] > '9' || *end || kv > GOV_COUNCIL_MAX)
    return vsc_fail(err, err_len, VE_ERR_INVALID, "--k must be a number from 1 to %d", GOV_COUNCIL_MAX);
  c->k = (uint32_t)kv;
  for (const char *p = members; *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (c->n == GOV_COUNCIL_MAX) return vsc_fail(err, err_len, VE_ERR_INVALID, "at most %d members", GOV_COUNCIL_MAX);
    char hex[65];
    if (len != 64) return vsc_fail(err, err_len, VE_ERR_INVALID, "--members: each id is 64 hex characters");
    memcpy(hex, p, 64);
    hex[64] = 0;
    if (ve_hex_decode(c->members[c->n], LEDGER_HASH_BYTES, hex))
      return vsc_fail(err, err_len, VE_ERR_INVALID, "--members: \"%s\" is not hex", hex);
    c->n++;
    p += len + (comma ? 1 : 0);
    if (comma && !*p) return vsc_fail(err, err_len, VE_ERR_INVALID, "--members ends with a comma");
  }
  return council_check(c, err, err_len);
}

/* ---- JSON ---- */

json_t *gc_approval_to_json(const gc_approval_t *a) {
  json_t *m = json_array();
  for (uint32_t i = 0; i < a->council.n; i++) json_array_append_new(m, vsc_hex_json(a->council.members[i], 32));
  return json_pack("{s:s, s:I, s:I, s:o, s:o, s:I, s:o, s:o}", "chain_id", a->chain_id, "epoch",
                   (json_int_t)a->council.epoch, "k", (json_int_t)a->council.k, "members", m, "set_hash",
                   vsc_hex_json(a->set_hash, VCRYPTO_HASH_BYTES), "index", (json_int_t)a->index, "pk",
                   vsc_hex_json(a->pk, VCRYPTO_PK_BYTES), "sig", vsc_hex_json(a->sig, VCRYPTO_SIG_BYTES));
}

int gc_approval_from_json(const json_t *j, gc_approval_t *a, char *err, size_t err_len) {
  static const char *const keys[] = {"chain_id", "epoch", "k", "members", "set_hash", "index", "pk", "sig"};
  memset(a, 0, sizeof *a);
  if (!json_is_object(j)) return vsc_fail(err, err_len, VE_ERR_MALFORMED, "an approval is a JSON object");
  VE_TRY(vsc_keys_only(j, keys, sizeof keys / sizeof keys[0], "a council approval", err, err_len));
  const char *chain = json_string_value(json_object_get(j, "chain_id"));
  if (!chain || !*chain || strlen(chain) > VE_CHAIN_ID_BYTES_MAX)
    return vsc_fail(err, err_len, VE_ERR_MALFORMED, "\"chain_id\" must be 1 to %d characters", VE_CHAIN_ID_BYTES_MAX);
  snprintf(a->chain_id, sizeof a->chain_id, "%s", chain);
  uint64_t v;
  VE_TRY(vsc_int_field(j, "epoch", 1, INT64_MAX, &a->council.epoch, err, err_len));
  VE_TRY(vsc_int_field(j, "k", 1, GOV_COUNCIL_MAX, &v, err, err_len));
  a->council.k = (uint32_t)v;
  const json_t *m = json_object_get(j, "members");
  if (!json_is_array(m) || json_array_size(m) < 1 || json_array_size(m) > GOV_COUNCIL_MAX)
    return vsc_fail(err, err_len, VE_ERR_MALFORMED, "\"members\" must be a list of 1 to %d ids", GOV_COUNCIL_MAX);
  for (size_t i = 0; i < json_array_size(m); i++) {
    const char *h = json_string_value(json_array_get(m, i));
    if (!h || strlen(h) != 64 || ve_hex_decode(a->council.members[i], LEDGER_HASH_BYTES, h))
      return vsc_fail(err, err_len, VE_ERR_MALFORMED, "\"members\"[%zu] must be 64 hex characters", i);
  }
  a->council.n = (uint32_t)json_array_size(m);
  char why[256];
  if (council_check(&a->council, why, sizeof why)) return vsc_fail(err, err_len, VE_ERR_MALFORMED, "%s", why);
  VE_TRY(vsc_hex_field(j, "set_hash", a->set_hash, VCRYPTO_HASH_BYTES, err, err_len));
  VE_TRY(vsc_int_field(j, "index", 0, VE_VALIDATORS_MAX - 1, &v, err, err_len));
  a->index = (uint32_t)v;
  VE_TRY(vsc_hex_field(j, "pk", a->pk, VCRYPTO_PK_BYTES, err, err_len));
  return vsc_hex_field(j, "sig", a->sig, VCRYPTO_SIG_BYTES, err, err_len);
}

int gc_approval_load(const char *path, gc_approval_t *a, char *err, size_t err_len) {
  json_t *j;
  VE_TRY(node_json_load(path, GC_APPROVAL_FILE_BYTES_MAX, &j, err, err_len));
  char why[256];
  int rc = gc_approval_from_json(j, a, why, sizeof why);
  json_decref(j);
  if (rc) vsc_fail(err, err_len, rc, "%s: %s", path, why);
  return rc;
}

/* ---- checks ---- */

int gc_approval_check(const gc_approval_t *a, const char *chain_id, const gov_council_t *c, const cons_valset_t *set,
                      char *err, size_t err_len) {
  if (strcmp(a->chain_id, chain_id))
    return vsc_fail(err, err_len, VE_ERR_INVALID, "it approves a council of chain %s, not of %s", a->chain_id, chain_id);
  if (a->council.epoch != c->epoch)
    return vsc_fail(err, err_len, VE_ERR_STATE,
                "it approves council epoch %llu, and the next council is epoch %llu: the chain moved on since it was "
                "signed; sign again",
                (unsigned long long)a->council.epoch, (unsigned long long)c->epoch);
  if (a->council.k != c->k || a->council.n != c->n || memcmp(a->council.members, c->members, (size_t)c->n * 32))
    return vsc_fail(err, err_len, VE_ERR_INVALID,
                "it approves another council (%u of %u members) than --members/--k give (%u of %u): approvers and "
                "submitter must name the same members and k",
                a->council.k, a->council.n, c->k, c->n);
  uint8_t h[VCRYPTO_HASH_BYTES];
  cons_valset_hash(h, set);
  if (memcmp(h, a->set_hash, sizeof h))
    return vsc_fail(err, err_len, VE_ERR_STATE,
                "it was signed for another validator set than the one that will approve (the set changed): sign "
                "again");
  if (a->index >= set->count || memcmp(set->v[a->index].pk, a->pk, VCRYPTO_PK_BYTES))
    return vsc_fail(err, err_len, VE_ERR_NOT_FOUND, "its key is not validator %u of the approving set", a->index);
  uint8_t msg[GOV_APPROVAL_MSG_BYTES_MAX];
  size_t len = gov_council_approval_msg(msg, chain_id, c, h);
  if (vcrypto_verify(a->sig, a->pk, GOV_TAG_COUNCIL, msg, len))
    return vsc_fail(err, err_len, VE_ERR_BAD_SIG, "its signature does not verify");
  return VE_OK;
}
