/* store.c — the generic layer between store.h and a backend (store_backend.h).
 *
 * Everything that must behave identically on every backend lives here: argument
 * checks, the poisoned-transaction rule, cursor positioning, and the asserts that
 * catch misuse (open cursors at txn end, open txns at close, a thread beginning a
 * second write txn while holding one, which would deadlock).
 *
 * Poisoning (write transactions only): the first error returned by any call on
 * a write txn is recorded in txn->err, except VE_ERR_NOT_FOUND from a lookup or
 * cursor move (an answer, not a failure). Every later call returns txn->err
 * without reaching the backend, and commit aborts and returns it. Argument
 * errors poison too: a put that did not happen leaves the txn different from
 * what its caller meant, and committing that must not be possible by accident.
 *
 * Cursor state machine (struct store_cursor.pos):
 *
 *   UNSET ──seek/last/next/prev──> AT(key) ──next at end──> AFTER_END
 *     │                              │  ^                     │ prev: last
 *     │                              │  └──────seek/last──────┘
 *     │                              └──prev at start──> BEFORE_BEGIN
 *   next on UNSET or BEFORE_BEGIN = first entry; prev on UNSET or AFTER_END =
 *   last entry; next on AFTER_END and prev on BEFORE_BEGIN = NOT_FOUND again.
 *   A seek that finds nothing (or last on an empty table) gives AFTER_END.
 *
 * Invariant: in state AT with gen == txn->gen[table], the backend cursor sits on
 * the entry whose key was last returned, so backend next/prev may be used. Any
 * put/del on the table bumps txn->gen[table]; a stale AT cursor is first
 * re-established by key (a copy kept in the cursor, write txns only): next then
 * gives the first key > the old one, prev the last key < it, whether or not the
 * old key still exists.
 */
#include "store/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "store/store_backend.h"

struct store {
  const store_ops_t *ops;
  void *impl;
  pthread_mutex_t mu;     /* guards the fields below */
  unsigned txns_open;
  bool writer_active;     /* a write txn is open ... */
  pthread_t writer;       /* ... by this thread */
};

struct store_txn {
  store_t *s;
  void *impl;
  bool write;
  int err;                /* first error (write txns); 0 while healthy */
  unsigned cursors_open;
  uint64_t gen[STORE_T_COUNT]; /* bumped by every put/del on the table */
};

typedef enum { CUR_UNSET, CUR_AT, CUR_AFTER_END, CUR_BEFORE_BEGIN } cur_pos_t;

struct store_cursor {
  store_txn_t *t;
  void *impl;
  store_table_t table;
  cur_pos_t pos;
  uint64_t gen;           /* t->gen[table] when the backend was last positioned */
  size_t key_len;         /* copy of the current key (write txns only) */
  uint8_t key[STORE_KEY_BYTES_MAX];
};

/* ---- Stores ---------------------------------------------------------------- */

int store_open_backend(store_t **out, const store_ops_t *ops, void *impl) {
  VE_ASSERT(out && ops && impl);
  *out = NULL;
  store_t *s = calloc(1, sizeof *s);
  if (!s || pthread_mutex_init(&s->mu, NULL) != 0) {
    free(s);
    ops->close(impl);
    return VE_ERR_NOMEM;
  }
  s->ops = ops;
  s->impl = impl;
  *out = s;
  return 0;
}

void *store_backend_impl(store_t *s, const store_ops_t *ops) {
  return (s && s->ops == ops) ? s->impl : NULL;
}

void store_close(store_t *s) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  VE_ASSERT(s->txns_open == 0);
  pthread_mutex_unlock(&s->mu);
  s->ops->close(s->impl);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

/* ---- Transactions -------------------------------------------------------- */

