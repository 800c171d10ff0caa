/* node_blobs.c — the node's content-addressed store of encrypted document blobs
 * (STORE_T_BLOBS), outside the block data (docs/documents.md §11). The layout,
 * its invariants and the threading rules are in node_docs.h.
 *
 * Two kinds of writers:
 *   - the loop thread, inside each block's write transaction (node_docs_block_txn):
 *     keeps the refs in step with the records the block created or erased, and
 *     deletes the blobs nobody may hold any more;
 *   - API threads and the network layer (node_docs_blob_store, _put_part): add
 *     blob bytes. They hash and copy in a read transaction first, then open a
 *     short write transaction that re-reads the record, so an erase committed in
 *     between is never undone. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "node/node_docs.h"
#include "node/node_int.h"

#define LOG "blobs"

#define KEY_REF "blob/ref/"
#define KEY_WANT "blob/want/"
#define KEY_PART "blob/part/"
#define KEY_PREFIX_BYTES_MAX 10
#define KEY_BYTES_MAX (KEY_PREFIX_BYTES_MAX + 2 * LEDGER_HASH_BYTES)

typedef struct {
  uint8_t b[KEY_BYTES_MAX];
  size_t len;
} idx_key_t;

/* prefix || a [|| b] */
static ve_slice_t idx_key(idx_key_t *k, const char *prefix, const uint8_t a[LEDGER_HASH_BYTES],
                          const uint8_t *b) {
  size_t p = strlen(prefix);
  VE_ASSERT(p <= KEY_PREFIX_BYTES_MAX);
  memcpy(k->b, prefix, p);
  memcpy(k->b + p, a, LEDGER_HASH_BYTES);
  k->len = p + LEDGER_HASH_BYTES;
  if (b) {
    memcpy(k->b + k->len, b, LEDGER_HASH_BYTES);
    k->len += LEDGER_HASH_BYTES;
  }
  return ve_slice(k->b, k->len);
}

static int held_in(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], bool *held) {
  ve_slice_t v;
  int rc = store_get(t, STORE_T_BLOBS, ve_slice(id, LEDGER_HASH_BYTES), &v);
  *held = rc == VE_OK;
  return rc == VE_ERR_NOT_FOUND ? VE_OK : rc;
}

/* Does a record whose key is not erased still reference blob id? */
static int has_refs(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], bool *any) {
  idx_key_t k;
  ve_slice_t prefix = idx_key(&k, KEY_REF, id, NULL), key, val;
  store_cursor_t *c;
  VE_TRY(store_cursor_open(t, STORE_T_APP_INDEX, &c));
  int rc = store_cursor_seek(c, prefix, &key, &val);
  *any = rc == VE_OK && key.len == prefix.len + LEDGER_HASH_BYTES && !memcmp(key.ptr, prefix.ptr, prefix.len);
  store_cursor_close(c);
  return rc == VE_ERR_NOT_FOUND ? VE_OK : rc;
}

/* ---- inside a block's write transaction ---- */

/* rec (committed, key not erased, names a blob) references its blob. */
static int ref_add(store_txn_t *t, const documents_record_t *rec) {
  idx_key_t k;
  VE_TRY(store_put(t, STORE_T_APP_INDEX, idx_key(&k, KEY_REF, rec->spec.blob_id, rec->id), ve_slice("", 0)));
  bool held;
  VE_TRY(held_in(t, rec->spec.blob_id, &held));
  if (held) return VE_OK;
  return store_put(t, STORE_T_APP_INDEX, idx_key(&k, KEY_WANT, rec->spec.blob_id, NULL), ve_slice("", 0));
}

/* rec's key was erased: it no longer references its blob; the blob goes with the
 * last reference. */
static int ref_drop(store_txn_t *t, const documents_record_t *rec) {
  idx_key_t k;
  const uint8_t *blob = rec->spec.blob_id;
  VE_TRY(store_del(t, STORE_T_APP_INDEX, idx_key(&k, KEY_REF, blob, rec->id)));
  bool any;
  VE_TRY(has_refs(t, blob, &any));
  if (any) return VE_OK;
  bool held;
  VE_TRY(held_in(t, blob, &held));
  if (held) VE_INFO(LOG, "blob of an erased document deleted");
  VE_TRY(store_del(t, STORE_T_BLOBS, ve_slice(blob, LEDGER_HASH_BYTES)));
  VE_TRY(store_del(t, STORE_T_APP_INDEX, idx_key(&k, KEY_WANT, blob, NULL)));
  return store_del(t, STORE_T_APP_INDEX, idx_key(&k, KEY_PART, blob, NULL));
}

