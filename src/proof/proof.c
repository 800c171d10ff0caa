/* proof.c — building, serialising and verifying proof bundles (see proof.h). */
#include "proof/proof.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/valset/valset.h"
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

static void link_init(proof_link_t *l) {
  memset(l, 0, sizeof *l);
  ve_buf_init(&l->record, VALSET_RECORD_BYTES_MAX);
  ve_buf_init(&l->proof, STATE_PROOF_BYTES_MAX);
  ve_buf_init(&l->header, LEDGER_HEADER_BYTES_MAX);
  ve_buf_init(&l->cert, CONS_CERT_BYTES_MAX);
}

static void links_free(proof_bundle_t *b) {
  for (uint32_t i = 0; i < b->n_links; i++) {
    ve_buf_free(&b->links[i].record);
    ve_buf_free(&b->links[i].proof);
    ve_buf_free(&b->links[i].header);
    ve_buf_free(&b->links[i].cert);
  }
  free(b->links);
  b->links = NULL;
  b->n_links = 0;
}

/* Replaces b's links with n fresh ones (n <= PROOF_VALSET_LINKS_MAX). */
static int links_alloc(proof_bundle_t *b, size_t n) {
  links_free(b);
  if (n > PROOF_VALSET_LINKS_MAX) return VE_ERR_TOO_BIG;
  if (!n) return VE_OK;
  b->links = malloc(n * sizeof *b->links);
  if (!b->links) return VE_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) link_init(&b->links[i]);
  b->n_links = (uint32_t)n;
  return VE_OK;
}

void proof_bundle_free(proof_bundle_t *b) {
  links_free(b);
  ve_buf_free(&b->key);
  ve_buf_free(&b->value);
  ve_buf_free(&b->proof);
  ve_buf_free(&b->header);
  ve_buf_free(&b->cert);
}

/* The header (re-encoded canonically) and certificate of block height. */
static int header_cert_get(store_txn_t *t, uint64_t height, ve_buf_t *header, ve_buf_t *cert_out) {
  ve_slice_t block, cert;
  int rc = ledger_block_get(t, height, &block);
  if (rc == VE_ERR_NOT_FOUND) return VE_ERR_HEIGHT;
  VE_TRY(rc);
  ledger_block_t b;
  VE_TRY(ledger_block_decode(block, &b));
  rc = ledger_header_encode(&b.header, header);
  ledger_block_free(&b);
  VE_TRY(rc);
  VE_TRY(ledger_cert_get(t, height, &cert));
  return ve_buf_append(cert_out, cert.ptr, cert.len);
}

static size_t link_meta_key(uint8_t out[sizeof PROOF_LINK_META_PREFIX - 1 + 8], uint64_t epoch) {
  memcpy(out, PROOF_LINK_META_PREFIX, sizeof PROOF_LINK_META_PREFIX - 1);
  ve_be64_put(out + sizeof PROOF_LINK_META_PREFIX - 1, epoch);
  return sizeof PROOF_LINK_META_PREFIX - 1 + 8;
}

/* The state proof of epoch record k at version, which must show it present. */
static int record_prove(store_txn_t *t, uint64_t version, uint64_t k, ve_buf_t *proof) {
  uint8_t key[VALSET_EPOCH_KEY_BYTES];
  ve_buf_t value;
  ve_buf_init(&value, VALSET_RECORD_BYTES_MAX);
  bool present = false;
  int rc = state_prove(t, version, ve_slice(key, valset_epoch_key(key, k)), &present, &value, proof);
  ve_buf_free(&value);
  if (rc == VE_OK && !present) rc = VE_ERR_CORRUPT; /* the record is written at version */
  return rc;
}

int proof_link_keep(store_txn_t *t, uint64_t h) {
  if (h < 2) return VE_OK;
  /* An epoch can begin at h + 1 only if the latest one begins at h + 1 or, when
   * block h executed the next change, at h + 2: one small read decides it for
   * every other block, before any set is decoded. */
  valset_meta_t which;
  VE_TRY(valset_meta_get(t, &which));
  if (which.epoch == 0 || which.from_height < h + 1 || which.from_height > h + 2) return VE_OK;
  cons_valset_t set;
  VE_TRY(valset_governing(t, h + 1, &set, &which));
  if (which.epoch == 0 || which.from_height != h + 1) return VE_OK;
  ve_buf_t proof;
  ve_buf_init(&proof, STATE_PROOF_BYTES_MAX);
  int rc = record_prove(t, h - 1, which.epoch, &proof);
  uint8_t mk[sizeof PROOF_LINK_META_PREFIX - 1 + 8];
  if (rc == VE_OK) rc = store_put(t, STORE_T_META, ve_slice(mk, link_meta_key(mk, which.epoch)), ve_buf_slice(&proof));
  ve_buf_free(&proof);
  return rc;
}

