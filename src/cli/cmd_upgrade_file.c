/* cmd_upgrade_file.c — `veche upgrade`'s files: approvals of a protocol
 * upgrade, as JSON, and the checks an approval must pass before it is put
 * into a PROTOCOL_UPGRADE transaction (the ones the ledger makes, so that a
 * stale or mismatched approval is refused here with a reason instead of
 * failing on the chain and spending a sequence number). No exits: every
 * function returns its VE_ERR code with the reason in err (cmd_upgrade_int.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cmd_upgrade_int.h"
#include "cli/cmd_valset_int.h"
#include "node/config.h"

int upc_decision_args_check(uint64_t protocol, uint64_t from_height, char *err, size_t err_len) {
  if (protocol < 1 || protocol > UPGRADE_PROTOCOL_MAX)
    return vsc_fail(err, err_len, VE_ERR_INVALID, "--protocol must be from 1 to %llu",
                (unsigned long long)UPGRADE_PROTOCOL_MAX);
  if (from_height < 1 || from_height > UPGRADE_HEIGHT_MAX)
    return vsc_fail(err, err_len, VE_ERR_INVALID, "--from-height must be from 1 to %llu",
                (unsigned long long)UPGRADE_HEIGHT_MAX);
  return VE_OK;
}

/* ---- JSON ---- */

json_t *upc_approval_to_json(const upc_approval_t *a) {
  return json_pack("{s:I, s:I, s:I, s:o, s:I, s:o, s:o}", "decision", (json_int_t)a->decision, "protocol",
                   (json_int_t)a->protocol, "from_height", (json_int_t)a->from_height, "set_hash",
                   vsc_hex_json(a->set_hash, VCRYPTO_HASH_BYTES), "index", (json_int_t)a->index, "pk",
                   vsc_hex_json(a->pk, VCRYPTO_PK_BYTES), "sig", vsc_hex_json(a->sig, VCRYPTO_SIG_BYTES));
}

int upc_approval_from_json(const json_t *j, upc_approval_t *a, char *err, size_t err_len) {
  static const char *const keys[] = {"decision", "protocol", "from_height", "set_hash", "index", "pk", "sig"};
  memset(a, 0, sizeof *a);
  if (!json_is_object(j)) return vsc_fail(err, err_len, VE_ERR_MALFORMED, "an approval is a JSON object");
  VE_TRY(vsc_keys_only(j, keys, sizeof keys / sizeof keys[0], "an upgrade approval", err, err_len));
  uint64_t index;
  VE_TRY(vsc_int_field(j, "decision", 1, INT64_MAX, &a->decision, err, err_len));
  VE_TRY(vsc_int_field(j, "protocol", 1, UPGRADE_PROTOCOL_MAX, &a->protocol, err, err_len));
  VE_TRY(vsc_int_field(j, "from_height", 1, UPGRADE_HEIGHT_MAX, &a->from_height, err, err_len));
  VE_TRY(vsc_hex_field(j, "set_hash", a->set_hash, VCRYPTO_HASH_BYTES, err, err_len));
  VE_TRY(vsc_int_field(j, "index", 0, VE_VALIDATORS_MAX - 1, &index, err, err_len));
  a->index = (uint32_t)index;
  VE_TRY(vsc_hex_field(j, "pk", a->pk, VCRYPTO_PK_BYTES, err, err_len));
  return vsc_hex_field(j, "sig", a->sig, VCRYPTO_SIG_BYTES, err, err_len);
}

int upc_approval_load(const char *path, upc_approval_t *a, char *err, size_t err_len) {
  json_t *j;
  VE_TRY(node_json_load(path, UPC_APPROVAL_FILE_BYTES_MAX, &j, err, err_len));
  char why[256];
  int rc = upc_approval_from_json(j, a, why, sizeof why);
  json_decref(j);
  if (rc) vsc_fail(err, err_len, rc, "%s: %s", path, why);
  return rc;
}

/* ---- making and checking ---- */

int upc_approval_make(upc_approval_t *a, const vcrypto_keypair_t *kp, const char *chain_id, uint64_t decision,
                      uint64_t protocol, uint64_t from_height, const cons_valset_t *set, char *err, size_t err_len) {
  memset(a, 0, sizeof *a);
  VE_TRY(upc_decision_args_check(protocol, from_height, err, err_len));
  if (decision < 1 || decision > INT64_MAX)
    return vsc_fail(err, err_len, VE_ERR_INVALID, "--decision must be from 1 to %lld", (long long)INT64_MAX);
  int index = cons_valset_find(set, kp->pk);
  if (index < 0) {
    char hex[2 * VCRYPTO_PK_BYTES + 1];
    ve_hex_encode(hex, kp->pk, VCRYPTO_PK_BYTES);
    return vsc_fail(err, err_len, VE_ERR_NOT_FOUND,
                "key %s is not a validator of the approving set (%u validators): only its validators approve an "
                "upgrade",
                hex, set->count);
  }
  a->decision = decision;
  a->protocol = protocol;
  a->from_height = from_height;
  a->index = (uint32_t)index;
  memcpy(a->pk, kp->pk, VCRYPTO_PK_BYTES);
  cons_valset_hash(a->set_hash, set);
  upgrade_approval_sign(a->sig, kp, chain_id, decision, protocol, from_height, set);
  return VE_OK;
}

