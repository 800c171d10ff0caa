/* exec.c — deterministic execution of transactions over a write overlay.
 *
 * During a block, application reads and writes go to an overlay (a hash table of
 * key -> value/deleted) in front of the committed state; at the end of the block
 * the overlay becomes one batch of state changes and one new state root. Each
 * transaction's writes are journalled so a failing transaction is rolled back
 * exactly, without touching what earlier transactions of the block wrote.
 *
 * When executing a block (ledger_exec_remember_reads), reads are remembered
 * too: a value read from the store is kept in its entry (state READ), so a key
 * read by many transactions of the block — a registrar's key and identity
 * records, for instance — costs one store lookup per block. A dry run of one
 * transaction (the mempool's) does not pay for copies it would never reuse.
 *
 * Invariants:
 *   - an overlay entry is in one of four states: PASS (not written in this
 *     block and not remembered; reads fall through to the store), READ (not
 *     written in this block; val holds the committed value, read earlier),
 *     VALUE, DELETED;
 *   - only VALUE and DELETED entries are state changes (ledger_exec_finish);
 *   - the journal holds, for every write since the current tx began, the entry's
 *     state before that write; rolling back restores them in reverse order;
 *   - nothing reaches the store before ledger_exec_finish.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "ledger/ledger.h"
#include "ledger/ledger_int.h"
#include "state/state.h"

enum entry_state { ENTRY_PASS = 0, ENTRY_VALUE, ENTRY_DELETED, ENTRY_READ };

typedef struct {
  uint8_t *key;
  size_t key_len;
  uint8_t *val; /* owned */
  size_t val_len;
  uint8_t state;
} entry_t;

typedef struct {
  uint32_t entry;
  uint8_t state;
  uint8_t *val; /* owned: previous value */
  size_t val_len;
} undo_t;

/* Bounds on one block's overlay, far above what VE_BLOCK_TXS_MAX transactions
 * of the current apps write; a block that exceeds them fails the offending tx. */
#define EXEC_ENTRIES_MAX (1u << 22)
#define EXEC_JOURNAL_MAX (1u << 16) /* writes by one transaction */

struct ledger_exec {
  const ledger_registry_t *reg;
  store_txn_t *txn;
  uint8_t chain_id[VE_CHAIN_ID_BYTES_MAX];
  size_t chain_id_len;
  uint64_t height;
  uint64_t time_ms;
  entry_t *entries;
  size_t n_entries, cap_entries;
  uint32_t *table; /* open addressing: entry index + 1, 0 = empty */
  size_t table_cap; /* power of two */
  undo_t *journal;
  size_t n_journal, cap_journal;
  bool remember_reads; /* ledger_exec_remember_reads was called */
  bool has_history; /* ledger_exec_set_history was called */
  uint8_t history_before[LEDGER_HASH_BYTES], history_after[LEDGER_HASH_BYTES];
  uint64_t protocol; /* 0 until ledger_exec_protocol first reads it */
  bool in_decision;  /* ledger_exec_decision is running an action */
};

static uint64_t key_hash(const uint8_t *k, size_t n) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a: keys are hashed already or short */
  for (size_t i = 0; i < n; i++) h = (h ^ k[i]) * 1099511628211ull;
  return h;
}

int ledger_exec_begin(ledger_exec_t **out, const ledger_registry_t *reg, store_txn_t *t,
                      ve_slice_t chain_id, uint64_t height, uint64_t time_ms) {
  if (chain_id.len == 0 || chain_id.len > VE_CHAIN_ID_BYTES_MAX) return VE_ERR_INVALID;
  ledger_exec_t *ex = calloc(1, sizeof *ex);
  if (!ex) return VE_ERR_NOMEM;
  ex->reg = reg;
  ex->txn = t;
  memcpy(ex->chain_id, chain_id.ptr, chain_id.len);
  ex->chain_id_len = chain_id.len;
  ex->height = height;
  ex->time_ms = time_ms;
  ex->table_cap = 64; /* grows by doubling; a dry run of one tx stays small */
  ex->table = calloc(ex->table_cap, sizeof *ex->table);
  if (!ex->table) {
    free(ex);
    return VE_ERR_NOMEM;
  }
  *out = ex;
  return VE_OK;
}

static void journal_clear(ledger_exec_t *ex) {
  for (size_t i = 0; i < ex->n_journal; i++) free(ex->journal[i].val);
  ex->n_journal = 0;
}