int store_txn_begin(store_t *s, bool write, store_txn_t **out) {
  VE_ASSERT(s && out);
  *out = NULL;
  if (write) {
    /* The backend would block forever: this thread is the one it waits for. */
    pthread_mutex_lock(&s->mu);
    VE_ASSERT(!(s->writer_active && pthread_equal(s->writer, pthread_self())));
    pthread_mutex_unlock(&s->mu);
  }
  store_txn_t *t = calloc(1, sizeof *t);
  if (!t) return VE_ERR_NOMEM;
  int rc = s->ops->txn_begin(s->impl, write, &t->impl);
  if (rc < 0) {
    free(t);
    return rc;
  }
  t->s = s;
  t->write = write;
  pthread_mutex_lock(&s->mu);
  s->txns_open++;
  if (write) {
    s->writer_active = true;
    s->writer = pthread_self();
  }
  pthread_mutex_unlock(&s->mu);
  *out = t;
  return 0;
}

static void txn_free(store_txn_t *t) {
  store_t *s = t->s;
  pthread_mutex_lock(&s->mu);
  VE_ASSERT(s->txns_open > 0);
  s->txns_open--;
  if (t->write) s->writer_active = false;
  pthread_mutex_unlock(&s->mu);
  free(t);
}

int store_txn_commit(store_txn_t *t) {
  VE_ASSERT(t && t->cursors_open == 0);
  int rc = t->err;
  if (rc < 0) {
    t->s->ops->txn_abort(t->impl);
  } else {
    rc = t->s->ops->txn_commit(t->impl);
  }
  if (rc < 0 && t->write) {
    VE_DEBUG("store", "%s write txn not committed: %s", t->s->ops->name, ve_strerror(rc));
  }
  txn_free(t);
  return rc;
}

void store_txn_abort(store_txn_t *t) {
  if (!t) return;
  VE_ASSERT(t->cursors_open == 0);
  t->s->ops->txn_abort(t->impl);
  txn_free(t);
}

/* Records rc as the txn's first error when it is one that poisons. */
static int txn_note(store_txn_t *t, int rc) {
  if (rc < 0 && rc != VE_ERR_NOT_FOUND && t->write && t->err == 0) t->err = rc;
  return rc;
}

/* A write's failure always poisons, even VE_ERR_NOT_FOUND from a backend. */
static int txn_note_write(store_txn_t *t, int rc) {
  if (rc < 0 && t->err == 0) t->err = rc;
  return rc;
}

static bool key_ok(ve_slice_t key) {
  return key.len >= 1 && key.len <= STORE_KEY_BYTES_MAX && key.ptr != NULL;
}

static void check_table(store_table_t table) {
  VE_ASSERT((int)table >= 0 && table < STORE_T_COUNT);
}

/* ---- Point operations ----------------------------------------------------- */

int store_get(store_txn_t *t, store_table_t table, ve_slice_t key, ve_slice_t *val_out) {
  VE_ASSERT(t && val_out);
  check_table(table);
  *val_out = ve_slice(NULL, 0);
  if (t->err) return t->err;
  if (!key_ok(key)) return txn_note(t, VE_ERR_INVALID);
  return txn_note(t, t->s->ops->get(t->impl, table, key, val_out));
}

int store_get_committed(store_txn_t *t, store_table_t table, ve_slice_t key,
                        ve_slice_t *val_out) {
  VE_ASSERT(t && val_out);
  check_table(table);
  *val_out = ve_slice(NULL, 0);
  if (t->err) return t->err;
  if (!key_ok(key)) return txn_note(t, VE_ERR_INVALID);
  const store_ops_t *ops = t->s->ops;
  VE_ASSERT(!t->write || ops->get_committed); /* every backend of a writer has it */
  return txn_note(t, t->write ? ops->get_committed(t->impl, table, key, val_out)
                              : ops->get(t->impl, table, key, val_out));
}

/* store_put and store_put_append: same checks, same effect; append only picks
 * the backend's append path when it has one. */
static int put_checked(store_txn_t *t, store_table_t table, ve_slice_t key, ve_slice_t val,
                       bool append) {
  VE_ASSERT(t && t->write);
  check_table(table);
  if (t->err) return t->err;
  if (!key_ok(key)) return txn_note_write(t, VE_ERR_INVALID);
  if (val.len > STORE_VALUE_BYTES_MAX) return txn_note_write(t, VE_ERR_TOO_BIG);
  if (val.len > 0 && val.ptr == NULL) return txn_note_write(t, VE_ERR_INVALID);
  t->gen[table]++;
  const store_ops_t *ops = t->s->ops;
  int rc = append && ops->put_append ? ops->put_append(t->impl, table, key, val)
                                     : ops->put(t->impl, table, key, val);
  return txn_note_write(t, rc);
}