/* Link k: the record as the state holds it now (epoch records never change),
 * the header and certificate of its block, and its proof: the one the node
 * kept at commit, else one made now if that version is still kept. */
static int link_build(store_txn_t *t, uint64_t k, proof_link_t *l) {
  uint8_t key[VALSET_EPOCH_KEY_BYTES];
  ve_slice_t v;
  int rc = state_get(t, ve_slice(key, valset_epoch_key(key, k)), &v);
  if (rc == VE_ERR_NOT_FOUND) return VE_ERR_CORRUPT; /* meta names epoch k */
  VE_TRY(rc);
  VE_TRY(ve_buf_append(&l->record, v.ptr, v.len));
  uint64_t from;
  cons_valset_t set;
  VE_TRY(valset_record_decode(ve_buf_slice(&l->record), &from, &set));
  if (from < 3) return VE_ERR_CORRUPT; /* a change in block >= 1 governs from >= 3 */
  l->epoch = k;
  l->height = from - 2;
  VE_TRY(header_cert_get(t, from - 1, &l->header, &l->cert));
  uint8_t mk[sizeof PROOF_LINK_META_PREFIX - 1 + 8];
  rc = store_get(t, STORE_T_META, ve_slice(mk, link_meta_key(mk, k)), &v);
  if (rc == VE_OK) return ve_buf_append(&l->proof, v.ptr, v.len);
  if (rc != VE_ERR_NOT_FOUND) return rc;
  uint64_t oldest;
  rc = state_version_oldest(t, &oldest);
  if (rc == VE_OK && l->height < oldest) return VE_ERR_PRUNED;
  if (rc != VE_OK && rc != VE_ERR_NOT_FOUND) return rc;
  return record_prove(t, l->height, k, &l->proof);
}

int proof_bundle_build(store_txn_t *t, ve_slice_t chain_id, uint64_t height, ve_slice_t key,
                       uint64_t valsets_after, proof_bundle_t *out) {
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
  VE_TRY(header_cert_get(t, height + 1, &out->header, &out->cert));
  VE_TRY(ve_buf_append(&out->key, key.ptr, key.len));
  VE_TRY(state_prove(t, height, key, &out->present, &out->value, &out->proof));
  cons_valset_t set;
  valset_meta_t which;
  VE_TRY(valset_governing(t, height + 1, &set, &which));
  /* Changes the verifier's trusted set already covers are left out; a trusted
   * epoch later than this fact's leaves none (its verifier refuses the fact). */
  uint64_t first = valsets_after < which.epoch ? valsets_after + 1 : which.epoch + 1;
  if (which.epoch + 1 - first > PROOF_VALSET_LINKS_MAX) return VE_ERR_TOO_BIG;
  VE_TRY(links_alloc(out, which.epoch + 1 - first));
  for (uint32_t i = 0; i < out->n_links; i++) VE_TRY(link_build(t, first + i, &out->links[i]));
  return VE_OK;
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
  int version = b->n_links ? PROOF_BUNDLE_VERSION_CHAIN : PROOF_BUNDLE_VERSION_PLAIN;
  json_t *j = json_pack("{s:s, s:i, s:s, s:I, s:o, s:b, s:o, s:o, s:o}", "format", PROOF_BUNDLE_FORMAT,
                        "version", version, "chain_id", b->chain_id, "height", (json_int_t)b->height, "key",
                        hexj(&b->key), "present", b->present, "proof", hexj(&b->proof), "header",
                        hexj(&b->header), "cert", hexj(&b->cert));
  if (!j) return NULL;
  json_object_set_new(j, "value", b->present ? hexj(&b->value) : json_null());
  if (!b->n_links) return j;
  json_t *arr = json_array();
  for (uint32_t i = 0; i < b->n_links; i++) {
    const proof_link_t *l = &b->links[i];
    json_array_append_new(arr, json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "epoch", (json_int_t)l->epoch, "height",
                                         (json_int_t)l->height, "record", hexj(&l->record), "proof",
                                         hexj(&l->proof), "header", hexj(&l->header), "cert", hexj(&l->cert)));
  }
  json_object_set_new(j, "valsets", arr);
  if (json_array_size(arr) == b->n_links) return j;
  json_decref(j); /* out of memory part way: no bundle rather than a short one */
  return NULL;
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

