/* node_backup.c — hot backups of a node's store, and starting a validator
 * safely on a store restored from one.
 *
 * Why. A validator's signing records (STORE_T_CONSENSUS) prove what it signed
 * only if none were lost. A backup holds the records of its moment; the
 * validator may have signed at later heights before it failed, and a
 * validator restored from the backup that signs again there could equivocate.
 * So a backup carries a mark, and a marked store does not sign until the
 * operator says from which height it may (docs/operations.md "Backups").
 *
 * META keys (STORE_T_META, small named values beside "genesis" and "tip"):
 *   "backup_height"    be64 B: this store is a backup taken at height B
 *                      (written into the copy by node_backup, never into a
 *                      live store);
 *   "sign_from_height" be64 H: the engine signs nothing new below H
 *                      (cons_config_t.sign_from_height), until a block at
 *                      height >= H is committed.
 *
 * States of a store at start, and the transitions (each one write txn, so a
 * kill -9 at any moment leaves the old state or the new one):
 *   PLAIN     neither key. Validator with --sign-from H: -> ABSTAIN(H).
 *   MARKED(B) backup_height. Observer: delete the mark -> PLAIN (it signs
 *             nothing). Validator without --sign-from: refuse to start, the
 *             store unchanged. Validator with --sign-from H: put H, delete
 *             the mark -> ABSTAIN(H) (also if sign_from_height was there,
 *             copied from a source that was abstaining: the larger H wins).
 *   ABSTAIN(H) sign_from_height. Every start passes max(H, --sign-from) to
 *             the engine; the block commit at height >= H deletes the key in
 *             its own write txn (node_sign_from_block_txn) -> PLAIN.
 * --sign-from H at or below the store's height protects nothing (the engine
 * starts above it): refused on a marked store (a mistaken H), ignored with a
 * warning otherwise (a flag left in a service file must not keep a validator
 * down).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "node/node_int.h"

#define LOG "node"

static ve_slice_t cstr(const char *s) { return ve_slice(s, strlen(s)); }

/* A be64 META value: 0 and *found false when absent. */
static int meta_u64_get(store_txn_t *t, const char *name, uint64_t *v, bool *found) {
  ve_slice_t val;
  *v = 0;
  *found = false;
  int rc = store_get(t, STORE_T_META, cstr(name), &val);
  if (rc == VE_ERR_NOT_FOUND) return VE_OK;
  VE_TRY(rc);
  if (val.len != 8) return VE_ERR_CORRUPT;
  *v = ve_be64_get(val.ptr);
  *found = true;
  return VE_OK;
}

static int meta_u64_put(store_txn_t *t, const char *name, uint64_t v) {
  uint8_t b[8];
  ve_be64_put(b, v);
  return store_put(t, STORE_T_META, cstr(name), ve_slice(b, 8));
}

/* ---- taking a backup ---- */

/* Marks the copy in dst_data_dir as a backup of its tip height. */
static int backup_mark(const char *dst_data_dir, uint64_t *height_out, char *err, size_t err_len) {
  store_t *s;
  int rc = store_open_lmdb(&s, dst_data_dir, 0);
  if (rc) {
    snprintf(err, err_len, "cannot open the copy in %s: %s", dst_data_dir, ve_strerror(rc));
    return rc;
  }
  store_txn_t *t;
  rc = store_txn_begin(s, true, &t);
  ledger_tip_t tip;
  if (rc == VE_OK) {
    rc = ledger_tip_get(t, &tip);
    if (rc == VE_ERR_NOT_FOUND) snprintf(err, err_len, "the store holds no chain (not a node's data)");
    if (rc == VE_OK) rc = meta_u64_put(t, NODE_META_BACKUP_HEIGHT, tip.height);
    if (rc == VE_OK) rc = store_txn_commit(t);
    else store_txn_abort(t);
  }
  store_close(s);
  if (rc && !err[0]) snprintf(err, err_len, "cannot mark the copy in %s: %s", dst_data_dir, ve_strerror(rc));
  if (rc == VE_OK) *height_out = tip.height;
  return rc;
}

int node_backup(const char *data_dir, const char *dst_data_dir, uint64_t *height_out, uint64_t *bytes_out,
                char *err, size_t err_len) {
  err[0] = 0;
  uint64_t bytes = 0;
  int rc = store_lmdb_backup(data_dir, dst_data_dir, &bytes);
  if (rc == VE_ERR_NOT_FOUND)
    snprintf(err, err_len, "no store in %s (not a node's data directory?)", data_dir);
  else if (rc == VE_ERR_FULL)
    snprintf(err, err_len, "cannot copy %s into %s: disk full", data_dir, dst_data_dir);
  else if (rc)
    snprintf(err, err_len, "cannot copy %s into %s: %s", data_dir, dst_data_dir, ve_strerror(rc));
  if (rc) return rc;
  VE_TRY(backup_mark(dst_data_dir, height_out, err, err_len));
  if (bytes_out) *bytes_out = bytes;
  return VE_OK;
}

