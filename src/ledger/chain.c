/* chain.c — the chain as stored: genesis, tip, block validation and commit.
 *
 * One block is committed in one store write transaction that holds the block
 * bytes, its certificate, the hash index, every state change, the tx index and
 * the new tip; a crash leaves the previous tip or the new one, never a mix.
 *
 * Store layout (docs/store.md):
 *   META  "genesis" -> encoded genesis; "tip" -> encoded ledger_tip_t
 *   BLOCKS be64(h) -> block bytes;  CERTS be64(h) -> certificate bytes
 *   BLOCK_HASH hash -> be64(h);     TX_INDEX txid -> uvarint h | uvarint i | uvarint -code
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "ledger/ledger.h"
#include "ledger/ledger_int.h"
#include "state/state.h"

#define META_GENESIS "genesis"
#define META_TIP "tip"
#define TAG_RESULT "veche/tx/result"

static vcrypto_tag_t g_result_tag = VCRYPTO_TAG_INIT(TAG_RESULT); /* one hash per tx */

static ve_slice_t cstr(const char *s) { return ve_slice(s, strlen(s)); }

static int tip_encode(const ledger_tip_t *tip, ve_buf_t *out) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, 1);
  codec_put_uvarint(&w, tip->height);
  codec_put_fixed(&w, tip->last_hash, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, tip->last_time_ms);
  codec_put_fixed(&w, tip->state_root, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, tip->results_root, LEDGER_HASH_BYTES);
  return codec_writer_finish(&w);
}