/* One committed transaction of the block. Its result is not at hand, so the
 * records are read back: whatever the tx did, the index ends up matching them. */
static int block_tx(store_txn_t *t, ve_slice_t bytes) {
  ledger_tx_t tx;
  if (ledger_tx_decode(bytes, &tx) != VE_OK) return VE_OK; /* the ledger refused it too */
  if (tx.type < TX_TYPE_DOCUMENT_REGISTER || tx.type > TX_TYPE_DOCUMENT_RENEW) return VE_OK;
  if (tx.type != TX_TYPE_DOCUMENT_REGISTER && tx.type != TX_TYPE_DOCUMENT_SUPERSEDE &&
      tx.type != TX_TYPE_DOCUMENT_ERASE)
    return VE_OK;
  documents_tx_target_t tg;
  if (documents_tx_target(tx.type, tx.payload, &tg) != VE_OK) return VE_OK; /* failed in the app */
  documents_record_t *rec = malloc(sizeof *rec);
  if (!rec) return VE_ERR_NOMEM;
  int rc = VE_OK;
  if (tg.has_spec && tg.spec.has_blob) {
    /* The new version, found by its digest (a failed register finds the earlier
     * record of that digest, whose ref already exists: adding it is harmless). */
    rc = documents_get_by_digest(t, &tg.spec.digest, rec);
    if (rc == VE_OK && rec->spec.has_blob && !rec->key_erased) rc = ref_add(t, rec);
  } else if (tx.type == TX_TYPE_DOCUMENT_ERASE && tg.has_doc) {
    rc = documents_get(t, tg.doc, rec);
    if (rc == VE_OK && rec->spec.has_blob && rec->key_erased) rc = ref_drop(t, rec);
  }
  free(rec);
  return rc == VE_ERR_NOT_FOUND ? VE_OK : rc;
}

int node_docs_block_txn(node_t *n, store_txn_t *t, const ledger_block_t *b) {
  (void)n;
  for (size_t i = 0; i < b->tx_count; i++) VE_TRY(block_tx(t, b->txs[i]));
  return VE_OK;
}

/* ---- reads ---- */

bool node_docs_blob_held(node_t *n, const uint8_t id[LEDGER_HASH_BYTES]) {
  store_txn_t *t;
  if (store_txn_begin(n->store, false, &t) != VE_OK) return false;
  bool held = false;
  int rc = held_in(t, id, &held);
  store_txn_abort(t);
  return rc == VE_OK && held;
}

int node_docs_blob_read(node_t *n, const uint8_t id[LEDGER_HASH_BYTES], uint64_t offset, size_t len_max,
                        ve_buf_t *out, uint64_t *size_out) {
  store_txn_t *t;
  VE_TRY(store_txn_begin(n->store, false, &t));
  ve_slice_t v;
  int rc = store_get(t, STORE_T_BLOBS, ve_slice(id, LEDGER_HASH_BYTES), &v);
  if (rc == VE_OK) {
    *size_out = v.len;
    if (offset >= v.len && !(offset == 0 && v.len == 0)) {
      rc = VE_ERR_INVALID;
    } else {
      size_t len = v.len - (size_t)offset < len_max ? v.len - (size_t)offset : len_max;
      rc = ve_buf_append(out, v.ptr + offset, len);
    }
  }
  store_txn_abort(t);
  return rc;
}

int node_docs_blob_load(node_t *n, const uint8_t id[LEDGER_HASH_BYTES], ve_buf_t *out) {
  uint64_t size;
  return node_docs_blob_read(n, id, 0, SIZE_MAX, out, &size);
}