/* A non-negative JSON integer field. */
static bool uint_field(const json_t *j, const char *name, uint64_t *out) {
  json_t *v = json_object_get(j, name);
  if (!json_is_integer(v) || json_integer_value(v) < 0) return false;
  *out = (uint64_t)json_integer_value(v);
  return true;
}

static int links_from_json(const json_t *arr, proof_bundle_t *out, char *reason, size_t rl) {
  size_t n = json_array_size(arr);
  if (!json_is_array(arr) || n == 0 || n > PROOF_VALSET_LINKS_MAX) {
    say(reason, rl, "version 2 needs \"valsets\": an array of 1 to %d set changes", PROOF_VALSET_LINKS_MAX);
    return VE_ERR_MALFORMED;
  }
  if (links_alloc(out, n) != VE_OK) {
    say(reason, rl, "out of memory for %zu set changes", n);
    return VE_ERR_NOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    const json_t *o = json_array_get(arr, i);
    proof_link_t *l = &out->links[i];
    if (!json_is_object(o) || !uint_field(o, "epoch", &l->epoch) || !uint_field(o, "height", &l->height)) {
      say(reason, rl, "valsets[%zu]: epoch and height are required", i);
      return VE_ERR_MALFORMED;
    }
    VE_TRY(hex_field(o, "record", &l->record, reason, rl));
    VE_TRY(hex_field(o, "proof", &l->proof, reason, rl));
    VE_TRY(hex_field(o, "header", &l->header, reason, rl));
    VE_TRY(hex_field(o, "cert", &l->cert, reason, rl));
  }
  return VE_OK;
}

int proof_bundle_from_json(const json_t *j, proof_bundle_t *out, char *reason, size_t rl) {
  const char *fmt = json_string_value(json_object_get(j, "format"));
  if (!json_is_object(j) || !fmt || strcmp(fmt, PROOF_BUNDLE_FORMAT)) {
    say(reason, rl, "not a proof bundle (format must be \"%s\")", PROOF_BUNDLE_FORMAT);
    return VE_ERR_MALFORMED;
  }
  json_t *v = json_object_get(j, "version");
  json_int_t version = json_is_integer(v) ? json_integer_value(v) : 0;
  if (version != PROOF_BUNDLE_VERSION_PLAIN && version != PROOF_BUNDLE_VERSION_CHAIN) {
    say(reason, rl, "unknown bundle version (this release reads versions %d and %d)", PROOF_BUNDLE_VERSION_PLAIN,
        PROOF_BUNDLE_VERSION_CHAIN);
    return VE_ERR_VERSION;
  }
  const char *chain = json_string_value(json_object_get(j, "chain_id"));
  json_t *present = json_object_get(j, "present");
  if (!chain || !uint_field(j, "height", &out->height) || !json_is_boolean(present)) {
    say(reason, rl, "chain_id, height and present are required");
    return VE_ERR_MALFORMED;
  }
  /* As in a genesis: printable ASCII, so a reason quoting it stays one line. */
  size_t cl = strlen(chain);
  bool printable = cl > 0 && cl <= VE_CHAIN_ID_BYTES_MAX;
  for (size_t i = 0; printable && i < cl; i++) printable = chain[i] >= 0x20 && chain[i] <= 0x7e;
  if (!printable) {
    say(reason, rl, "chain_id must be 1 to %d printable ASCII characters", VE_CHAIN_ID_BYTES_MAX);
    return VE_ERR_MALFORMED;
  }
  snprintf(out->chain_id, sizeof out->chain_id, "%s", chain);
  out->present = json_is_true(present);
  VE_TRY(hex_field(j, "key", &out->key, reason, rl));
  VE_TRY(hex_field(j, "proof", &out->proof, reason, rl));
  VE_TRY(hex_field(j, "header", &out->header, reason, rl));
  VE_TRY(hex_field(j, "cert", &out->cert, reason, rl));
  ve_buf_reset(&out->value);
  if (out->present) VE_TRY(hex_field(j, "value", &out->value, reason, rl));
  else if (!json_is_null(json_object_get(j, "value"))) {
    say(reason, rl, "value must be null when present is false");
    return VE_ERR_MALFORMED;
  }
  json_t *links = json_object_get(j, "valsets");
  if (version == PROOF_BUNDLE_VERSION_CHAIN) return links_from_json(links, out, reason, rl);
  if (links) {
    say(reason, rl, "a version 1 bundle carries no \"valsets\"");
    return VE_ERR_MALFORMED;
  }
  links_free(out);
  return VE_OK;
}