int ledger_tip_get(store_txn_t *t, ledger_tip_t *tip) {
  ve_slice_t v;
  VE_TRY(store_get(t, STORE_T_META, cstr(META_TIP), &v));
  codec_reader_t r;
  codec_reader_init(&r, v);
  if (codec_get_u8(&r) != 1) codec_fail(&r, VE_ERR_VERSION);
  tip->height = codec_get_uvarint(&r);
  codec_get_fixed(&r, tip->last_hash, LEDGER_HASH_BYTES);
  tip->last_time_ms = codec_get_uvarint(&r);
  codec_get_fixed(&r, tip->state_root, LEDGER_HASH_BYTES);
  codec_get_fixed(&r, tip->results_root, LEDGER_HASH_BYTES);
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

static int tip_put(store_txn_t *t, const ledger_tip_t *tip) {
  uint8_t mem[128];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(tip_encode(tip, &b));
  return store_put(t, STORE_T_META, cstr(META_TIP), ve_slice(b.ptr, b.len));
}

int ledger_genesis_get(store_txn_t *t, ledger_genesis_t *g) {
  ve_slice_t v;
  VE_TRY(store_get(t, STORE_T_META, cstr(META_GENESIS), &v));
  return ledger_genesis_decode(v, g) ? VE_ERR_CORRUPT : VE_OK;
}

int ledger_genesis_apply(const ledger_registry_t *reg, store_txn_t *t, const ledger_genesis_t *g,
                         uint8_t state_root_out[LEDGER_HASH_BYTES]) {
  ledger_exec_t *ex;
  VE_TRY(ledger_exec_begin(&ex, reg, t, cstr(g->chain_id), 0, g->time_ms));
  int rc = VE_OK;
  for (size_t i = 0; rc == VE_OK && i < reg->n_apps; i++)
    if (reg->apps[i]->genesis) rc = reg->apps[i]->genesis(ex, g);
  if (rc == VE_OK) rc = ledger_exec_finish(ex, state_root_out);
  ledger_exec_free(ex);
  return rc;
}

int ledger_init_store(store_txn_t *t, const ledger_registry_t *reg, const ledger_genesis_t *g) {
  VE_TRY(ledger_genesis_check(g));
  ve_buf_t enc;
  ve_buf_init(&enc, 0);
  int rc = ledger_genesis_encode(g, &enc);
  ve_slice_t old;
  if (rc == VE_OK && store_get(t, STORE_T_META, cstr(META_GENESIS), &old) == VE_OK)
    rc = ve_slice_eq(old, ve_buf_slice(&enc)) ? VE_ERR_EXISTS : VE_ERR_CONFIG;
  ledger_tip_t tip;
  memset(&tip, 0, sizeof tip);
  if (rc == VE_OK) rc = store_put(t, STORE_T_META, cstr(META_GENESIS), ve_buf_slice(&enc));
  if (rc == VE_OK) rc = ledger_genesis_apply(reg, t, g, tip.state_root);
  if (rc == VE_OK) {
    vcrypto_hash(tip.last_hash, LEDGER_TAG_GENESIS, enc.ptr, enc.len);
    tip.last_time_ms = g->time_ms;
    ledger_merkle_root(NULL, 0, tip.results_root);
    rc = tip_put(t, &tip);
  }
  ve_buf_free(&enc);
  return rc;
}

void ledger_header_next(const ledger_tip_t *tip, ve_slice_t chain_id, uint64_t time_ms,
                        const uint8_t valset_hash[LEDGER_HASH_BYTES],
                        const uint8_t proposer[VCRYPTO_PK_BYTES], ledger_header_t *h) {
  memset(h, 0, sizeof *h);
  h->version = LEDGER_BLOCK_VERSION;
  h->chain_id = chain_id;
  h->height = tip->height + 1;
  /* Block times strictly increase even if the proposer's clock is behind. */
  h->time_ms = time_ms > tip->last_time_ms ? time_ms : tip->last_time_ms + 1;
  memcpy(h->prev_hash, tip->last_hash, LEDGER_HASH_BYTES);
  memcpy(h->state_root, tip->state_root, LEDGER_HASH_BYTES);
  memcpy(h->results_root, tip->results_root, LEDGER_HASH_BYTES);
  memcpy(h->valset_hash, valset_hash, LEDGER_HASH_BYTES);
  memcpy(h->proposer, proposer, VCRYPTO_PK_BYTES);
}

/* The chain id lives in the stored genesis; decoding the first fields is enough. */
static int chain_id_get(store_txn_t *t, uint8_t out[VE_CHAIN_ID_BYTES_MAX], size_t *len) {
  ve_slice_t v;
  VE_TRY(store_get(t, STORE_T_META, cstr(META_GENESIS), &v));
  codec_reader_t r;
  codec_reader_init(&r, v);
  codec_get_u8(&r);
  ve_slice_t id = codec_get_bytes(&r, VE_CHAIN_ID_BYTES_MAX);
  if (r.err) return VE_ERR_CORRUPT;
  memcpy(out, id.ptr, id.len);
  *len = id.len;
  return VE_OK;
}

static int header_check(store_txn_t *t, const ledger_header_t *h,
                        const uint8_t valset_hash[LEDGER_HASH_BYTES], ve_slice_t chain) {
  ledger_tip_t tip;
  VE_TRY(ledger_tip_get(t, &tip));
  if (!ve_slice_eq(h->chain_id, chain)) return VE_ERR_WRONG_CHAIN;
  if (h->height != tip.height + 1) return VE_ERR_HEIGHT;
  if (memcmp(h->prev_hash, tip.last_hash, LEDGER_HASH_BYTES) != 0) return VE_ERR_HASH_MISMATCH;
  if (h->time_ms <= tip.last_time_ms) return VE_ERR_BAD_TIME;
  if (memcmp(h->state_root, tip.state_root, LEDGER_HASH_BYTES) != 0) return VE_ERR_HASH_MISMATCH;
  if (memcmp(h->results_root, tip.results_root, LEDGER_HASH_BYTES) != 0) return VE_ERR_HASH_MISMATCH;
  if (valset_hash && memcmp(h->valset_hash, valset_hash, LEDGER_HASH_BYTES) != 0)
    return VE_ERR_HASH_MISMATCH;
  return VE_OK;
}

static int id_cmp(const void *a, const void *b) { return memcmp(a, b, LEDGER_HASH_BYTES); }

/* A block may not carry a transaction twice, nor one already committed: each tx
 * has exactly one place in the chain, and its index entry is never rewritten. */
static int ids_fresh(store_txn_t *t, const ledger_block_t *b) {
  if (b->tx_count == 0) return VE_OK;
  uint8_t(*ids)[LEDGER_HASH_BYTES] = malloc(b->tx_count * LEDGER_HASH_BYTES);
  if (!ids) return VE_ERR_NOMEM;
  int rc = VE_OK;
  memcpy(ids, b->ids, b->tx_count * LEDGER_HASH_BYTES); /* sorted below: a copy */
  qsort(ids, b->tx_count, LEDGER_HASH_BYTES, id_cmp);
  for (size_t i = 0; rc == VE_OK && i < b->tx_count; i++) {
    if (i > 0 && memcmp(ids[i - 1], ids[i], LEDGER_HASH_BYTES) == 0) rc = VE_ERR_DUPLICATE;
    ve_slice_t v;
    int g = rc ? VE_OK : store_get(t, STORE_T_TX_INDEX, ve_slice(ids[i], LEDGER_HASH_BYTES), &v);
    if (g == VE_OK && rc == VE_OK) rc = VE_ERR_DUPLICATE;
    else if (g != VE_ERR_NOT_FOUND && g != VE_OK) rc = g;
  }
  free(ids);
  return rc;
}

/* The stateless verdict on one transaction (decoding, chain, signature), the
 * signature skipped when sig_checked vouches for it. tx receives the decoding. */
static int tx_check(ve_slice_t chain, ve_slice_t bytes, const uint8_t id[LEDGER_HASH_BYTES],
                    ledger_sig_cache_fn sig_checked, void *sig_ctx, ledger_tx_t *tx) {
  VE_TRY(ledger_tx_decode(bytes, tx));
  if (!ve_slice_eq(tx->chain_id, chain)) return VE_ERR_WRONG_CHAIN;
  if (sig_checked && id && sig_checked(sig_ctx, id)) return VE_OK;
  return ledger_tx_verify_sig_encoded(bytes, tx);
}

int ledger_tx_precheck(const ledger_registry_t *reg, ve_slice_t chain_id, ve_slice_t bytes) {
  ledger_tx_t tx;
  VE_TRY(tx_check(chain_id, bytes, NULL, NULL, NULL, &tx));
  const ledger_app_t *app = reg ? ledger_app_for(reg, tx.type) : NULL;
  if (app && app->precheck) app->precheck(&tx);
  return VE_OK;
}

int ledger_block_validate_prechecked(store_txn_t *t, const ledger_block_t *b,
                                     const uint8_t valset_hash[LEDGER_HASH_BYTES],
                                     const int32_t *prechecked, ledger_sig_cache_fn sig_checked,
                                     void *sig_ctx) {
  uint8_t chain[VE_CHAIN_ID_BYTES_MAX];
  size_t chain_len;
  VE_TRY(chain_id_get(t, chain, &chain_len));
  int rc = header_check(t, &b->header, valset_hash, ve_slice(chain, chain_len));
  if (rc == VE_OK) rc = ids_fresh(t, b);
  for (size_t i = 0; rc == VE_OK && i < b->tx_count; i++) {
    if (prechecked && prechecked[i] != LEDGER_PRECHECK_NONE) {
      VE_ASSERT(prechecked[i] <= 0); /* a verdict of ledger_tx_precheck */
      rc = prechecked[i];
      continue;
    }
    ledger_tx_t tx;
    rc = tx_check(ve_slice(chain, chain_len), b->txs[i], b->ids[i], sig_checked, sig_ctx, &tx);
  }
  return rc;
}

int ledger_block_validate_decoded(store_txn_t *t, const ledger_block_t *b,
                                  const uint8_t valset_hash[LEDGER_HASH_BYTES],
                                  ledger_sig_cache_fn sig_checked, void *sig_ctx) {
  return ledger_block_validate_prechecked(t, b, valset_hash, NULL, sig_checked, sig_ctx);
}

int ledger_block_validate(store_txn_t *t, ve_slice_t block_bytes,
                          const uint8_t valset_hash[LEDGER_HASH_BYTES],
                          ledger_sig_cache_fn sig_checked, void *sig_ctx) {
  ledger_block_t b;
  VE_TRY(ledger_block_decode(block_bytes, &b));
  int rc = ledger_block_validate_decoded(t, &b, valset_hash, sig_checked, sig_ctx);
  ledger_block_free(&b);
  return rc;
}

static int tx_index_put(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], uint64_t height,
                        uint32_t index, int32_t code) {
  uint8_t mem[3 * CODEC_UVARINT_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  codec_writer_t w;
  codec_writer_init(&w, &b);
  codec_put_uvarint(&w, height);
  codec_put_uvarint(&w, index);
  codec_put_uvarint(&w, (uint64_t)(-(int64_t)code));
  VE_TRY(codec_writer_finish(&w));
  return store_put(t, STORE_T_TX_INDEX, ve_slice(id, LEDGER_HASH_BYTES), ve_slice(mem, b.len));
}

int ledger_tx_result_get(store_txn_t *t, const uint8_t txid[LEDGER_HASH_BYTES],
                         ledger_tx_result_t *out) {
  ve_slice_t v;
  VE_TRY(store_get(t, STORE_T_TX_INDEX, ve_slice(txid, LEDGER_HASH_BYTES), &v));
  codec_reader_t r;
  codec_reader_init(&r, v);
  out->height = codec_get_uvarint(&r);
  out->index = (uint32_t)codec_get_uvarint_max(&r, VE_BLOCK_TXS_MAX);
  out->code = -(int32_t)codec_get_uvarint_max(&r, (uint64_t)-VE_ERR_MIN);
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

/* Executes every transaction; fills ids/results leaves for the results root. */
static int execute_block(store_txn_t *t, const ledger_registry_t *reg, const ledger_block_t *b,
                         const uint8_t prev_hash[LEDGER_HASH_BYTES],
                         const uint8_t hash[LEDGER_HASH_BYTES], int32_t *results,
                         uint8_t (*leaves)[LEDGER_HASH_BYTES], uint8_t state_root[LEDGER_HASH_BYTES]) {
  ledger_exec_t *ex;
  VE_TRY(ledger_exec_begin(&ex, reg, t, b->header.chain_id, b->header.height, b->header.time_ms));
  ledger_exec_remember_reads(ex);
  /* The block hash names this history only if the block sits on the tip its
   * header names (validation guarantees it; otherwise commit uncached). */
  if (memcmp(b->header.prev_hash, prev_hash, LEDGER_HASH_BYTES) == 0)
    ledger_exec_set_history(ex, prev_hash, hash);
  int rc = VE_OK;
  for (size_t i = 0; rc == VE_OK && i < b->tx_count; i++) {
    ledger_tx_t tx;
    int code = ledger_tx_decode(b->txs[i], &tx);
    if (code == VE_OK) code = ledger_exec_tx(ex, &tx);
    /* Out of memory or a storage failure is not a property of the tx: stop, so
     * that the block is retried instead of recorded with a wrong result. */
    if (code == VE_ERR_NOMEM || code == VE_ERR_STORE || code == VE_ERR_CORRUPT) {
      rc = code;
      break;
    }
    if (results) results[i] = code;
    const uint8_t *id = b->ids[i];
    uint8_t rec[LEDGER_HASH_BYTES + 4];
    memcpy(rec, id, LEDGER_HASH_BYTES);
    uint32_t c = (uint32_t)-code;
    rec[32] = (uint8_t)(c >> 24), rec[33] = (uint8_t)(c >> 16), rec[34] = (uint8_t)(c >> 8),
    rec[35] = (uint8_t)c;
    vcrypto_hash_tag(leaves[i], &g_result_tag, rec, sizeof rec);
    /* Validation refuses blocks that repeat a tx; should one get here anyway,
     * the first (committed) entry of the index is kept. */
    ledger_tx_result_t prev;
    int g = ledger_tx_result_get(t, id, &prev);
    if (g == VE_ERR_NOT_FOUND) rc = tx_index_put(t, id, b->header.height, (uint32_t)i, code);
    else if (g != VE_OK) rc = g;
  }
  if (rc == VE_OK) rc = ledger_exec_finish(ex, state_root);
  ledger_exec_free(ex);
  return rc;
}

int ledger_block_commit_decoded(store_txn_t *t, const ledger_registry_t *reg,
                                const ledger_block_t *b, ve_slice_t block_bytes, ve_slice_t cert,
                                int32_t *results) {
  ledger_tip_t tip;
  int rc = ledger_tip_get(t, &tip);
  if (rc == VE_OK && b->header.height != tip.height + 1) rc = VE_ERR_HEIGHT;
  uint8_t(*leaves)[LEDGER_HASH_BYTES] = NULL;
  if (rc == VE_OK && b->tx_count) {
    leaves = malloc(b->tx_count * LEDGER_HASH_BYTES);
    if (!leaves) rc = VE_ERR_NOMEM;
  }
  ledger_tip_t next = tip;
  if (rc == VE_OK) rc = ledger_header_hash(&b->header, next.last_hash);
  if (rc == VE_OK)
    rc = execute_block(t, reg, b, tip.last_hash, next.last_hash, results, leaves, next.state_root);
  if (rc == VE_OK) {
    uint8_t hkey[8];
    ve_be64_put(hkey, b->header.height);
    next.height = b->header.height;
    next.last_time_ms = b->header.time_ms;
    ledger_merkle_root((const uint8_t(*)[LEDGER_HASH_BYTES])leaves, b->tx_count, next.results_root);
    rc = store_put(t, STORE_T_BLOCKS, ve_slice(hkey, 8), block_bytes);
    if (rc == VE_OK) rc = store_put(t, STORE_T_CERTS, ve_slice(hkey, 8), cert);
    if (rc == VE_OK)
      rc = store_put(t, STORE_T_BLOCK_HASH, ve_slice(next.last_hash, LEDGER_HASH_BYTES),
                     ve_slice(hkey, 8));
    if (rc == VE_OK) rc = tip_put(t, &next);
  }
  free(leaves);
  return rc;
}

int ledger_block_commit(store_txn_t *t, const ledger_registry_t *reg, ve_slice_t block_bytes,
                        ve_slice_t cert, int32_t *results) {
  ledger_block_t b;
  VE_TRY(ledger_block_decode(block_bytes, &b));
  int rc = ledger_block_commit_decoded(t, reg, &b, block_bytes, cert, results);
  ledger_block_free(&b);
  return rc;
}

int ledger_block_get(store_txn_t *t, uint64_t height, ve_slice_t *block_out) {
  uint8_t k[8];
  ve_be64_put(k, height);
  return store_get(t, STORE_T_BLOCKS, ve_slice(k, 8), block_out);
}

int ledger_cert_get(store_txn_t *t, uint64_t height, ve_slice_t *cert_out) {
  uint8_t k[8];
  ve_be64_put(k, height);
  return store_get(t, STORE_T_CERTS, ve_slice(k, 8), cert_out);
}
