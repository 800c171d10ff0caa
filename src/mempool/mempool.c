/* mempool.c — admission of transactions into the pool, and its public API.
 *
 * mempool_add runs in three phases so that the expensive work happens outside
 * the pool's mutex and many threads admit in parallel:
 *   1. stateless (no lock): size, decode, chain, expiry window, type;
 *      then, under the lock, the cheap pool checks (pending duplicate, pending
 *      seq conflict, room, and for client submissions the admit limit), so
 *      that a full or busy pool sheds load before verifying;
 *   2. expensive (no lock), in one read txn: committed duplicate (first, so
 *      that a replay of a committed tx costs no signature check), signature
 *      (checked from the tx bytes, once even if the state checks rerun), and a
 *      dry run of the transaction (ledger_exec_begin + ledger_exec_tx, discarded,
 *      never finished);
 *   3. insert (lock): the pool checks again (another thread may have won), then
 *      insert the entry allocated in phase 2.
 * Race with block commits: if a block holding this very tx commits after our
 * read txn began and mempool_on_commit runs before our insert, the tx would be
 * inserted though committed, and a replay would reach a later block. Every
 * mempool_on_commit bumps `gen`; phase 3 inserts only if gen did not move since
 * before phase 2's read txn began, and otherwise reruns the state checks (at
 * most MEMPOOL_ADMIT_RETRIES_MAX times; the signature is not checked again,
 * and the dry run only MEMPOOL_DRY_RUNS_MAX times in all, so that a dry run
 * slower than a block interval still gets in).
 * This relies on the node calling mempool_on_commit after the block's store
 * transaction has committed.
 * Lock order: the mutex is never held while a store transaction is opened.
 */
#include "mempool/mempool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "mempool/pool.h"

struct mempool {
  pthread_mutex_t mu;          /* guards everything below */
  pool_t pool;
  const ledger_registry_t *reg; /* immutable */
  uint64_t gen;                /* mempool_on_commit calls so far */
  size_t admit_limit;          /* client submissions: busy at this many pending; 0 none */
  mempool_stats_t stats;       /* txs/bytes/rejected_cached filled on read */
};

static void lock(mempool_t *mp) { VE_ASSERT(pthread_mutex_lock(&mp->mu) == 0); }
static void unlock(mempool_t *mp) { VE_ASSERT(pthread_mutex_unlock(&mp->mu) == 0); }

int mempool_new(const mempool_config_t *cfg, const ledger_registry_t *reg, mempool_t **out) {
  VE_ASSERT(reg && out);
  *out = NULL;
  mempool_config_t c = cfg ? *cfg : (mempool_config_t){0};
  if (!c.txs_max) c.txs_max = MEMPOOL_TXS_MAX_DEFAULT;
  if (!c.bytes_max) c.bytes_max = MEMPOOL_BYTES_MAX_DEFAULT;
  if (!c.rejected_cache_max) c.rejected_cache_max = MEMPOOL_REJECTED_CACHE_MAX_DEFAULT;
  if (c.txs_max > MEMPOOL_TXS_MAX_LIMIT || c.rejected_cache_max > MEMPOOL_REJECTED_CACHE_MAX_LIMIT)
    return VE_ERR_CONFIG;
  if (vcrypto_init() != VE_OK) return VE_ERR_CRYPTO; /* the pool's hash key comes from the RNG */
  mempool_t *mp = calloc(1, sizeof *mp);
  if (!mp) return VE_ERR_NOMEM;
  if (pthread_mutex_init(&mp->mu, NULL) != 0) {
    free(mp);
    return VE_ERR_NOMEM;
  }
  int rc = pool_init(&mp->pool, c.txs_max, c.bytes_max, c.rejected_cache_max);
  if (rc) {
    pthread_mutex_destroy(&mp->mu);
    free(mp);
    return rc;
  }
  mp->reg = reg;
  *out = mp;
  return VE_OK;
}

void mempool_free(mempool_t *mp) {
  if (!mp) return;
  pool_destroy(&mp->pool);
  pthread_mutex_destroy(&mp->mu);
  free(mp);
}