size_t node_docs_blobs_missing(node_t *n, uint8_t (*ids)[LEDGER_HASH_BYTES], size_t max) {
  store_txn_t *t;
  if (max == 0 || store_txn_begin(n->store, false, &t) != VE_OK) return 0;
  size_t plen = strlen(KEY_WANT), k = 0;
  store_cursor_t *c;
  if (store_cursor_open(t, STORE_T_APP_INDEX, &c) == VE_OK) {
    ve_slice_t key, val;
    for (int rc = store_cursor_seek(c, ve_slice(KEY_WANT, plen), &key, &val); rc == VE_OK && k < max;
         rc = store_cursor_next(c, &key, &val)) {
      if (key.len != plen + LEDGER_HASH_BYTES || memcmp(key.ptr, KEY_WANT, plen)) break;
      memcpy(ids[k++], key.ptr + plen, LEDGER_HASH_BYTES);
    }
    store_cursor_close(c);
  }
  store_txn_abort(t);
  return k;
}

/* ---- writes from API threads and the network ---- */

/* In a write txn: stores blob (already checked against rec) unless rec's key was
 * erased meanwhile. Commits or aborts t. */
static int write_blob(store_txn_t *t, const documents_record_t *checked, ve_slice_t blob) {
  documents_record_t *now = malloc(sizeof *now);
  if (!now) {
    store_txn_abort(t);
    return VE_ERR_NOMEM;
  }
  int rc = documents_get(t, checked->id, now);
  if (rc == VE_OK && (now->key_erased || !now->spec.has_blob)) rc = VE_ERR_STATE;
  free(now);
  idx_key_t k;
  const uint8_t *id = checked->spec.blob_id;
  if (rc == VE_OK) rc = store_put(t, STORE_T_BLOBS, ve_slice(id, LEDGER_HASH_BYTES), blob);
  if (rc == VE_OK) rc = store_del(t, STORE_T_APP_INDEX, idx_key(&k, KEY_WANT, id, NULL));
  if (rc == VE_OK) rc = store_del(t, STORE_T_APP_INDEX, idx_key(&k, KEY_PART, id, NULL));
  if (rc == VE_OK) return store_txn_commit(t);
  store_txn_abort(t);
  return rc;
}

/* A record that references id with blob's size and whose key is not erased. */
static int find_ref(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], size_t len, documents_record_t *rec) {
  idx_key_t k;
  ve_slice_t prefix = idx_key(&k, KEY_REF, id, NULL), key, val;
  store_cursor_t *c;
  VE_TRY(store_cursor_open(t, STORE_T_APP_INDEX, &c));
  int found = VE_ERR_NOT_FOUND;
  size_t seen = 0;
  for (int rc = store_cursor_seek(c, prefix, &key, &val); rc == VE_OK && seen < NODE_DOCS_REFS_SCAN_MAX;
       rc = store_cursor_next(c, &key, &val), seen++) {
    if (key.len != prefix.len + LEDGER_HASH_BYTES || memcmp(key.ptr, prefix.ptr, prefix.len)) break;
    uint8_t doc[LEDGER_HASH_BYTES];
    memcpy(doc, key.ptr + prefix.len, sizeof doc);
    if (documents_get(t, doc, rec) != VE_OK || rec->key_erased || !rec->spec.has_blob) continue;
    if (rec->spec.blob_bytes != len) {
      found = VE_ERR_INVALID;
      continue;
    }
    found = VE_OK;
    break;
  }
  store_cursor_close(c);
  return found;
}

int node_docs_blob_store(node_t *n, const uint8_t id[LEDGER_HASH_BYTES], ve_slice_t blob) {
  if (blob.len > DOCUMENTS_BLOB_BYTES_MAX) return VE_ERR_TOO_BIG;
  documents_record_t *rec = malloc(sizeof *rec);
  if (!rec) return VE_ERR_NOMEM;
  store_txn_t *t;
  int rc = store_txn_begin(n->store, false, &t);
  bool held = false;
  if (rc == VE_OK) {
    rc = held_in(t, id, &held);
    if (rc == VE_OK && !held) rc = find_ref(t, id, blob.len, rec);
    store_txn_abort(t);
  }
  if (rc == VE_OK && !held) rc = documents_blob_check(rec, blob.ptr, blob.len);
  if (rc == VE_OK && !held) {
    rc = store_txn_begin(n->store, true, &t);
    if (rc == VE_OK) rc = write_blob(t, rec, blob);
  }
  free(rec);
  return rc;
}

/* Reads what an upload through doc needs: the record and the parts so far
 * (appended to staged, at most the blob's size). */
