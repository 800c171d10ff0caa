/* cmd_valset_file.c — `veche valset`'s files: validator-set files and
 * approvals, as JSON, and the checks an approval must pass before it is put
 * into a VALSET_CHANGE transaction (the same ones the ledger makes, so that a
 * stale or mismatched approval is refused here with a reason instead of
 * failing on the chain and spending a sequence number). No exits: every
 * function returns its VE_ERR code with the reason in err (cmd_valset_int.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/cmd_valset_int.h"
#include "node/config.h"

int vsc_fail(char *err, size_t err_len, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
  return rc;
}

int vsc_int_field(const json_t *j, const char *k, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
                  size_t err_len) {
  const json_t *x = json_object_get(j, k);
  if (!json_is_integer(x) || json_integer_value(x) < 0 || (uint64_t)json_integer_value(x) < lo ||
      (uint64_t)json_integer_value(x) > hi)
    return vsc_fail(err, err_len, VE_ERR_MALFORMED, "\"%s\" must be an integer from %llu to %llu", k,
                    (unsigned long long)lo, (unsigned long long)hi);
  *out = (uint64_t)json_integer_value(x);
  return VE_OK;
}

/* ---- set files ---- */

static int entry_parse(const json_t *e, size_t i, cons_validator_t *v, char *err, size_t err_len) {
  if (!json_is_object(e)) return vsc_fail(err, err_len, VE_ERR_MALFORMED, "validators[%zu] is not an object", i);
  const char *k;
  json_t *x;
  json_object_foreach((json_t *)e, k, x) {
    if (strcmp(k, "pk") && strcmp(k, "power") && strcmp(k, "name") && strcmp(k, "index"))
      return vsc_fail(err, err_len, VE_ERR_MALFORMED, "validators[%zu]: unknown key \"%.32s\" (pk, power, name, index)",
                  i, k);
  }
  const char *pk = json_string_value(json_object_get(e, "pk"));
  if (!pk || ve_hex_decode(v->pk, VCRYPTO_PK_BYTES, pk))
    return vsc_fail(err, err_len, VE_ERR_MALFORMED, "validators[%zu].pk must be 64 hex characters", i);
  if (!vcrypto_pk_valid(v->pk))
    return vsc_fail(err, err_len, VE_ERR_BAD_KEY, "validators[%zu].pk is not a valid Ed25519 public key", i);
  const json_t *p = json_object_get(e, "power");
  if (!json_is_integer(p) || json_integer_value(p) < 1 || (uint64_t)json_integer_value(p) > CONS_POWER_MAX)
    return vsc_fail(err, err_len, VE_ERR_INVALID, "validators[%zu].power must be an integer from 1 to %llu", i,
                (unsigned long long)CONS_POWER_MAX);
  v->power = (uint64_t)json_integer_value(p);
  const json_t *name = json_object_get(e, "name");
  if (name && (!json_is_string(name) || json_string_length(name) > VE_NAME_BYTES_MAX))
    return vsc_fail(err, err_len, VE_ERR_MALFORMED, "validators[%zu].name must be a string of at most %d bytes", i,
                VE_NAME_BYTES_MAX);
  const json_t *index = json_object_get(e, "index");
  if (index && (!json_is_integer(index) || json_integer_value(index) != (json_int_t)i))
    return vsc_fail(err, err_len, VE_ERR_MALFORMED,
                "validators[%zu].index must be %zu, its position (the order is part of the set)", i, i);
  return VE_OK;
}

int vsc_set_from_json(const json_t *j, cons_valset_t *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  const json_t *vals = json_is_object(j) ? json_object_get(j, "validators") : NULL;
  if (!json_is_array(vals))
    return vsc_fail(err, err_len, VE_ERR_MALFORMED,
                "want {\"validators\": [{\"pk\": \"<64 hex>\", \"power\": N, \"name\": \"optional\"}, ...]}");
  size_t n = json_array_size(vals);
  if (n == 0 || n > VE_VALIDATORS_MAX)
    return vsc_fail(err, err_len, n ? VE_ERR_TOO_BIG : VE_ERR_INVALID, "%zu validators; a set has 1 to %d", n,
                VE_VALIDATORS_MAX);
  for (size_t i = 0; i < n; i++) {
    VE_TRY(entry_parse(json_array_get(vals, i), i, &out->v[i], err, err_len));
    for (size_t k = 0; k < i; k++)
      if (!memcmp(out->v[k].pk, out->v[i].pk, VCRYPTO_PK_BYTES))
        return vsc_fail(err, err_len, VE_ERR_DUPLICATE, "validators[%zu] has the key of validators[%zu]", i, k);
  }
  out->count = (uint32_t)n;
  VE_ASSERT(cons_valset_check(out) == VE_OK); /* every rule of it was checked above */
  return VE_OK;
}