void ledger_exec_free(ledger_exec_t *ex) {
  if (!ex) return;
  journal_clear(ex);
  free(ex->journal);
  for (size_t i = 0; i < ex->n_entries; i++) {
    free(ex->entries[i].key);
    free(ex->entries[i].val);
  }
  free(ex->entries);
  free(ex->table);
  free(ex);
}

uint64_t ledger_exec_height(const ledger_exec_t *ex) { return ex->height; }
uint64_t ledger_exec_time_ms(const ledger_exec_t *ex) { return ex->time_ms; }
ve_slice_t ledger_exec_chain_id(const ledger_exec_t *ex) {
  return ve_slice(ex->chain_id, ex->chain_id_len);
}

/* Returns the slot for key: either holding its entry or empty. */
static uint32_t *table_slot(ledger_exec_t *ex, ve_slice_t key) {
  size_t mask = ex->table_cap - 1;
  for (size_t i = key_hash(key.ptr, key.len) & mask;; i = (i + 1) & mask) {
    uint32_t *slot = &ex->table[i];
    if (*slot == 0) return slot;
    entry_t *e = &ex->entries[*slot - 1];
    if (e->key_len == key.len && memcmp(e->key, key.ptr, key.len) == 0) return slot;
  }
}

static int table_grow(ledger_exec_t *ex) {
  size_t cap = ex->table_cap * 2;
  uint32_t *t = calloc(cap, sizeof *t);
  if (!t) return VE_ERR_NOMEM;
  free(ex->table);
  ex->table = t;
  ex->table_cap = cap;
  for (size_t i = 0; i < ex->n_entries; i++)
    *table_slot(ex, ve_slice(ex->entries[i].key, ex->entries[i].key_len)) = (uint32_t)i + 1;
  return VE_OK;
}

static entry_t *entry_find(ledger_exec_t *ex, ve_slice_t key) {
  uint32_t *slot = table_slot(ex, key);
  return *slot ? &ex->entries[*slot - 1] : NULL;
}

static int entry_get_or_add(ledger_exec_t *ex, ve_slice_t key, entry_t **out) {
  entry_t *e = entry_find(ex, key);
  if (e) {
    *out = e;
    return VE_OK;
  }
  if (ex->n_entries >= EXEC_ENTRIES_MAX) return VE_ERR_LIMIT;
  if ((ex->n_entries + 1) * 2 > ex->table_cap) VE_TRY(table_grow(ex));
  if (ex->n_entries == ex->cap_entries) {
    size_t cap = ex->cap_entries ? ex->cap_entries * 2 : 256;
    entry_t *n = realloc(ex->entries, cap * sizeof *n);
    if (!n) return VE_ERR_NOMEM;
    ex->entries = n;
    ex->cap_entries = cap;
  }
  e = &ex->entries[ex->n_entries];
  memset(e, 0, sizeof *e);
  e->key = malloc(key.len);
  if (!e->key) return VE_ERR_NOMEM;
  memcpy(e->key, key.ptr, key.len);
  e->key_len = key.len;
  e->state = ENTRY_PASS;
  *table_slot(ex, key) = (uint32_t)++ex->n_entries;
  *out = e;
  return VE_OK;
}

/* Keeps a copy of a committed value in key's entry (state READ). Best effort:
 * on any failure the value is simply not remembered. */
static void remember_read(ledger_exec_t *ex, ve_slice_t key, ve_slice_t val) {
  uint8_t *copy = malloc(val.len ? val.len : 1);
  entry_t *e;
  if (!copy || entry_get_or_add(ex, key, &e) != VE_OK) {
    free(copy);
    return;
  }
  if (e->state != ENTRY_PASS) { /* cannot happen: only PASS entries read through */
    free(copy);
    return;
  }
  memcpy(copy, val.ptr, val.len);
  free(e->val);
  e->val = copy;
  e->val_len = val.len;
  e->state = ENTRY_READ;
}

int ledger_state_get(ledger_exec_t *ex, ve_slice_t key, ve_slice_t *val_out) {
  if (key.len == 0 || key.len > STATE_KEY_BYTES_MAX) return VE_ERR_INVALID;
  entry_t *e = entry_find(ex, key);
  if (e && (e->state == ENTRY_VALUE || e->state == ENTRY_READ)) {
    *val_out = ve_slice(e->val, e->val_len);
    return VE_OK;
  }
  if (e && e->state == ENTRY_DELETED) return VE_ERR_NOT_FOUND;
  if (!ex->remember_reads) return state_get(ex->txn, key, val_out);
  ve_slice_t v;
  int rc = state_get(ex->txn, key, &v);
  if (rc) return rc;
  remember_read(ex, key, v);
  e = entry_find(ex, key);
  *val_out = e && e->state == ENTRY_READ ? ve_slice(e->val, e->val_len) : v;
  return VE_OK;
}