/* ---- starting on a restored store ---- */

static void refuse_marked(uint64_t backup_h, char *err, size_t err_len) {
  snprintf(err, err_len,
           "this store was restored from a backup taken at height %llu: this validator may have "
           "signed votes after height %llu that the store does not show, and signing again there "
           "could equivocate (a fault the whole network sees as Byzantine). Start it once with "
           "`veche start --sign-from H`, H above every height it may have signed: the highest "
           "height the other nodes show (GET /health) + 2. It then follows the chain and "
           "signs from height H on.",
           (unsigned long long)backup_h, (unsigned long long)backup_h);
  VE_ERROR(LOG, "refusing to start: %s", err);
}

/* The write of a start: sets sign_from_height to want (0: delete it) and
 * deletes the backup mark, in one transaction. */
static int sign_from_write(node_t *n, uint64_t want) {
  store_txn_t *t;
  VE_TRY(store_txn_begin(n->store, true, &t));
  int rc = want ? meta_u64_put(t, NODE_META_SIGN_FROM, want) : store_del(t, STORE_T_META, cstr(NODE_META_SIGN_FROM));
  if (rc == VE_OK) rc = store_del(t, STORE_T_META, cstr(NODE_META_BACKUP_HEIGHT));
  if (rc == VE_OK) return store_txn_commit(t);
  store_txn_abort(t);
  return rc;
}

int node_sign_from_open(node_t *n, char *err, size_t err_len) {
  store_txn_t *t;
  VE_TRY(store_txn_begin(n->store, false, &t));
  uint64_t backup_h, stored;
  bool marked, has_stored;
  int rc = meta_u64_get(t, NODE_META_BACKUP_HEIGHT, &backup_h, &marked);
  if (rc == VE_OK) rc = meta_u64_get(t, NODE_META_SIGN_FROM, &stored, &has_stored);
  store_txn_abort(t);
  if (rc) {
    snprintf(err, err_len, "cannot read the store's signing marks: %s", ve_strerror(rc));
    return rc;
  }
  uint64_t flag = n->cfg.sign_from_height, tip = n->applied;
  if (!n->has_key) {
    if (flag) VE_WARN(LOG, "--sign-from ignored: this node has no validator key and signs nothing");
    if (!marked && !has_stored) return VE_OK;
    VE_INFO(LOG, "store restored from a backup taken at height %llu; an observer signs nothing: mark removed",
            (unsigned long long)backup_h);
    rc = sign_from_write(n, 0);
  } else if (marked && !flag) {
    refuse_marked(backup_h, err, err_len);
    return VE_ERR_STATE;
  } else if (flag && flag <= tip && marked) {
    snprintf(err, err_len,
             "--sign-from %llu is not above this store's height %llu: it would protect nothing (give "
             "the highest height the other nodes show + 2)",
             (unsigned long long)flag, (unsigned long long)tip);
    VE_ERROR(LOG, "refusing to start: %s", err);
    return VE_ERR_CONFIG;
  } else {
    if (flag && flag <= tip) {
      /* Left in a service file after it did its work: harmless, and refusing
       * would keep a healthy validator down. */
      VE_WARN(LOG, "--sign-from %llu ignored: this store is already at height %llu",
              (unsigned long long)flag, (unsigned long long)tip);
      flag = 0;
    }
    uint64_t want = flag > stored ? flag : stored;
    if (want && want <= tip) want = 0; /* a block >= H is committed: done */
    if (marked || want != stored) rc = sign_from_write(n, want);
    if (rc == VE_OK && want)
      VE_WARN(LOG, "signing nothing below height %llu (store at height %llu%s): following the chain until then",
              (unsigned long long)want, (unsigned long long)tip, marked ? ", restored from a backup" : "");
    if (rc == VE_OK) atomic_store(&n->sign_from, want);
  }
  if (rc) snprintf(err, err_len, "cannot update the store's signing marks: %s", ve_strerror(rc));
  return rc;
}

int node_sign_from_block_txn(node_t *n, store_txn_t *t, uint64_t height) {
  uint64_t h = atomic_load(&n->sign_from);
  if (!h || height < h) return VE_OK;
  VE_TRY(store_del(t, STORE_T_META, cstr(NODE_META_SIGN_FROM)));
  n->sign_from_done = true; /* shown as 0 once this txn is durable */
  return VE_OK;
}