/* Checks that header decodes strictly, belongs to chain_id at height, names
 * the set vs and is proven by cert under vs. what prefixes the reason ("" for
 * the fact, "set change k: " for a link). Out: the header (slices into
 * header's bytes) and its hash. */
static int header_certified(const char *chain_id, const cons_valset_t *vs, ve_slice_t header, ve_slice_t cert,
                            uint64_t height, const char *what, ledger_header_t *h, uint8_t hash[LEDGER_HASH_BYTES],
                            char *reason, size_t rl) {
  int rc = ledger_header_decode(header, h);
  if (rc) {
    say(reason, rl, "%sheader does not decode: %s", what, ve_strerror(rc));
    return rc;
  }
  if (!ve_slice_eq(h->chain_id, ve_slice(chain_id, strlen(chain_id)))) {
    say(reason, rl, "%sheader belongs to another chain", what);
    return VE_ERR_WRONG_CHAIN;
  }
  if (h->height != height) {
    say(reason, rl, "%sheader is for height %llu, expected %llu", what, (unsigned long long)h->height,
        (unsigned long long)height);
    return VE_ERR_HEIGHT;
  }
  uint8_t vs_hash[LEDGER_HASH_BYTES];
  cons_valset_hash(vs_hash, vs);
  if (memcmp(vs_hash, h->valset_hash, LEDGER_HASH_BYTES)) {
    say(reason, rl, "%sheader names a validator set other than the trusted one", what);
    return VE_ERR_HASH_MISMATCH;
  }
  rc = ledger_header_hash(h, hash);
  if (rc) {
    say(reason, rl, "%sheader does not hash: %s", what, ve_strerror(rc));
    return rc;
  }
  rc = cons_cert_verify(vs, chain_id, h->height, hash, cert);
  if (rc) {
    say(reason, rl, "%scommit certificate does not prove header %llu: %s", what, (unsigned long long)h->height,
        ve_strerror(rc));
    return rc;
  }
  return VE_OK;
}

/* The bundle names the trusted chain: checked first, for the clearest reason. */
static int chain_check(const proof_bundle_t *b, const char *chain_id, char *reason, size_t rl) {
  if (!strcmp(b->chain_id, chain_id)) return VE_OK;
  say(reason, rl, "bundle is for chain \"%s\", trusted chain is \"%s\"", b->chain_id, chain_id);
  return VE_ERR_WRONG_CHAIN;
}

int proof_bundle_verify_era(const proof_bundle_t *b, const char *chain_id, const cons_valset_t *vs,
                            proof_result_t *res, char *reason, size_t rl) {
  memset(res, 0, sizeof *res);
  VE_TRY(chain_check(b, chain_id, reason, rl));
  if (b->height == UINT64_MAX) {
    say(reason, rl, "height out of range");
    return VE_ERR_HEIGHT;
  }
  ledger_header_t h;
  VE_TRY(header_certified(chain_id, vs, ve_buf_slice(&b->header), ve_buf_slice(&b->cert), b->height + 1, "", &h,
                          res->block_hash, reason, rl));
  cons_cert_info_t info;
  if (cons_cert_info(ve_buf_slice(&b->cert), &info) == VE_OK) res->signatures = info.count;
  res->total_power = cons_valset_total_power(vs);
  ve_slice_t val = ve_buf_slice(&b->value);
  int rc = state_proof_verify(h.state_root, ve_buf_slice(&b->key), b->present ? &val : NULL,
                              ve_buf_slice(&b->proof));
  if (rc) {
    say(reason, rl, "state proof does not show this %s under the certified state root: %s",
        b->present ? "value" : "absence", ve_strerror(rc));
    return rc;
  }
  return VE_OK;
}