int vsc_set_load(const char *path, cons_valset_t *out, char *err, size_t err_len) {
  json_t *j;
  VE_TRY(node_json_load(path, VSC_SET_FILE_BYTES_MAX, &j, err, err_len));
  char why[256];
  int rc = vsc_set_from_json(j, out, why, sizeof why);
  json_decref(j);
  if (rc) vsc_fail(err, err_len, rc, "%s: %s", path, why);
  return rc;
}

/* ---- approvals ---- */

json_t *vsc_hex_json(const uint8_t *p, size_t n) {
  char s[2 * VCRYPTO_SIG_BYTES + 1];
  VE_ASSERT(n <= VCRYPTO_SIG_BYTES);
  ve_hex_encode(s, p, n);
  return json_string(s);
}

json_t *vsc_approval_to_json(const vsc_approval_t *a) {
  return json_pack("{s:I, s:o, s:o, s:I, s:o, s:o}", "epoch", (json_int_t)a->epoch, "current_hash",
                   vsc_hex_json(a->current_hash, VCRYPTO_HASH_BYTES), "new_hash", vsc_hex_json(a->new_hash, VCRYPTO_HASH_BYTES),
                   "index", (json_int_t)a->index, "pk", vsc_hex_json(a->pk, VCRYPTO_PK_BYTES), "sig",
                   vsc_hex_json(a->sig, VCRYPTO_SIG_BYTES));
}

int vsc_hex_field(const json_t *j, const char *k, uint8_t *out, size_t n, char *err, size_t err_len) {
  if (ve_hex_decode(out, n, json_string_value(json_object_get(j, k))))
    return vsc_fail(err, err_len, VE_ERR_MALFORMED, "\"%s\" must be %zu hex characters", k, 2 * n);
  return VE_OK;
}

int vsc_keys_only(const json_t *j, const char *const *keys, size_t n_keys, const char *what, char *err,
                  size_t err_len) {
  const char *k;
  json_t *x;
  json_object_foreach((json_t *)j, k, x) {
    size_t i = 0;
    while (i < n_keys && strcmp(k, keys[i])) i++;
    if (i == n_keys) return vsc_fail(err, err_len, VE_ERR_MALFORMED, "unknown key \"%.32s\" in %s", k, what);
  }
  return VE_OK;
}

int vsc_approval_from_json(const json_t *j, vsc_approval_t *a, char *err, size_t err_len) {
  static const char *const keys[] = {"epoch", "current_hash", "new_hash", "index", "pk", "sig"};
  memset(a, 0, sizeof *a);
  if (!json_is_object(j)) return vsc_fail(err, err_len, VE_ERR_MALFORMED, "an approval is a JSON object");
  VE_TRY(vsc_keys_only(j, keys, sizeof keys / sizeof keys[0], "an approval", err, err_len));
  const json_t *e = json_object_get(j, "epoch"), *i = json_object_get(j, "index");
  if (!json_is_integer(e) || json_integer_value(e) < 1)
    return vsc_fail(err, err_len, VE_ERR_MALFORMED, "\"epoch\" must be an integer ≥ 1");
  if (!json_is_integer(i) || json_integer_value(i) < 0 || json_integer_value(i) >= VE_VALIDATORS_MAX)
    return vsc_fail(err, err_len, VE_ERR_MALFORMED, "\"index\" must be an integer from 0 to %d", VE_VALIDATORS_MAX - 1);
  a->epoch = (uint64_t)json_integer_value(e);
  a->index = (uint32_t)json_integer_value(i);
  VE_TRY(vsc_hex_field(j, "current_hash", a->current_hash, VCRYPTO_HASH_BYTES, err, err_len));
  VE_TRY(vsc_hex_field(j, "new_hash", a->new_hash, VCRYPTO_HASH_BYTES, err, err_len));
  VE_TRY(vsc_hex_field(j, "pk", a->pk, VCRYPTO_PK_BYTES, err, err_len));
  return vsc_hex_field(j, "sig", a->sig, VCRYPTO_SIG_BYTES, err, err_len);
}

int vsc_approval_load(const char *path, vsc_approval_t *a, char *err, size_t err_len) {
  json_t *j;
  VE_TRY(node_json_load(path, VSC_APPROVAL_FILE_BYTES_MAX, &j, err, err_len));
  char why[256];
  int rc = vsc_approval_from_json(j, a, why, sizeof why);
  json_decref(j);
  if (rc) vsc_fail(err, err_len, rc, "%s: %s", path, why);
  return rc;
}