static int upload_state(node_t *n, const uint8_t doc[LEDGER_HASH_BYTES], documents_record_t *rec,
                        ve_buf_t *staged, node_docs_upload_t *up) {
  store_txn_t *t;
  VE_TRY(store_txn_begin(n->store, false, &t));
  int rc = documents_get(t, doc, rec);
  if (rc == VE_OK && (!rec->spec.has_blob || rec->key_erased)) rc = VE_ERR_STATE;
  if (rc == VE_OK) {
    memcpy(up->blob_id, rec->spec.blob_id, LEDGER_HASH_BYTES);
    up->size = rec->spec.blob_bytes;
    rc = held_in(t, rec->spec.blob_id, &up->stored);
  }
  if (rc == VE_OK && !up->stored) {
    idx_key_t k;
    ve_slice_t v;
    rc = store_get(t, STORE_T_APP_INDEX, idx_key(&k, KEY_PART, rec->spec.blob_id, NULL), &v);
    if (rc == VE_OK && v.len < up->size) rc = ve_buf_append(staged, v.ptr, v.len);
    else if (rc == VE_OK || rc == VE_ERR_NOT_FOUND) rc = VE_OK; /* none, or not ours: start afresh */
  }
  store_txn_abort(t);
  up->received = up->stored ? up->size : staged->len;
  return rc;
}

/* In a write txn: replaces the parts of rec's blob with staged (empty: drops
 * them), unless the key was erased or the blob arrived meanwhile. */
static int write_parts(node_t *n, const documents_record_t *rec, ve_slice_t staged) {
  store_txn_t *t;
  VE_TRY(store_txn_begin(n->store, true, &t));
  documents_record_t *now = malloc(sizeof *now);
  int rc = now ? documents_get(t, rec->id, now) : VE_ERR_NOMEM;
  if (rc == VE_OK && now->key_erased) rc = VE_ERR_STATE;
  bool held = false;
  if (rc == VE_OK) rc = held_in(t, rec->spec.blob_id, &held);
  free(now);
  idx_key_t k;
  ve_slice_t key = idx_key(&k, KEY_PART, rec->spec.blob_id, NULL);
  if (rc == VE_OK && !held) rc = staged.len ? store_put(t, STORE_T_APP_INDEX, key, staged) : store_del(t, STORE_T_APP_INDEX, key);
  if (rc == VE_OK) return store_txn_commit(t);
  store_txn_abort(t);
  return rc;
}

int node_docs_blob_put_part(node_t *n, const uint8_t doc[LEDGER_HASH_BYTES], uint64_t offset, ve_slice_t part,
                            node_docs_upload_t *up) {
  memset(up, 0, sizeof *up);
  documents_record_t *rec = malloc(sizeof *rec);
  if (!rec) return VE_ERR_NOMEM;
  ve_buf_t staged;
  ve_buf_init(&staged, DOCUMENTS_BLOB_BYTES_MAX);
  int rc = upload_state(n, doc, rec, &staged, up);
  if (rc == VE_OK && up->stored) goto out; /* nothing to do: idempotent */
  if (rc == VE_OK && (part.len == 0 || offset > staged.len)) rc = VE_ERR_INVALID;
  if (rc == VE_OK && (offset > up->size || part.len > up->size - offset)) rc = VE_ERR_TOO_BIG;
  if (rc == VE_OK) {
    staged.len = (size_t)offset; /* a repeated or restarted part replaces what follows */
    rc = ve_buf_append(&staged, part.ptr, part.len);
  }
  if (rc == VE_OK && staged.len < up->size) {
    rc = write_parts(n, rec, ve_buf_slice(&staged));
    if (rc == VE_OK) up->received = staged.len;
  } else if (rc == VE_OK) {
    rc = documents_blob_check(rec, staged.ptr, staged.len);
    if (rc == VE_OK) {
      store_txn_t *t;
      rc = store_txn_begin(n->store, true, &t);
      if (rc == VE_OK) rc = write_blob(t, rec, ve_buf_slice(&staged));
      if (rc == VE_OK) up->received = up->size, up->stored = up->completed = true;
    } else {
      VE_INFO(LOG, "upload in parts does not match its record (%s); parts dropped", ve_err_name(rc));
      int drop = write_parts(n, rec, ve_slice(NULL, 0));
      if (drop != VE_OK && drop != VE_ERR_STATE) rc = drop;
      up->received = 0;
    }
  }
out:
  ve_buf_free(&staged);
  free(rec);
  return rc;
}