int store_put(store_txn_t *t, store_table_t table, ve_slice_t key, ve_slice_t val) {
  return put_checked(t, table, key, val, false);
}

int store_put_append(store_txn_t *t, store_table_t table, ve_slice_t key, ve_slice_t val) {
  return put_checked(t, table, key, val, true);
}

int store_del(store_txn_t *t, store_table_t table, ve_slice_t key) {
  VE_ASSERT(t && t->write);
  check_table(table);
  if (t->err) return t->err;
  if (!key_ok(key)) return txn_note_write(t, VE_ERR_INVALID);
  t->gen[table]++;
  return txn_note_write(t, t->s->ops->del(t->impl, table, key));
}

int store_write_batch(store_txn_t *t, store_table_t table, const store_write_t *w, size_t n) {
  VE_ASSERT(t && t->write && (w || n == 0));
  check_table(table);
  if (t->err) return t->err;
  for (size_t i = 0; i < n; i++) {
    if (!key_ok(w[i].key)) return txn_note_write(t, VE_ERR_INVALID);
    if (w[i].del) continue;
    if (w[i].val.len > STORE_VALUE_BYTES_MAX) return txn_note_write(t, VE_ERR_TOO_BIG);
    if (w[i].val.len > 0 && w[i].val.ptr == NULL) return txn_note_write(t, VE_ERR_INVALID);
  }
  if (n == 0) return VE_OK;
  t->gen[table]++;
  const store_ops_t *ops = t->s->ops;
  if (ops->write_batch) return txn_note_write(t, ops->write_batch(t->impl, table, w, n));
  int rc = VE_OK;
  for (size_t i = 0; i < n && rc == 0; i++) {
    rc = w[i].del ? ops->del(t->impl, table, w[i].key)
                  : ops->put(t->impl, table, w[i].key, w[i].val);
  }
  return txn_note_write(t, rc);
}

int store_count(store_txn_t *t, store_table_t table, uint64_t *count_out) {
  VE_ASSERT(t && count_out);
  check_table(table);
  *count_out = 0;
  if (t->err) return t->err;
  return txn_note(t, t->s->ops->count(t->impl, table, count_out));
}

/* ---- Cursors -------------------------------------------------------------- */

int store_cursor_open(store_txn_t *t, store_table_t table, store_cursor_t **out) {
  VE_ASSERT(t && out);
  check_table(table);
  *out = NULL;
  if (t->err) return t->err;
  store_cursor_t *c = calloc(1, sizeof *c);
  if (!c) return txn_note(t, VE_ERR_NOMEM);
  int rc = t->s->ops->cursor_open(t->impl, table, &c->impl);
  if (rc < 0) {
    free(c);
    return txn_note(t, rc);
  }
  c->t = t;
  c->table = table;
  c->pos = CUR_UNSET;
  t->cursors_open++;
  *out = c;
  return 0;
}

void store_cursor_close(store_cursor_t *c) {
  if (!c) return;
  VE_ASSERT(c->t->cursors_open > 0);
  c->t->cursors_open--;
  c->t->s->ops->cursor_close(c->impl);
  free(c);
}

/* Takes the outcome of a backend move that was meant to land on an entry.
 * miss is the position to take when there is none. */
static int cur_land(store_cursor_t *c, int rc, cur_pos_t miss, ve_slice_t *key_out,
                    ve_slice_t *val_out) {
  if (rc == 0 && (key_out->len < 1 || key_out->len > STORE_KEY_BYTES_MAX)) {
    VE_ERROR("store", "%s cursor returned a key of %zu bytes", c->t->s->ops->name, key_out->len);
    rc = VE_ERR_CORRUPT;
  }
  if (rc == 0) {
    c->pos = CUR_AT;
    c->gen = c->t->gen[c->table];
    if (c->t->write) {
      memcpy(c->key, key_out->ptr, key_out->len);
      c->key_len = key_out->len;
    }
    return 0;
  }
  *key_out = ve_slice(NULL, 0);
  *val_out = ve_slice(NULL, 0);
  c->pos = (rc == VE_ERR_NOT_FOUND) ? miss : CUR_UNSET;
  return txn_note(c->t, rc);
}

