/* proof.c — building, serialising and verifying proof bundles (see proof.h). */
#include "proof/proof.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "state/state.h"

void proof_bundle_init(proof_bundle_t *b) {
  memset(b, 0, sizeof *b);
  ve_buf_init(&b->key, STATE_KEY_BYTES_MAX);
  ve_buf_init(&b->value, STATE_VALUE_BYTES_MAX);
  ve_buf_init(&b->proof, STATE_PROOF_BYTES_MAX);
  ve_buf_init(&b->header, LEDGER_HEADER_BYTES_MAX);
  ve_buf_init(&b->cert, CONS_CERT_BYTES_MAX);
}

void proof_bundle_free(proof_bundle_t *b) {
  ve_buf_free(&b->key);
  ve_buf_free(&b->value);
  ve_buf_free(&b->proof);
  ve_buf_free(&b->header);
  ve_buf_free(&b->cert);
}

int proof_valset_from_genesis(const ledger_genesis_t *g, cons_valset_t *vs) {
  memset(vs, 0, sizeof *vs);
  if (g->n_validators == 0 || g->n_validators > VE_VALIDATORS_MAX) return VE_ERR_CONFIG;
  vs->count = (uint32_t)g->n_validators;
  for (size_t i = 0; i < g->n_validators; i++) {
    memcpy(vs->v[i].pk, g->validators[i].pk, VCRYPTO_PK_BYTES);
    vs->v[i].power = g->validators[i].power;
  }
  return cons_valset_check(vs) ? VE_ERR_CONFIG : VE_OK;
}

int proof_bundle_build(store_txn_t *t, ve_slice_t chain_id, uint64_t height, ve_slice_t key,
                       proof_bundle_t *out) {
  if (chain_id.len > VE_CHAIN_ID_BYTES_MAX) return VE_ERR_INVALID;
  memcpy(out->chain_id, chain_id.ptr, chain_id.len);
  out->chain_id[chain_id.len] = 0;
  out->height = height;
  /* A node that prunes (config state_keep_blocks) no longer holds the trees of
   * versions below its oldest provable one: say so, rather than "not found",
   * before reading the block. */
  uint64_t oldest;
  int rc = state_version_oldest(t, &oldest);
  if (rc == VE_OK && height < oldest) return VE_ERR_PRUNED;
  if (rc != VE_OK && rc != VE_ERR_NOT_FOUND) return rc;
  ve_slice_t block, cert;
  rc = ledger_block_get(t, height + 1, &block);
  if (rc == VE_ERR_NOT_FOUND) return VE_ERR_HEIGHT;
  VE_TRY(rc);
  ledger_block_t b;
  VE_TRY(ledger_block_decode(block, &b));
  rc = ledger_header_encode(&b.header, &out->header);
  ledger_block_free(&b);
  VE_TRY(rc);
  VE_TRY(ledger_cert_get(t, height + 1, &cert));
  VE_TRY(ve_buf_append(&out->cert, cert.ptr, cert.len));
  VE_TRY(ve_buf_append(&out->key, key.ptr, key.len));
  return state_prove(t, height, key, &out->present, &out->value, &out->proof);
}

static json_t *hexj(const ve_buf_t *b) {
  char *s = malloc(2 * b->len + 1);
  if (!s) return NULL;
  ve_hex_encode(s, b->ptr, b->len);
  json_t *j = json_string(s);
  free(s);
  return j;
}

json_t *proof_bundle_to_json(const proof_bundle_t *b) {
  json_t *j = json_pack("{s:s, s:i, s:s, s:I, s:o, s:b, s:o, s:o, s:o}", "format", PROOF_BUNDLE_FORMAT,
                        "version", PROOF_BUNDLE_VERSION, "chain_id", b->chain_id, "height",
                        (json_int_t)b->height, "key", hexj(&b->key), "present", b->present, "proof",
                        hexj(&b->proof), "header", hexj(&b->header), "cert", hexj(&b->cert));
  if (j) json_object_set_new(j, "value", b->present ? hexj(&b->value) : json_null());
  return j;
}

static void say(char *reason, size_t len, const char *fmt, ...) {
  if (!reason || !len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, len, fmt, ap);
  va_end(ap);
}

static int hex_field(const json_t *j, const char *name, ve_buf_t *out, char *reason, size_t rl) {
  const char *s = json_string_value(json_object_get(j, name));
  size_t n = s ? strlen(s) : 0;
  if (!s || n % 2) {
    say(reason, rl, "field \"%s\" must be a hex string", name);
    return VE_ERR_MALFORMED;
  }
  ve_buf_reset(out);
  if (ve_buf_reserve(out, n / 2) != VE_OK) {
    say(reason, rl, "field \"%s\" is too long", name);
    return VE_ERR_TOO_BIG;
  }
  if (ve_hex_decode(out->ptr, n / 2, s) != VE_OK) {
    say(reason, rl, "field \"%s\" is not hex", name);
    return VE_ERR_MALFORMED;
  }
  out->len = n / 2;
  return VE_OK;
}