/* ---- admission ---------------------------------------------------------------- */

/* Phase 1 without the lock: everything decidable from the bytes alone. */
static int check_stateless(const mempool_t *mp, ve_slice_t chain_id, uint64_t height, ve_slice_t tx,
                           ledger_tx_t *d) {
  if (tx.len > VE_TX_BYTES_MAX) return VE_ERR_TOO_BIG;
  VE_TRY(ledger_tx_decode(tx, d));
  if (!ve_slice_eq(d->chain_id, chain_id)) return VE_ERR_WRONG_CHAIN;
  if (d->expiry < height || d->expiry - height > VE_TX_EXPIRY_WINDOW_BLOCKS) return VE_ERR_EXPIRED;
  if (!ledger_app_for(mp->reg, d->type)) return VE_ERR_UNKNOWN_TYPE;
  return VE_OK;
}

/* 0 if id is not committed, VE_ERR_DUPLICATE if it is, or a store error. */
static int check_committed(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES]) {
  ledger_tx_result_t r;
  int rc = ledger_tx_result_get(t, id, &r);
  if (rc == VE_OK) return VE_ERR_DUPLICATE;
  return rc == VE_ERR_NOT_FOUND ? VE_OK : rc;
}

/* Executes d on an overlay over the read txn t and throws the overlay away:
 * the signer's status and sequence, then the application's own checks. The
 * block time is not known yet; the earliest possible one (tip time + 1) is used. */
static int dry_run(const mempool_t *mp, store_txn_t *t, ve_slice_t chain_id, uint64_t height,
                   const ledger_tx_t *d) {
  ledger_tip_t tip;
  VE_TRY(ledger_tip_get(t, &tip));
  ledger_exec_t *ex;
  VE_TRY(ledger_exec_begin(&ex, mp->reg, t, chain_id, height, tip.last_time_ms + 1));
  int rc = ledger_exec_tx(ex, d);
  ledger_exec_free(ex);
  return rc;
}

/* Phase 2 in one read txn: committed duplicate, the signature unless *sig_ok
 * (set once it verified), and the dry run if dry (see admit). */
static int check_state(const mempool_t *mp, store_t *store, ve_slice_t chain_id, uint64_t height,
                       const uint8_t id[LEDGER_HASH_BYTES], ve_slice_t tx, const ledger_tx_t *d,
                       bool *sig_ok, bool dry) {
  store_txn_t *t;
  VE_TRY(store_txn_begin(store, false, &t));
  int rc = check_committed(t, id);
  if (rc == VE_OK && !*sig_ok) {
    rc = ledger_tx_verify_sig_encoded(tx, d);
    *sig_ok = rc == VE_OK;
  }
  if (rc == VE_OK && dry) rc = dry_run(mp, t, chain_id, height, d);
  store_txn_abort(t);
  return rc;
}

static bool busy_locked(const mempool_t *mp) {
  return mp->admit_limit && mp->pool.count >= mp->admit_limit;
}

/* Step 6: the cheap checks under the lock; the admit limit for clients only. */
static int precheck_locked(mempool_t *mp, const uint8_t id[LEDGER_HASH_BYTES], const ledger_tx_t *d,
                           size_t len, bool client) {
  lock(mp);
  int rc = pool_can_insert(&mp->pool, id, d->signer, d->seq, len);
  if (rc == VE_OK && client && busy_locked(mp)) rc = VE_ERR_BUSY;
  unlock(mp);
  return rc;
}

static uint64_t gen_get(mempool_t *mp) {
  lock(mp);
  uint64_t g = mp->gen;
  unlock(mp);
  return g;
}

/* Phase 3. Returns 0 (e is now owned by the pool), 1 if a commit intervened, or
 * the pool's refusal. */
static int insert_if_current(mempool_t *mp, pool_entry_t *e, uint64_t gen0) {
  lock(mp);
  int rc = mp->gen != gen0 ? 1 : pool_can_insert(&mp->pool, e->id, e->signer, e->seq, e->len);
  if (rc == VE_OK) {
    pool_insert(&mp->pool, e);
    pool_rej_forget(&mp->pool, e->id);
    mp->stats.admitted_total++;
  } else if (rc == 1) {
    mp->stats.retries_total++;
  }
  unlock(mp);
  return rc;
}