/* Saves e's current state in the journal before it changes. */
static int journal_push(ledger_exec_t *ex, entry_t *e) {
  if (ex->n_journal >= EXEC_JOURNAL_MAX) return VE_ERR_LIMIT;
  if (ex->n_journal == ex->cap_journal) {
    size_t cap = ex->cap_journal ? ex->cap_journal * 2 : 64;
    undo_t *n = realloc(ex->journal, cap * sizeof *n);
    if (!n) return VE_ERR_NOMEM;
    ex->journal = n;
    ex->cap_journal = cap;
  }
  undo_t *u = &ex->journal[ex->n_journal];
  u->entry = (uint32_t)(e - ex->entries);
  u->state = e->state;
  u->val = e->val; /* ownership moves to the journal */
  u->val_len = e->val_len;
  e->val = NULL;
  e->val_len = 0;
  ex->n_journal++;
  return VE_OK;
}

static int write_entry(ledger_exec_t *ex, ve_slice_t key, const ve_slice_t *val) {
  if (key.len == 0 || key.len > STATE_KEY_BYTES_MAX) return VE_ERR_INVALID;
  if (val && val->len > STATE_VALUE_BYTES_MAX) return VE_ERR_TOO_BIG;
  uint8_t *copy = NULL;
  if (val && val->len) {
    copy = malloc(val->len);
    if (!copy) return VE_ERR_NOMEM;
    memcpy(copy, val->ptr, val->len);
  }
  entry_t *e;
  int rc = entry_get_or_add(ex, key, &e);
  if (rc == VE_OK) rc = journal_push(ex, e);
  if (rc) {
    free(copy);
    return rc;
  }
  e->val = copy;
  e->val_len = val ? val->len : 0;
  e->state = val ? ENTRY_VALUE : ENTRY_DELETED;
  return VE_OK;
}

int ledger_reader_get(const ledger_reader_t *rd, ve_slice_t key, ve_slice_t *val_out) {
  VE_ASSERT((rd->ex == NULL) != (rd->txn == NULL));
  return rd->ex ? ledger_state_get(rd->ex, key, val_out) : state_get(rd->txn, key, val_out);
}

int ledger_state_put(ledger_exec_t *ex, ve_slice_t key, ve_slice_t val) {
  return write_entry(ex, key, &val);
}

int ledger_state_del(ledger_exec_t *ex, ve_slice_t key) { return write_entry(ex, key, NULL); }

static void journal_rollback(ledger_exec_t *ex) {
  while (ex->n_journal) {
    undo_t *u = &ex->journal[--ex->n_journal];
    entry_t *e = &ex->entries[u->entry];
    free(e->val);
    e->val = u->val;
    e->val_len = u->val_len;
    e->state = u->state;
  }
}

const ledger_app_t *ledger_app_for(const ledger_registry_t *reg, uint32_t type) {
  for (size_t i = 0; i < reg->n_apps; i++)
    if (type >= reg->apps[i]->type_lo && type <= reg->apps[i]->type_hi) return reg->apps[i];
  return NULL;
}

/* ---- sequences: an anti-replay window per signer ----
 *
 * State key "seq/" || identity id -> uvarint last || bitmap[LEDGER_SEQ_WINDOW/8].
 * last is the highest sequence used; bit i of the bitmap (bit i%8 of byte i/8)
 * says whether last - i was used. A sequence is fresh iff it is above last, or
 * within the window below it and unused. Signers can therefore submit many
 * transactions concurrently (they may commit in any order within the window)
 * while every transaction executes at most once. */

typedef struct {
  uint64_t last;
  uint8_t bits[LEDGER_SEQ_WINDOW / 8];
} seq_window_t;

static void seq_key(uint8_t key[4 + LEDGER_HASH_BYTES], const uint8_t id[LEDGER_HASH_BYTES]) {
  memcpy(key, "seq/", 4);
  memcpy(key + 4, id, LEDGER_HASH_BYTES);
}