/* Link k (1-based) given the trusted set k - 1, which governs from *from:
 * on success *vs and *from are set k and its first height. */
static int link_follow(const proof_link_t *l, uint64_t k, const char *chain_id, cons_valset_t *vs, uint64_t *from,
                       char *reason, size_t rl) {
  char what[48];
  snprintf(what, sizeof what, "set change %llu: ", (unsigned long long)k);
  if (l->epoch != k) {
    say(reason, rl, "%sit is for epoch %llu; changes must follow one another from the trusted set", what,
        (unsigned long long)l->epoch);
    return VE_ERR_MALFORMED;
  }
  /* Its header must be one the trusted set governs: at or after its first
   * height (a set certifies nothing before it). */
  if (l->height == 0 || l->height == UINT64_MAX || l->height + 1 < *from) { /* executed in block >= 1 */
    say(reason, rl, "%sheader %llu is not governed by set %llu (from height %llu)", what,
        (unsigned long long)l->height + 1, (unsigned long long)k - 1, (unsigned long long)*from);
    return VE_ERR_HEIGHT;
  }
  ledger_header_t h;
  uint8_t hash[LEDGER_HASH_BYTES];
  VE_TRY(header_certified(chain_id, vs, ve_buf_slice(&l->header), ve_buf_slice(&l->cert), l->height + 1, what, &h,
                          hash, reason, rl));
  uint8_t key[VALSET_EPOCH_KEY_BYTES];
  ve_slice_t rec = ve_buf_slice(&l->record);
  int rc = state_proof_verify(h.state_root, ve_slice(key, valset_epoch_key(key, k)), &rec, ve_buf_slice(&l->proof));
  if (rc) {
    say(reason, rl, "%sstate proof does not show the epoch record under the certified state root: %s", what,
        ve_strerror(rc));
    return rc;
  }
  uint64_t next_from;
  cons_valset_t next;
  rc = valset_record_decode(rec, &next_from, &next);
  if (rc) {
    say(reason, rl, "%sthe epoch record does not decode: %s", what, ve_strerror(rc));
    return rc;
  }
  /* A record is written by the block two heights before its set governs. */
  if (next_from != l->height + 2) {
    say(reason, rl, "%sthe record says its set governs from height %llu, not %llu", what,
        (unsigned long long)next_from, (unsigned long long)l->height + 2);
    return VE_ERR_HEIGHT;
  }
  *vs = next;
  *from = next_from;
  return VE_OK;
}

int proof_bundle_verify_from(const proof_bundle_t *b, const char *chain_id, const cons_valset_t *trusted,
                             uint64_t epoch, uint64_t from, proof_result_t *res, char *reason, size_t rl) {
  memset(res, 0, sizeof *res);
  VE_TRY(chain_check(b, chain_id, reason, rl));
  cons_valset_t *vs = malloc(sizeof *vs);
  if (!vs) {
    say(reason, rl, "out of memory");
    return VE_ERR_NOMEM;
  }
  *vs = *trusted;
  uint32_t i = 0, followed = 0;
  while (i < b->n_links && b->links[i].epoch <= epoch) i++; /* what the trusted set already covers */
  int rc = VE_OK;
  for (; i < b->n_links && rc == VE_OK; i++, followed++)
    rc = link_follow(&b->links[i], epoch + followed + 1, chain_id, vs, &from, reason, rl);
  if (rc == VE_OK && b->height + 1 < from) {
    say(reason, rl, "header %llu precedes the heights the last trusted validator set governs (from %llu)",
        (unsigned long long)b->height + 1, (unsigned long long)from);
    rc = VE_ERR_HEIGHT;
  }
  if (rc == VE_OK) rc = proof_bundle_verify_era(b, chain_id, vs, res, reason, rl);
  if (rc == VE_OK) res->valset_changes = followed;
  free(vs);
  return rc;
}

int proof_bundle_verify(const proof_bundle_t *b, const char *chain_id, const cons_valset_t *genesis_set,
                        proof_result_t *res, char *reason, size_t rl) {
  return proof_bundle_verify_from(b, chain_id, genesis_set, 0, 1, res, reason, rl);
}