static int admit(mempool_t *mp, store_t *store, ve_slice_t chain_id, uint64_t height, ve_slice_t tx,
                 const uint8_t id[LEDGER_HASH_BYTES], bool client) {
  ledger_tx_t d;
  VE_TRY(check_stateless(mp, chain_id, height, tx, &d));
  VE_TRY(precheck_locked(mp, id, &d, tx.len, client));
  pool_entry_t *e = NULL;
  bool sig_ok = false;
  int rc = VE_ERR_TIMEOUT;
  for (int attempt = 0; attempt < MEMPOOL_ADMIT_RETRIES_MAX; attempt++) {
    uint64_t gen0 = gen_get(mp);
    /* The dry run is advice to the client, the committed check a guarantee
     * (see the top of the file). A dry run slower than a block interval (the
     * last decryption share of a big poll computes its result) would be
     * overtaken by a commit at every attempt and never get in, so after
     * MEMPOOL_DRY_RUNS_MAX overtaken dry runs only the committed check reruns:
     * the advice is then a block or two old, like a peer's, and the block's
     * execution decides anyway. */
    bool dry = attempt < MEMPOOL_DRY_RUNS_MAX;
    int src = check_state(mp, store, chain_id, height, id, tx, &d, &sig_ok, dry);
    if (src == VE_OK && !e && !(e = pool_entry_new(&mp->pool, id, &d, tx))) src = VE_ERR_NOMEM;
    if (src) {
      rc = src;
      break;
    }
    src = insert_if_current(mp, e, gen0);
    if (src == VE_OK) return VE_OK;
    if (src < 0) {
      rc = src;
      break;
    }
  }
  pool_entry_free(e);
  return rc;
}

static int add(mempool_t *mp, store_t *store, ve_slice_t chain_id, uint64_t height, ve_slice_t tx,
               uint8_t id_out[LEDGER_HASH_BYTES], bool client) {
  VE_ASSERT(mp && store);
  uint8_t id[LEDGER_HASH_BYTES];
  ledger_tx_id(id, tx);
  if (id_out) memcpy(id_out, id, LEDGER_HASH_BYTES);
  int rc = admit(mp, store, chain_id, height, tx, id, client);
  if (rc) {
    lock(mp);
    if (rc == VE_ERR_BUSY) mp->stats.busy_total++; /* transient: not remembered */
    else pool_rej_put(&mp->pool, id, rc);
    mp->stats.rejected_total++;
    unlock(mp);
  }
  return rc;
}

int mempool_add(mempool_t *mp, store_t *store, ve_slice_t chain_id, uint64_t height, ve_slice_t tx,
                uint8_t id_out[LEDGER_HASH_BYTES]) {
  return add(mp, store, chain_id, height, tx, id_out, false);
}

int mempool_add_client(mempool_t *mp, store_t *store, ve_slice_t chain_id, uint64_t height,
                       ve_slice_t tx, uint8_t id_out[LEDGER_HASH_BYTES]) {
  return add(mp, store, chain_id, height, tx, id_out, true);
}

void mempool_set_admit_limit(mempool_t *mp, size_t n) {
  lock(mp);
  mp->admit_limit = n;
  unlock(mp);
}

bool mempool_refuse_if_busy(mempool_t *mp, size_t n) {
  lock(mp);
  bool busy = busy_locked(mp);
  if (busy) {
    mp->stats.busy_total += n;
    mp->stats.rejected_total += n;
  }
  unlock(mp);
  return busy;
}

bool mempool_busy(mempool_t *mp) { return mempool_refuse_if_busy(mp, 0); }

/* ---- blocks ------------------------------------------------------------------- */