static int seq_get(ledger_exec_t *ex, const uint8_t id[LEDGER_HASH_BYTES], seq_window_t *w) {
  uint8_t key[4 + LEDGER_HASH_BYTES];
  seq_key(key, id);
  memset(w, 0, sizeof *w);
  ve_slice_t v;
  int rc = ledger_state_get(ex, ve_slice(key, sizeof key), &v);
  if (rc == VE_ERR_NOT_FOUND) return VE_OK;
  VE_TRY(rc);
  codec_reader_t r;
  codec_reader_init(&r, v);
  w->last = codec_get_uvarint(&r);
  codec_get_fixed(&r, w->bits, sizeof w->bits);
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

static bool seq_bit(const seq_window_t *w, uint64_t i) { return w->bits[i / 8] >> (i % 8) & 1; }

/* Is seq fresh for w? Returns 0 or VE_ERR_STALE_SEQ. */
static int seq_check(const seq_window_t *w, uint64_t seq) {
  if (seq == 0) return VE_ERR_STALE_SEQ;
  if (seq > w->last) return VE_OK;
  uint64_t back = w->last - seq;
  return back < LEDGER_SEQ_WINDOW && !seq_bit(w, back) ? VE_OK : VE_ERR_STALE_SEQ;
}

static uint64_t le64_get(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void le64_put(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++, v >>= 8) p[i] = (uint8_t)v;
}

#define SEQ_WORDS (LEDGER_SEQ_WINDOW / 64)

/* Moves every bit i to i + shift (bits past the window fall off): the bitmap
 * read as a little-endian integer of LEDGER_SEQ_WINDOW bits, shifted left, in
 * 64-bit words (every tx of a busy signer shifts by about one bit). */
static void seq_shift(seq_window_t *w, uint64_t shift) {
  if (shift >= LEDGER_SEQ_WINDOW) {
    memset(w->bits, 0, sizeof w->bits);
    return;
  }
  uint64_t word[SEQ_WORDS];
  for (size_t i = 0; i < SEQ_WORDS; i++) word[i] = le64_get(w->bits + 8 * i);
  size_t by = (size_t)(shift / 64);
  unsigned bi = (unsigned)(shift % 64);
  for (size_t j = SEQ_WORDS; j-- > 0;) {
    uint64_t hi = j >= by ? word[j - by] : 0;
    uint64_t lo = j >= by + 1 ? word[j - by - 1] : 0;
    word[j] = bi ? hi << bi | lo >> (64 - bi) : hi;
  }
  for (size_t i = 0; i < SEQ_WORDS; i++) le64_put(w->bits + 8 * i, word[i]);
}

static void seq_mark(seq_window_t *w, uint64_t seq) {
  if (seq > w->last) {
    seq_shift(w, seq - w->last);
    w->last = seq;
  }
  uint64_t back = w->last - seq;
  w->bits[back / 8] |= (uint8_t)(1u << (back % 8));
}

static int seq_put(ledger_exec_t *ex, const uint8_t id[LEDGER_HASH_BYTES], const seq_window_t *w) {
  uint8_t key[4 + LEDGER_HASH_BYTES], val[CODEC_UVARINT_BYTES_MAX + sizeof w->bits];
  seq_key(key, id);
  ve_buf_t b = {val, 0, sizeof val, sizeof val};
  codec_writer_t cw;
  codec_writer_init(&cw, &b);
  codec_put_uvarint(&cw, w->last);
  codec_put_fixed(&cw, w->bits, sizeof w->bits);
  VE_TRY(codec_writer_finish(&cw));
  return ledger_state_put(ex, ve_slice(key, sizeof key), ve_slice(val, b.len));
}

int ledger_signer_lookup(ledger_exec_t *ex, const uint8_t pk[VCRYPTO_PK_BYTES], ledger_signer_t *out) {
  if (!ex->reg->auth) return VE_ERR_UNKNOWN_SIGNER;
  VE_TRY(ex->reg->auth->resolve(ex, pk, out));
  seq_window_t w;
  VE_TRY(seq_get(ex, out->identity_id, &w));
  out->last_seq = w.last;
  return VE_OK;
}

int ledger_exec_protocol(ledger_exec_t *ex, uint64_t *out) {
  if (!ex->protocol) {
    uint64_t p = 1;
    if (ex->reg->protocol) VE_TRY(ex->reg->protocol(ex, &p));
    ex->protocol = p ? p : 1;
  }
  *out = ex->protocol;
  return VE_OK;
}

int ledger_exec_decision(ledger_exec_t *ex, const ledger_tx_t *inner, const ledger_signer_t *as) {
  if (ex->in_decision) return VE_ERR_INVALID;
  const ledger_app_t *app = ledger_app_for(ex->reg, inner->type);
  if (!app) return VE_ERR_UNKNOWN_TYPE;
  ex->in_decision = true;
  int rc = app->apply(ex, inner, as);
  ex->in_decision = false;
  return rc;
}

int ledger_exec_tx(ledger_exec_t *ex, const ledger_tx_t *tx) {
  journal_clear(ex);
  if (!ve_slice_eq(tx->chain_id, ledger_exec_chain_id(ex))) return VE_ERR_WRONG_CHAIN;
  if (ex->height > tx->expiry) return VE_ERR_EXPIRED;
  ledger_signer_t signer;
  seq_window_t w;
  uint64_t protocol = 1;
  int rc = ledger_signer_lookup(ex, tx->signer, &signer);
  if (rc == VE_OK) rc = seq_get(ex, signer.identity_id, &w);
  if (rc == VE_OK) rc = seq_check(&w, tx->seq);
  /* Only an admin's transaction depends on the protocol here, so only it
   * reads it (the mempool's dry runs are one exec per transaction). */
  if (rc == VE_OK && (signer.roles & ROLE_ADMIN)) rc = ledger_exec_protocol(ex, &protocol);
  if (rc) return rc;
  /* From protocol 2 no single admin decides: the admin role reaches an app
   * only through a council decision (ledger_exec_decision). */
  bool masked = protocol >= LEDGER_PROTOCOL_COUNCIL && (signer.roles & ROLE_ADMIN);
  if (masked) signer.roles &= ~(uint32_t)ROLE_ADMIN;
  const ledger_app_t *app = ledger_app_for(ex->reg, tx->type);
  rc = app ? app->apply(ex, tx, &signer) : VE_ERR_UNKNOWN_TYPE;
  if (rc == VE_ERR_PERMISSION && masked) {
    /* Name the refusal needs_council_decision only when the admin role is
     * what it lacks: ask the app again with the role, then undo whatever that
     * try wrote (apps are pure, so the try changes nothing else). Only an
     * admin's refused transaction pays for the second run. */
    journal_rollback(ex);
    ledger_signer_t with_admin = signer;
    with_admin.roles |= ROLE_ADMIN;
    if (app->apply(ex, tx, &with_admin) != VE_ERR_PERMISSION) rc = VE_ERR_NEEDS_DECISION;
  }
  if (rc) journal_rollback(ex);
  /* An authorised transaction consumes its sequence even when it fails, so it can
   * never be replayed into a later block where it might succeed. The window read
   * above is still current: "seq/" keys belong to the ledger, apps never write them. */
  journal_clear(ex);
  seq_mark(&w, tx->seq);
  int src = seq_put(ex, signer.identity_id, &w);
  journal_clear(ex);
  return src ? src : rc;
}

void ledger_exec_remember_reads(ledger_exec_t *ex) { ex->remember_reads = true; }

void ledger_exec_set_history(ledger_exec_t *ex, const uint8_t before[LEDGER_HASH_BYTES],
                             const uint8_t after[LEDGER_HASH_BYTES]) {
  memcpy(ex->history_before, before, LEDGER_HASH_BYTES);
  memcpy(ex->history_after, after, LEDGER_HASH_BYTES);
  ex->has_history = true;
}

int ledger_exec_finish(ledger_exec_t *ex, uint8_t state_root_out[LEDGER_HASH_BYTES]) {
  journal_clear(ex);
  /* Never NULL, even for an empty block: callees may memcpy from it. */
  state_change_t *ch = malloc((ex->n_entries ? ex->n_entries : 1) * sizeof *ch);
  if (!ch) return VE_ERR_NOMEM;
  size_t n = 0;
  for (size_t i = 0; i < ex->n_entries; i++) {
    entry_t *e = &ex->entries[i];
    if (e->state != ENTRY_VALUE && e->state != ENTRY_DELETED) continue;
    ch[n].key = ve_slice(e->key, e->key_len);
    ch[n].val = ve_slice(e->val, e->val_len);
    ch[n].del = e->state == ENTRY_DELETED;
    n++;
  }
  /* Unsorted: state_commit orders the writes itself (by path for the tree, by
   * key for the current-value table). */
  int rc = ex->has_history ? state_commit_cached(ex->txn, ex->history_before, ex->history_after,
                                                  ex->height, ch, n, state_root_out)
                            : state_commit(ex->txn, ex->height, ch, n, state_root_out);
  free(ch);
  return rc;
}