int proof_bundle_from_json(const json_t *j, proof_bundle_t *out, char *reason, size_t rl) {
  const char *fmt = json_string_value(json_object_get(j, "format"));
  if (!json_is_object(j) || !fmt || strcmp(fmt, PROOF_BUNDLE_FORMAT)) {
    say(reason, rl, "not a proof bundle (format must be \"%s\")", PROOF_BUNDLE_FORMAT);
    return VE_ERR_MALFORMED;
  }
  json_t *v = json_object_get(j, "version");
  if (!json_is_integer(v) || json_integer_value(v) != PROOF_BUNDLE_VERSION) {
    say(reason, rl, "unknown bundle version (this release reads version %d)", PROOF_BUNDLE_VERSION);
    return VE_ERR_VERSION;
  }
  const char *chain = json_string_value(json_object_get(j, "chain_id"));
  json_t *h = json_object_get(j, "height"), *present = json_object_get(j, "present");
  if (!chain || strlen(chain) > VE_CHAIN_ID_BYTES_MAX || !json_is_integer(h) ||
      json_integer_value(h) < 0 || !json_is_boolean(present)) {
    say(reason, rl, "chain_id, height and present are required");
    return VE_ERR_MALFORMED;
  }
  snprintf(out->chain_id, sizeof out->chain_id, "%s", chain);
  out->height = (uint64_t)json_integer_value(h);
  out->present = json_is_true(present);
  VE_TRY(hex_field(j, "key", &out->key, reason, rl));
  VE_TRY(hex_field(j, "proof", &out->proof, reason, rl));
  VE_TRY(hex_field(j, "header", &out->header, reason, rl));
  VE_TRY(hex_field(j, "cert", &out->cert, reason, rl));
  if (out->present) return hex_field(j, "value", &out->value, reason, rl);
  if (!json_is_null(json_object_get(j, "value"))) {
    say(reason, rl, "value must be null when present is false");
    return VE_ERR_MALFORMED;
  }
  return VE_OK;
}

int proof_bundle_verify(const proof_bundle_t *b, const char *chain_id, const cons_valset_t *vs,
                        proof_result_t *res, char *reason, size_t rl) {
  memset(res, 0, sizeof *res);
  if (strcmp(b->chain_id, chain_id)) {
    say(reason, rl, "bundle is for chain \"%s\", trusted chain is \"%s\"", b->chain_id, chain_id);
    return VE_ERR_WRONG_CHAIN;
  }
  ledger_header_t h;
  int rc = ledger_header_decode(ve_buf_slice(&b->header), &h);
  if (rc) {
    say(reason, rl, "header does not decode: %s", ve_strerror(rc));
    return rc;
  }
  if (!ve_slice_eq(h.chain_id, ve_slice(chain_id, strlen(chain_id)))) {
    say(reason, rl, "header belongs to another chain");
    return VE_ERR_WRONG_CHAIN;
  }
  if (h.height != b->height + 1) {
    say(reason, rl, "header is for height %llu; a fact at height %llu needs header %llu",
        (unsigned long long)h.height, (unsigned long long)b->height, (unsigned long long)b->height + 1);
    return VE_ERR_HEIGHT;
  }
  uint8_t vs_hash[LEDGER_HASH_BYTES];
  cons_valset_hash(vs_hash, vs);
  if (memcmp(vs_hash, h.valset_hash, LEDGER_HASH_BYTES)) {
    say(reason, rl, "header names a validator set other than the trusted one");
    return VE_ERR_HASH_MISMATCH;
  }
  VE_TRY(ledger_header_hash(&h, res->block_hash));
  rc = cons_cert_verify(vs, chain_id, h.height, res->block_hash, ve_buf_slice(&b->cert));
  if (rc) {
    say(reason, rl, "commit certificate does not prove header %llu: %s", (unsigned long long)h.height,
        ve_strerror(rc));
    return rc;
  }
  cons_cert_info_t info;
  if (cons_cert_info(ve_buf_slice(&b->cert), &info) == VE_OK) res->signatures = info.count;
  res->total_power = cons_valset_total_power(vs);
  ve_slice_t val = ve_buf_slice(&b->value);
  rc = state_proof_verify(h.state_root, ve_buf_slice(&b->key), b->present ? &val : NULL,
                          ve_buf_slice(&b->proof));
  if (rc) {
    say(reason, rl, "state proof does not show this %s under the certified state root: %s",
        b->present ? "value" : "absence", ve_strerror(rc));
    return rc;
  }
  return VE_OK;
}