/* Checks the out-pointers; a poisoned txn answers every move with its error. */
static int cur_ready(store_cursor_t *c, ve_slice_t *k, ve_slice_t *v) {
  VE_ASSERT(k && v);
  if (c->t->err) return c->t->err;
  return 0;
}

int store_cursor_seek(store_cursor_t *c, ve_slice_t key, ve_slice_t *key_out, ve_slice_t *val_out) {
  VE_ASSERT(c);
  VE_TRY(cur_ready(c, key_out, val_out));
  if (key.len > STORE_KEY_BYTES_MAX || (key.len > 0 && !key.ptr)) {
    return cur_land(c, VE_ERR_INVALID, CUR_UNSET, key_out, val_out);
  }
  const store_ops_t *ops = c->t->s->ops;
  return cur_land(c, ops->cursor_seek(c->impl, key, key_out, val_out), CUR_AFTER_END, key_out,
                  val_out);
}

int store_cursor_last(store_cursor_t *c, ve_slice_t *key_out, ve_slice_t *val_out) {
  VE_ASSERT(c);
  VE_TRY(cur_ready(c, key_out, val_out));
  const store_ops_t *ops = c->t->s->ops;
  return cur_land(c, ops->cursor_last(c->impl, key_out, val_out), CUR_AFTER_END, key_out,
                  val_out);
}

static bool cur_stale(const store_cursor_t *c) { return c->gen != c->t->gen[c->table]; }

int store_cursor_next(store_cursor_t *c, ve_slice_t *key_out, ve_slice_t *val_out) {
  VE_ASSERT(c);
  VE_TRY(cur_ready(c, key_out, val_out));
  const store_ops_t *ops = c->t->s->ops;
  int rc;
  switch (c->pos) {
  case CUR_AFTER_END:
    *key_out = *val_out = ve_slice(NULL, 0);
    return VE_ERR_NOT_FOUND;
  case CUR_UNSET:
  case CUR_BEFORE_BEGIN:
    rc = ops->cursor_seek(c->impl, ve_slice(NULL, 0), key_out, val_out);
    break;
  case CUR_AT:
  default:
    if (!cur_stale(c)) {
      rc = ops->cursor_next(c->impl, key_out, val_out);
      break;
    }
    /* Written since: find the old key again, then step past it if it is there. */
    rc = ops->cursor_seek(c->impl, ve_slice(c->key, c->key_len), key_out, val_out);
    if (rc == 0 && ve_slice_eq(*key_out, ve_slice(c->key, c->key_len))) {
      rc = ops->cursor_next(c->impl, key_out, val_out);
    }
    break;
  }
  return cur_land(c, rc, CUR_AFTER_END, key_out, val_out);
}

int store_cursor_prev(store_cursor_t *c, ve_slice_t *key_out, ve_slice_t *val_out) {
  VE_ASSERT(c);
  VE_TRY(cur_ready(c, key_out, val_out));
  const store_ops_t *ops = c->t->s->ops;
  int rc;
  switch (c->pos) {
  case CUR_BEFORE_BEGIN:
    *key_out = *val_out = ve_slice(NULL, 0);
    return VE_ERR_NOT_FOUND;
  case CUR_UNSET:
  case CUR_AFTER_END:
    rc = ops->cursor_last(c->impl, key_out, val_out);
    break;
  case CUR_AT:
  default:
    if (!cur_stale(c)) {
      rc = ops->cursor_prev(c->impl, key_out, val_out);
      break;
    }
    /* Written since: land on the first key >= the old one and step back from
     * it; if every key is smaller, the answer is the last one. */
    rc = ops->cursor_seek(c->impl, ve_slice(c->key, c->key_len), key_out, val_out);
    if (rc == 0) {
      rc = ops->cursor_prev(c->impl, key_out, val_out);
    } else if (rc == VE_ERR_NOT_FOUND) {
      rc = ops->cursor_last(c->impl, key_out, val_out);
    }
    break;
  }
  return cur_land(c, rc, CUR_BEFORE_BEGIN, key_out, val_out);
}