int vsc_approval_make(vsc_approval_t *a, const vcrypto_keypair_t *kp, const char *chain_id, uint64_t cur_epoch,
                      const cons_valset_t *cur, const cons_valset_t *next, char *err, size_t err_len) {
  memset(a, 0, sizeof *a);
  int index = cons_valset_find(cur, kp->pk);
  if (index < 0) {
    char hex[2 * VCRYPTO_PK_BYTES + 1];
    ve_hex_encode(hex, kp->pk, VCRYPTO_PK_BYTES);
    return vsc_fail(err, err_len, VE_ERR_NOT_FOUND,
                "key %s is not in the current validator set (epoch %llu, %u validators): only its validators "
                "approve a change",
                hex, (unsigned long long)cur_epoch, cur->count);
  }
  a->epoch = cur_epoch + 1;
  a->index = (uint32_t)index;
  memcpy(a->pk, kp->pk, VCRYPTO_PK_BYTES);
  cons_valset_hash(a->current_hash, cur);
  cons_valset_hash(a->new_hash, next);
  valset_approval_sign(a->sig, kp, chain_id, a->epoch, cur, next);
  return VE_OK;
}

int vsc_approval_check(const vsc_approval_t *a, const char *chain_id, uint64_t cur_epoch, const cons_valset_t *cur,
                       const cons_valset_t *next, char *err, size_t err_len) {
  uint8_t cur_hash[VCRYPTO_HASH_BYTES], new_hash[VCRYPTO_HASH_BYTES];
  char want[2 * VCRYPTO_HASH_BYTES + 1], got[2 * VCRYPTO_HASH_BYTES + 1];
  cons_valset_hash(cur_hash, cur);
  cons_valset_hash(new_hash, next);
  if (a->epoch != cur_epoch + 1)
    return vsc_fail(err, err_len, VE_ERR_STATE, "approves the change to epoch %llu, but the next change makes epoch %llu: %s",
                (unsigned long long)a->epoch, (unsigned long long)(cur_epoch + 1),
                a->epoch <= cur_epoch ? "the set has changed since it was signed; ask for a new approval"
                                      : "it was made against a later set (a node further ahead, or a wrong --epoch)");
  if (memcmp(a->current_hash, cur_hash, sizeof cur_hash)) {
    ve_hex_encode(got, a->current_hash, VCRYPTO_HASH_BYTES);
    ve_hex_encode(want, cur_hash, VCRYPTO_HASH_BYTES);
    return vsc_fail(err, err_len, VE_ERR_STATE,
                "approves a change of the set %s, but the current set is %s; ask for a new approval", got, want);
  }
  if (memcmp(a->new_hash, new_hash, sizeof new_hash)) {
    ve_hex_encode(got, a->new_hash, VCRYPTO_HASH_BYTES);
    ve_hex_encode(want, new_hash, VCRYPTO_HASH_BYTES);
    return vsc_fail(err, err_len, VE_ERR_HASH_MISMATCH,
                "approves the new set %s, not this one (%s): approver and submitter must use the same set file",
                got, want);
  }
  if (a->index >= cur->count || memcmp(cur->v[a->index].pk, a->pk, VCRYPTO_PK_BYTES))
    return vsc_fail(err, err_len, VE_ERR_NOT_FOUND, "its key is not validator %u of the current set", a->index);
  uint8_t msg[VALSET_APPROVAL_MSG_BYTES_MAX];
  size_t len = valset_approval_msg(msg, chain_id, a->epoch, cur_hash, new_hash);
  if (vcrypto_verify(a->sig, a->pk, VALSET_TAG_APPROVAL, msg, len))
    return vsc_fail(err, err_len, VE_ERR_BAD_SIG,
                "its signature does not verify for chain \"%s\" (signed for another chain, or altered)", chain_id);
  return VE_OK;
}

/* ---- the change ---- */

int vsc_change_fill(valset_change_t *c, const vsc_approval_t *approvals, size_t n, char *err, size_t err_len) {
  if (n == 0 || n > VE_VALIDATORS_MAX)
    return vsc_fail(err, err_len, VE_ERR_INVALID, "%zu approvals; a change takes 1 to %d", n, VE_VALIDATORS_MAX);
  /* Insertion sort by index: at most VE_VALIDATORS_MAX entries. */
  for (size_t i = 0; i < n; i++) {
    size_t k = i;
    for (; k > 0 && c->approvals[k - 1].index > approvals[i].index; k--) c->approvals[k] = c->approvals[k - 1];
    c->approvals[k].index = approvals[i].index;
    memcpy(c->approvals[k].sig, approvals[i].sig, VCRYPTO_SIG_BYTES);
  }
  for (size_t i = 1; i < n; i++)
    if (c->approvals[i].index == c->approvals[i - 1].index)
      return vsc_fail(err, err_len, VE_ERR_DUPLICATE, "two approvals of validator %u", c->approvals[i].index);
  c->n_approvals = (uint32_t)n;
  return VE_OK;
}

uint64_t vsc_change_power(const valset_change_t *c, const cons_valset_t *cur) {
  uint64_t p = 0;
  for (uint32_t i = 0; i < c->n_approvals; i++) {
    VE_ASSERT(c->approvals[i].index < cur->count);
    p += cur->v[c->approvals[i].index].power;
  }
  return p;
}