int mempool_reap(mempool_t *mp, size_t max_txs, size_t max_bytes, mempool_batch_t *out) {
  VE_ASSERT(mp && out);
  memset(out, 0, sizeof *out);
  lock(mp);
  size_t room = max_txs < mp->pool.count ? max_txs : mp->pool.count;
  pool_entry_t **picked = room ? malloc(room * sizeof *picked) : NULL;
  int rc = room && !picked ? VE_ERR_NOMEM : VE_OK;
  size_t n = 0, bytes = 0;
  if (rc == VE_OK && room) pool_reap(&mp->pool, room, max_bytes, picked, &n, &bytes);
  if (rc == VE_OK && n) {
    out->txs = malloc(n * sizeof *out->txs);
    out->ids = malloc(n * sizeof *out->ids);
    out->data = malloc(bytes ? bytes : 1);
    if (!out->txs || !out->ids || !out->data) rc = VE_ERR_NOMEM;
  }
  /* Copied under the lock: the entries may leave the pool as soon as it drops. */
  for (size_t i = 0, off = 0; rc == VE_OK && i < n; i++) {
    memcpy(out->data + off, picked[i]->bytes, picked[i]->len);
    out->txs[i] = ve_slice(out->data + off, picked[i]->len);
    memcpy(out->ids[i], picked[i]->id, LEDGER_HASH_BYTES);
    off += picked[i]->len;
  }
  unlock(mp);
  free(picked);
  if (rc) {
    mempool_batch_free(out);
    return rc;
  }
  out->n = n;
  out->bytes = bytes;
  return VE_OK;
}

void mempool_batch_free(mempool_batch_t *b) {
  if (!b) return;
  free(b->txs);
  free(b->ids);
  free(b->data);
  memset(b, 0, sizeof *b);
}

void mempool_on_commit(mempool_t *mp, const uint8_t (*ids)[LEDGER_HASH_BYTES], size_t n,
                       uint64_t next_height) {
  VE_ASSERT(mp && (ids || n == 0));
  pool_entry_t *dead = NULL; /* freed after the lock drops, chained by q_next */
  lock(mp);
  mp->gen++;
  for (size_t i = 0; i < n; i++) {
    pool_entry_t *e = pool_find(&mp->pool, ids[i]);
    if (!e) continue;
    pool_remove(&mp->pool, e);
    e->q_next = dead;
    dead = e;
    mp->stats.committed_total++;
  }
  for (pool_entry_t *e; (e = pool_expiry_min(&mp->pool)) && e->expiry < next_height;) {
    pool_remove(&mp->pool, e);
    pool_rej_put(&mp->pool, e->id, VE_ERR_EXPIRED);
    e->q_next = dead;
    dead = e;
    mp->stats.expired_total++;
  }
  unlock(mp);
  while (dead) {
    pool_entry_t *next = dead->q_next;
    pool_entry_free(dead);
    dead = next;
  }
}

/* ---- queries ------------------------------------------------------------------ */

bool mempool_has(mempool_t *mp, const uint8_t id[LEDGER_HASH_BYTES]) {
  lock(mp);
  bool has = pool_find(&mp->pool, id) != NULL;
  unlock(mp);
  return has;
}

bool mempool_rejected(mempool_t *mp, const uint8_t id[LEDGER_HASH_BYTES], int *code_out) {
  lock(mp);
  bool r = pool_rej_get(&mp->pool, id, code_out);
  unlock(mp);
  return r;
}

bool mempool_sig_checked(void *mp, const uint8_t id[LEDGER_HASH_BYTES]) {
  return mempool_has((mempool_t *)mp, id);
}

size_t mempool_size(mempool_t *mp) {
  lock(mp);
  size_t n = mp->pool.count;
  unlock(mp);
  return n;
}

size_t mempool_bytes(mempool_t *mp) {
  lock(mp);
  size_t n = mp->pool.bytes;
  unlock(mp);
  return n;
}

void mempool_stats_get(mempool_t *mp, mempool_stats_t *out) {
  lock(mp);
  *out = mp->stats;
  out->txs = mp->pool.count;
  out->bytes = mp->pool.bytes;
  out->rejected_cached = mp->pool.rej_live;
  out->admit_limit = mp->admit_limit;
  unlock(mp);
}