/* The first differences are about which decision it is; then, whether it
 * comes from this set's validator; the signature last, since a mismatch
 * above also breaks it but says less. */
int upc_approval_check(const upc_approval_t *a, const char *chain_id, uint64_t decision, uint64_t protocol,
                       uint64_t from_height, const cons_valset_t *set, char *err, size_t err_len) {
  if (a->decision != decision)
    return vsc_fail(err, err_len, VE_ERR_STATE, "approves decision %llu, but the next decision is number %llu: %s",
                (unsigned long long)a->decision, (unsigned long long)decision,
                a->decision < decision ? "another upgrade was decided since it was signed; ask for a new approval"
                                       : "it was made against a later chain (a node further ahead, or a wrong "
                                         "--decision)");
  if (a->protocol != protocol)
    return vsc_fail(err, err_len, VE_ERR_INVALID,
                "approves protocol %llu, not %llu: approvers and submitter must give the same --protocol",
                (unsigned long long)a->protocol, (unsigned long long)protocol);
  if (a->from_height != from_height)
    return vsc_fail(err, err_len, VE_ERR_INVALID,
                "approves the upgrade from height %llu, not %llu: approvers and submitter must give the same "
                "--from-height",
                (unsigned long long)a->from_height, (unsigned long long)from_height);
  uint8_t hash[VCRYPTO_HASH_BYTES];
  cons_valset_hash(hash, set);
  if (memcmp(a->set_hash, hash, sizeof hash)) {
    char want[2 * VCRYPTO_HASH_BYTES + 1], got[2 * VCRYPTO_HASH_BYTES + 1];
    ve_hex_encode(got, a->set_hash, VCRYPTO_HASH_BYTES);
    ve_hex_encode(want, hash, VCRYPTO_HASH_BYTES);
    return vsc_fail(err, err_len, VE_ERR_STATE,
                "was made with the validator set %s, but the approving set is now %s (the set changed); ask for a "
                "new approval",
                got, want);
  }
  if (a->index >= set->count || memcmp(set->v[a->index].pk, a->pk, VCRYPTO_PK_BYTES))
    return vsc_fail(err, err_len, VE_ERR_NOT_FOUND, "its key is not validator %u of the approving set", a->index);
  uint8_t msg[UPGRADE_APPROVAL_MSG_BYTES_MAX];
  size_t len = upgrade_approval_msg(msg, chain_id, decision, protocol, from_height, hash);
  if (vcrypto_verify(a->sig, a->pk, UPGRADE_TAG_APPROVAL, msg, len))
    return vsc_fail(err, err_len, VE_ERR_BAD_SIG,
                "its signature does not verify for chain \"%s\" (signed for another chain, or altered)", chain_id);
  return VE_OK;
}

/* ---- the decision ---- */

static int by_index(const void *x, const void *y) {
  uint32_t a = ((const valset_approval_t *)x)->index, b = ((const valset_approval_t *)y)->index;
  return (a > b) - (a < b);
}

int upc_decision_fill(upgrade_decision_t *d, const upc_approval_t *approvals, size_t n, char *err, size_t err_len) {
  if (n == 0 || n > VE_VALIDATORS_MAX)
    return vsc_fail(err, err_len, VE_ERR_INVALID, "%zu approvals; a decision takes 1 to %d", n, VE_VALIDATORS_MAX);
  for (size_t i = 0; i < n; i++) {
    d->approvals[i].index = approvals[i].index;
    memcpy(d->approvals[i].sig, approvals[i].sig, VCRYPTO_SIG_BYTES);
  }
  qsort(d->approvals, n, sizeof d->approvals[0], by_index);
  for (size_t i = 1; i < n; i++)
    if (d->approvals[i].index == d->approvals[i - 1].index)
      return vsc_fail(err, err_len, VE_ERR_DUPLICATE, "two approvals of validator %u", d->approvals[i].index);
  d->n_approvals = (uint32_t)n;
  return VE_OK;
}

uint64_t upc_decision_power(const upgrade_decision_t *d, const cons_valset_t *set) {
  uint64_t p = 0;
  for (uint32_t i = 0; i < d->n_approvals; i++) {
    VE_ASSERT(d->approvals[i].index < set->count);
    p += set->v[d->approvals[i].index].power;
  }
  return p;
}
