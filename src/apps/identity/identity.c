/* identity.c — validation and state transitions of identity transactions.
 * See identity.h for the status machine and its invariants. */
#include "apps/identity/identity.h"

#include <pthread.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "state/state.h"

#define PAYLOAD_VERSION 1
#define RECORD_VERSION 1
#define KEY_ACTIVE 0
#define KEY_RETIRED 1

void identity_id_from_pk(uint8_t id[LEDGER_HASH_BYTES], const uint8_t pk[VCRYPTO_PK_BYTES]) {
  vcrypto_hash(id, IDENTITY_TAG_ID, pk, VCRYPTO_PK_BYTES);
}

const char *identity_status_name(identity_status_t s) {
  switch (s) {
    case IDENTITY_ACTIVE: return "active";
    case IDENTITY_SUSPENDED: return "suspended";
    case IDENTITY_REVOKED: return "revoked";
  }
  return "unknown";
}

size_t identity_state_key(uint8_t out[3 + LEDGER_HASH_BYTES], const uint8_t id[LEDGER_HASH_BYTES]) {
  memcpy(out, "id/", 3);
  memcpy(out + 3, id, LEDGER_HASH_BYTES);
  return 3 + LEDGER_HASH_BYTES;
}

static size_t key_state_key(uint8_t out[4 + VCRYPTO_PK_BYTES], const uint8_t pk[VCRYPTO_PK_BYTES]) {
  memcpy(out, "idk/", 4);
  memcpy(out + 4, pk, VCRYPTO_PK_BYTES);
  return 4 + VCRYPTO_PK_BYTES;
}

/* ---- memo of curve checks that passed ----
 *
 * A registration's new key is checked for the prime-order subgroup (a scalar
 * multiplication, ~35 us) when the mempool dry-runs the transaction and again
 * when its block executes it; a rotation's new key and proof signature likewise.
 * Each result is a pure function of its inputs, so remembering the checks that
 * passed changes no outcome, only where the work is done: on the mempool's
 * admission threads, or for blocks that did not come through this node's
 * mempool (catch-up, other validators' proposals) on the node's verification
 * threads through the precheck hook (identity_precheck), in parallel, instead
 * of on the one thread that executes blocks. vcrypto_pk_valid has a small direct-mapped memo
 * of its own, which a mempool backlog of a few thousand keys flushes before the
 * block executes; this one remembers exactly the last MEMO_KEYS passes (FIFO),
 * more than a default mempool holds. Failures are not remembered (recomputed,
 * and they fail again). Entries are 32 bytes: a key itself, or for a rotation
 * proof H(MEMO_TAG_ROTATE, pk || sig || message). Thread-safe (one mutex). */
#ifndef IDENTITY_MEMO_KEYS         /* a test builds this file with a small memo */
#define IDENTITY_MEMO_KEYS (1u << 18)
#endif
#define MEMO_KEYS IDENTITY_MEMO_KEYS   /* entries remembered, a power of two */
#define MEMO_SLOTS (2 * MEMO_KEYS) /* hash index with load factor <= 1/2 */
#define MEMO_TAG_ROTATE "veche/identity/memo-rotate"

typedef struct {
  pthread_mutex_t lock;
  uint8_t (*ring)[32]; /* entries in insertion order; slot n % MEMO_KEYS */
  uint32_t *index;     /* linear probing: ring position + 1, 0 = empty */
  uint64_t n;          /* entries ever inserted */
} memo_t;

static uint8_t g_pk_ring[MEMO_KEYS][32], g_rot_ring[MEMO_KEYS][32];
static uint32_t g_pk_index[MEMO_SLOTS], g_rot_index[MEMO_SLOTS];
static memo_t g_pk_memo = {PTHREAD_MUTEX_INITIALIZER, g_pk_ring, g_pk_index, 0};
static memo_t g_rot_memo = {PTHREAD_MUTEX_INITIALIZER, g_rot_ring, g_rot_index, 0};

/* Entries are keys or hashes; a crafted key that collides only costs a probe. */
static size_t memo_home(const uint8_t e[32]) {
  uint64_t x;
  memcpy(&x, e + 8, sizeof x);
  return (size_t)((x * 0x9e3779b97f4a7c15ull) >> 32) & (MEMO_SLOTS - 1);
}

/* Slot of e in the index, or of the empty slot where it would go. */
static size_t memo_slot(const memo_t *m, const uint8_t e[32]) {
  size_t i = memo_home(e);
  while (m->index[i] && memcmp(m->ring[m->index[i] - 1], e, 32) != 0) i = (i + 1) & (MEMO_SLOTS - 1);
  return i;
}

static bool memo_has(memo_t *m, const uint8_t e[32]) {
  VE_ASSERT(pthread_mutex_lock(&m->lock) == 0);
  bool has = m->index[memo_slot(m, e)] != 0;
  VE_ASSERT(pthread_mutex_unlock(&m->lock) == 0);
  return has;
}

/* Removes the entry at index slot i, shifting later entries of its probe run
 * back so that every entry stays reachable from its home slot. */
static void memo_unindex(memo_t *m, size_t i) {
  const size_t mask = MEMO_SLOTS - 1;
  for (size_t j = (i + 1) & mask; m->index[j]; j = (j + 1) & mask) {
    size_t home = memo_home(m->ring[m->index[j] - 1]);
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    m->index[i] = m->index[j];
    i = j;
  }
  m->index[i] = 0;
}

static void memo_put(memo_t *m, const uint8_t e[32]) {
  VE_ASSERT(pthread_mutex_lock(&m->lock) == 0);
  size_t slot = memo_slot(m, e);
  if (!m->index[slot]) {
    size_t pos = (size_t)(m->n % MEMO_KEYS);
    if (m->n >= MEMO_KEYS) memo_unindex(m, memo_slot(m, m->ring[pos])); /* the oldest goes */
    memcpy(m->ring[pos], e, 32);
    m->index[memo_slot(m, e)] = (uint32_t)pos + 1;
    m->n++;
  }
  VE_ASSERT(pthread_mutex_unlock(&m->lock) == 0);
}

/* vcrypto_pk_valid, remembered. */
static bool pk_valid(const uint8_t pk[VCRYPTO_PK_BYTES]) {
  if (memo_has(&g_pk_memo, pk)) return true;
  if (!vcrypto_pk_valid(pk)) return false;
  memo_put(&g_pk_memo, pk);
  return true;
}

/* vcrypto_verify under IDENTITY_TAG_ROTATE, remembered. */
static int rotate_verify(const uint8_t sig[VCRYPTO_SIG_BYTES], const uint8_t pk[VCRYPTO_PK_BYTES],
                         const uint8_t *msg, size_t len) {
  vcrypto_hasher_t h;
  uint8_t e[32];
  vcrypto_hasher_init(&h, MEMO_TAG_ROTATE);
  vcrypto_hasher_update(&h, pk, VCRYPTO_PK_BYTES);
  vcrypto_hasher_update(&h, sig, VCRYPTO_SIG_BYTES);
  vcrypto_hasher_update(&h, msg, len);
  vcrypto_hasher_final(&h, e);
  if (memo_has(&g_rot_memo, e)) return VE_OK;
  VE_TRY(vcrypto_verify(sig, pk, IDENTITY_TAG_ROTATE, msg, len));
  memo_put(&g_rot_memo, e);
  return VE_OK;
}

/* ---- attributes: keys [a-z0-9_], values printable ASCII, sorted unique ---- */

static bool attr_key_ok(ve_slice_t k) {
  if (k.len == 0) return false;
  for (size_t i = 0; i < k.len; i++) {
    uint8_t c = k.ptr[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

static bool attr_value_ok(ve_slice_t v) {
  for (size_t i = 0; i < v.len; i++)
    if (v.ptr[i] < 0x20 || v.ptr[i] > 0x7e) return false;
  return true;
}

static void put_attrs(codec_writer_t *w, const identity_attr_t *attrs, size_t n) {
  codec_put_uvarint(w, n);
  for (size_t i = 0; i < n; i++) {
    codec_put_bytes(w, (const uint8_t *)attrs[i].key, strlen(attrs[i].key), IDENTITY_ATTR_KEY_BYTES_MAX);
    codec_put_bytes(w, (const uint8_t *)attrs[i].value, strlen(attrs[i].value),
                    IDENTITY_ATTR_VALUE_BYTES_MAX);
  }
}

static void get_attrs(codec_reader_t *r, identity_attr_t *attrs, size_t *n_out) {
  size_t n = codec_get_count(r, IDENTITY_ATTRS_MAX, 2);
  for (size_t i = 0; i < n && !r->err; i++) {
    ve_slice_t k = codec_get_bytes(r, IDENTITY_ATTR_KEY_BYTES_MAX);
    ve_slice_t v = codec_get_bytes(r, IDENTITY_ATTR_VALUE_BYTES_MAX);
    if (r->err) break;
    if (!attr_key_ok(k) || !attr_value_ok(v)) codec_fail(r, VE_ERR_MALFORMED);
    memset(&attrs[i], 0, sizeof attrs[i]);
    if (r->err) break;
    memcpy(attrs[i].key, k.ptr, k.len);
    memcpy(attrs[i].value, v.ptr, v.len);
    /* Canonical: strictly increasing keys, so one attribute set has one encoding. */
    if (i > 0 && strcmp(attrs[i - 1].key, attrs[i].key) >= 0) codec_fail(r, VE_ERR_NONCANONICAL);
  }
  *n_out = r->err ? 0 : n;
}

/* ---- records ---- */

int identity_encode(const identity_t *id, ve_buf_t *out) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, RECORD_VERSION);
  codec_put_fixed(&w, id->pk, VCRYPTO_PK_BYTES);
  codec_put_fixed(&w, id->attr_digest, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, id->roles);
  codec_put_u8(&w, (uint8_t)id->status);
  codec_put_fixed(&w, id->registrar, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, id->registered_height);
  codec_put_uvarint(&w, id->updated_height);
  codec_put_uvarint(&w, id->key_version);
  put_attrs(&w, id->attrs, id->n_attrs);
  return codec_writer_finish(&w);
}

int identity_decode(ve_slice_t in, const uint8_t id[LEDGER_HASH_BYTES], identity_t *out) {
  memset(out, 0, sizeof *out);
  memcpy(out->id, id, LEDGER_HASH_BYTES);
  codec_reader_t r;
  codec_reader_init(&r, in);
  if (codec_get_u8(&r) != RECORD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  codec_get_fixed(&r, out->pk, VCRYPTO_PK_BYTES);
  codec_get_fixed(&r, out->attr_digest, LEDGER_HASH_BYTES);
  out->roles = (uint32_t)codec_get_uvarint_max(&r, ROLE_ALL_MASK);
  uint8_t st = codec_get_u8(&r);
  if (st > IDENTITY_REVOKED) codec_fail(&r, VE_ERR_MALFORMED);
  out->status = (identity_status_t)st;
  codec_get_fixed(&r, out->registrar, LEDGER_HASH_BYTES);
  out->registered_height = codec_get_uvarint(&r);
  out->updated_height = codec_get_uvarint(&r);
  out->key_version = (uint32_t)codec_get_uvarint_max(&r, UINT32_MAX);
  get_attrs(&r, out->attrs, &out->n_attrs);
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

/* Records read through a ledger_reader_t: the block's overlay or a store txn. */
static int load(const ledger_reader_t *rd, const uint8_t id[LEDGER_HASH_BYTES], identity_t *out) {
  uint8_t key[3 + LEDGER_HASH_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(key, identity_state_key(key, id)), &v));
  return identity_decode(v, id, out);
}

/* Key record: u8 state (active/retired) || fixed32 identity id. */
static int load_key(const ledger_reader_t *rd, const uint8_t pk[VCRYPTO_PK_BYTES],
                    uint8_t id[LEDGER_HASH_BYTES], bool *active) {
  uint8_t key[4 + VCRYPTO_PK_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(key, key_state_key(key, pk)), &v));
  if (v.len != 1 + LEDGER_HASH_BYTES || v.ptr[0] > KEY_RETIRED) return VE_ERR_CORRUPT;
  memcpy(id, v.ptr + 1, LEDGER_HASH_BYTES);
  *active = v.ptr[0] == KEY_ACTIVE;
  return VE_OK;
}

static int store_record(ledger_exec_t *ex, const identity_t *id) {
  uint8_t mem[1024];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(identity_encode(id, &b));
  uint8_t key[3 + LEDGER_HASH_BYTES];
  return ledger_state_put(ex, ve_slice(key, identity_state_key(key, id->id)), ve_slice(mem, b.len));
}

static int store_key(ledger_exec_t *ex, const uint8_t pk[VCRYPTO_PK_BYTES],
                     const uint8_t id[LEDGER_HASH_BYTES], uint8_t state) {
  uint8_t key[4 + VCRYPTO_PK_BYTES], val[1 + LEDGER_HASH_BYTES];
  val[0] = state;
  memcpy(val + 1, id, LEDGER_HASH_BYTES);
  return ledger_state_put(ex, ve_slice(key, key_state_key(key, pk)), ve_slice(val, sizeof val));
}

int identity_get(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], identity_t *out) {
  ledger_reader_t rd = {NULL, t};
  return load(&rd, id, out);
}

int identity_get_by_key(store_txn_t *t, const uint8_t pk[VCRYPTO_PK_BYTES], identity_t *out,
                        bool *current) {
  ledger_reader_t rd = {NULL, t};
  uint8_t id[LEDGER_HASH_BYTES];
  VE_TRY(load_key(&rd, pk, id, current));
  return load(&rd, id, out);
}

/* ---- authoriser ---- */

static int auth_resolve(ledger_exec_t *ex, const uint8_t pk[VCRYPTO_PK_BYTES], ledger_signer_t *out) {
  ledger_reader_t rd = {ex, NULL};
  uint8_t id[LEDGER_HASH_BYTES];
  bool active;
  int rc = load_key(&rd, pk, id, &active);
  if (rc == VE_ERR_NOT_FOUND) return VE_ERR_UNKNOWN_SIGNER;
  VE_TRY(rc);
  if (!active) return VE_ERR_REVOKED; /* a rotated-away key signs nothing */
  identity_t rec;
  VE_TRY(load(&rd, id, &rec));
  if (rec.status == IDENTITY_REVOKED) return VE_ERR_REVOKED;
  if (rec.status == IDENTITY_SUSPENDED) return VE_ERR_SUSPENDED;
  memcpy(out->identity_id, id, LEDGER_HASH_BYTES);
  out->roles = rec.roles;
  out->last_seq = 0;
  return VE_OK;
}

const ledger_auth_t identity_auth = {auth_resolve};

/* ---- transactions ---- */

static int apply_register(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s) {
  identity_t rec;
  memset(&rec, 0, sizeof rec);
  codec_get_fixed(r, rec.pk, VCRYPTO_PK_BYTES);
  codec_get_fixed(r, rec.attr_digest, LEDGER_HASH_BYTES);
  get_attrs(r, rec.attrs, &rec.n_attrs);
  VE_TRY(codec_reader_finish(r));
  if (!(s->roles & ROLE_REGISTRAR)) return VE_ERR_PERMISSION;
  if (!pk_valid(rec.pk)) return VE_ERR_BAD_KEY;
  ledger_reader_t rd = {ex, NULL};
  uint8_t other[LEDGER_HASH_BYTES];
  bool active;
  int rc = load_key(&rd, rec.pk, other, &active);
  if (rc == VE_OK) return VE_ERR_EXISTS; /* keys are never reused, even retired ones */
  if (rc != VE_ERR_NOT_FOUND) return rc;
  identity_id_from_pk(rec.id, rec.pk);
  rec.status = IDENTITY_ACTIVE;
  memcpy(rec.registrar, s->identity_id, LEDGER_HASH_BYTES);
  rec.registered_height = rec.updated_height = ledger_exec_height(ex);
  VE_TRY(store_record(ex, &rec));
  return store_key(ex, rec.pk, rec.id, KEY_ACTIVE);
}

static void rotate_message(uint8_t *msg, size_t *len, ve_slice_t chain_id,
                           const uint8_t id[LEDGER_HASH_BYTES], const uint8_t new_pk[VCRYPTO_PK_BYTES]) {
  size_t n = 0;
  msg[n++] = (uint8_t)chain_id.len;
  memcpy(msg + n, chain_id.ptr, chain_id.len);
  n += chain_id.len;
  memcpy(msg + n, id, LEDGER_HASH_BYTES);
  n += LEDGER_HASH_BYTES;
  memcpy(msg + n, new_pk, VCRYPTO_PK_BYTES);
  *len = n + VCRYPTO_PK_BYTES;
}

#define ROTATE_MSG_BYTES_MAX (1 + VE_CHAIN_ID_BYTES_MAX + LEDGER_HASH_BYTES + VCRYPTO_PK_BYTES)

static int apply_rotate(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s) {
  uint8_t new_pk[VCRYPTO_PK_BYTES], proof[VCRYPTO_SIG_BYTES];
  codec_get_fixed(r, new_pk, sizeof new_pk);
  codec_get_fixed(r, proof, sizeof proof);
  VE_TRY(codec_reader_finish(r));
  if (!pk_valid(new_pk)) return VE_ERR_BAD_KEY;
  uint8_t msg[ROTATE_MSG_BYTES_MAX];
  size_t len;
  rotate_message(msg, &len, ledger_exec_chain_id(ex), s->identity_id, new_pk);
  if (rotate_verify(proof, new_pk, msg, len) != VE_OK) return VE_ERR_BAD_SIG;
  ledger_reader_t rd = {ex, NULL};
  uint8_t other[LEDGER_HASH_BYTES];
  bool active;
  int rc = load_key(&rd, new_pk, other, &active);
  if (rc == VE_OK) return VE_ERR_EXISTS;
  if (rc != VE_ERR_NOT_FOUND) return rc;
  identity_t rec;
  VE_TRY(load(&rd, s->identity_id, &rec));
  VE_TRY(store_key(ex, rec.pk, rec.id, KEY_RETIRED));
  memcpy(rec.pk, new_pk, VCRYPTO_PK_BYTES);
  rec.key_version++;
  rec.updated_height = ledger_exec_height(ex);
  VE_TRY(store_record(ex, &rec));
  return store_key(ex, new_pk, rec.id, KEY_ACTIVE);
}

/* Who may change another identity's status: ADMINs anyone's; REGISTRARs only
 * role-less (citizen) identities, so no single registrar can switch off an
 * authority. */
static bool may_manage(const ledger_signer_t *s, const identity_t *target) {
  if (s->roles & ROLE_ADMIN) return true;
  return (s->roles & ROLE_REGISTRAR) && target->roles == 0;
}

static int apply_status(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s, uint32_t type) {
  uint8_t target[LEDGER_HASH_BYTES];
  codec_get_fixed(r, target, sizeof target);
  ve_slice_t reason = codec_get_bytes(r, IDENTITY_REASON_BYTES_MAX);
  VE_TRY(codec_reader_finish(r));
  (void)reason; /* recorded in the transaction itself; the index serves it */
  ledger_reader_t rd = {ex, NULL};
  identity_t rec;
  VE_TRY(load(&rd, target, &rec));
  if (!may_manage(s, &rec)) return VE_ERR_PERMISSION;
  switch (type) {
    case TX_TYPE_IDENTITY_SUSPEND:
      if (rec.status != IDENTITY_ACTIVE) return VE_ERR_STATE;
      rec.status = IDENTITY_SUSPENDED;
      break;
    case TX_TYPE_IDENTITY_RESTORE:
      if (rec.status != IDENTITY_SUSPENDED) return VE_ERR_STATE;
      rec.status = IDENTITY_ACTIVE;
      break;
    default: /* revoke */
      if (rec.status == IDENTITY_REVOKED) return VE_ERR_STATE;
      rec.status = IDENTITY_REVOKED;
      break;
  }
  rec.updated_height = ledger_exec_height(ex);
  return store_record(ex, &rec);
}

static int apply_set_roles(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s) {
  uint8_t target[LEDGER_HASH_BYTES];
  codec_get_fixed(r, target, sizeof target);
  uint32_t roles = (uint32_t)codec_get_uvarint_max(r, ROLE_ALL_MASK);
  VE_TRY(codec_reader_finish(r));
  if (!(s->roles & ROLE_ADMIN)) return VE_ERR_PERMISSION;
  ledger_reader_t rd = {ex, NULL};
  identity_t rec;
  VE_TRY(load(&rd, target, &rec));
  if (rec.status != IDENTITY_ACTIVE) return VE_ERR_STATE;
  rec.roles = roles;
  rec.updated_height = ledger_exec_height(ex);
  return store_record(ex, &rec);
}

static int identity_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  codec_reader_t r;
  codec_reader_init(&r, tx->payload);
  if (codec_get_u8(&r) != PAYLOAD_VERSION) return r.err ? r.err : VE_ERR_VERSION;
  switch (tx->type) {
    case TX_TYPE_IDENTITY_REGISTER: return apply_register(ex, &r, s);
    case TX_TYPE_IDENTITY_ROTATE_KEY: return apply_rotate(ex, &r, s);
    case TX_TYPE_IDENTITY_SUSPEND:
    case TX_TYPE_IDENTITY_RESTORE:
    case TX_TYPE_IDENTITY_REVOKE: return apply_status(ex, &r, s, tx->type);
    case TX_TYPE_IDENTITY_SET_ROLES: return apply_set_roles(ex, &r, s);
  }
  return VE_ERR_UNKNOWN_TYPE;
}

/* The ledger's precheck hook: the curve checks apply_register and apply_rotate
 * will make, done ahead (on the node's verification threads) so that they find
 * their result in the memos above. Only passes are remembered, so a check made
 * here on a payload that apply later refuses for another reason changes
 * nothing. A rotation's proof names the signer's identity, which needs state
 * to know for sure; it is guessed as the identity whose first key signs (true
 * unless that identity rotated before). A wrong guess fails the check, which is
 * then not remembered, and apply checks the proof itself. */
static void identity_precheck(const ledger_tx_t *tx) {
  codec_reader_t r;
  codec_reader_init(&r, tx->payload);
  if (codec_get_u8(&r) != PAYLOAD_VERSION || r.err) return;
  uint8_t pk[VCRYPTO_PK_BYTES], proof[VCRYPTO_SIG_BYTES], signer_id[LEDGER_HASH_BYTES];
  switch (tx->type) {
    case TX_TYPE_IDENTITY_REGISTER:
      codec_get_fixed(&r, pk, sizeof pk);
      if (!r.err) (void)pk_valid(pk);
      return;
    case TX_TYPE_IDENTITY_ROTATE_KEY: {
      codec_get_fixed(&r, pk, sizeof pk);
      codec_get_fixed(&r, proof, sizeof proof);
      if (r.err || tx->chain_id.len > VE_CHAIN_ID_BYTES_MAX || !pk_valid(pk)) return;
      identity_id_from_pk(signer_id, tx->signer);
      uint8_t msg[ROTATE_MSG_BYTES_MAX];
      size_t len;
      rotate_message(msg, &len, tx->chain_id, signer_id, pk);
      (void)rotate_verify(proof, pk, msg, len);
      return;
    }
  }
}

static int genesis_identity(ledger_exec_t *ex, const uint8_t pk[VCRYPTO_PK_BYTES], uint32_t roles,
                            const char *name) {
  identity_t rec;
  memset(&rec, 0, sizeof rec);
  memcpy(rec.pk, pk, VCRYPTO_PK_BYTES);
  identity_id_from_pk(rec.id, rec.pk);
  rec.roles = roles;
  /* The name is public; its digest stands in for off-chain data. */
  vcrypto_hash(rec.attr_digest, "veche/identity/genesis-name", (const uint8_t *)name, strlen(name));
  VE_TRY(store_record(ex, &rec));
  return store_key(ex, rec.pk, rec.id, KEY_ACTIVE);
}

/* Authorities with their roles; validators (unless also authorities) as role-less
 * identities, so a validator's node can sign the few transactions it must send
 * (equivocation evidence) and nothing that needs a role. */
static int identity_genesis(ledger_exec_t *ex, const ledger_genesis_t *g) {
  for (size_t i = 0; i < g->n_authorities; i++)
    VE_TRY(genesis_identity(ex, g->authorities[i].pk, g->authorities[i].roles, g->authorities[i].name));
  for (size_t i = 0; i < g->n_validators; i++) {
    bool is_authority = false;
    for (size_t j = 0; j < g->n_authorities; j++)
      if (!memcmp(g->authorities[j].pk, g->validators[i].pk, VCRYPTO_PK_BYTES)) is_authority = true;
    if (!is_authority) VE_TRY(genesis_identity(ex, g->validators[i].pk, 0, g->validators[i].name));
  }
  return VE_OK;
}

const ledger_app_t identity_app = {
    .name = "identity",
    .type_lo = 0x0100,
    .type_hi = 0x01ff,
    .apply = identity_apply,
    .genesis = identity_genesis,
    .precheck = identity_precheck,
};

/* ---- payload builders ---- */

int identity_payload_register(ve_buf_t *out, const uint8_t pk[VCRYPTO_PK_BYTES],
                              const uint8_t attr_digest[LEDGER_HASH_BYTES],
                              const identity_attr_t *attrs, size_t n_attrs) {
  if (n_attrs > IDENTITY_ATTRS_MAX) return VE_ERR_LIMIT;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, PAYLOAD_VERSION);
  codec_put_fixed(&w, pk, VCRYPTO_PK_BYTES);
  codec_put_fixed(&w, attr_digest, LEDGER_HASH_BYTES);
  put_attrs(&w, attrs, n_attrs);
  return codec_writer_finish(&w);
}

int identity_payload_rotate(ve_buf_t *out, ve_slice_t chain_id, const uint8_t id[LEDGER_HASH_BYTES],
                            const vcrypto_keypair_t *new_kp) {
  if (chain_id.len > VE_CHAIN_ID_BYTES_MAX) return VE_ERR_INVALID;
  uint8_t msg[ROTATE_MSG_BYTES_MAX], sig[VCRYPTO_SIG_BYTES];
  size_t len;
  rotate_message(msg, &len, chain_id, id, new_kp->pk);
  vcrypto_sign(sig, new_kp, IDENTITY_TAG_ROTATE, msg, len);
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, PAYLOAD_VERSION);
  codec_put_fixed(&w, new_kp->pk, VCRYPTO_PK_BYTES);
  codec_put_fixed(&w, sig, sizeof sig);
  return codec_writer_finish(&w);
}

int identity_payload_status(ve_buf_t *out, const uint8_t target[LEDGER_HASH_BYTES], const char *reason) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, PAYLOAD_VERSION);
  codec_put_fixed(&w, target, LEDGER_HASH_BYTES);
  codec_put_bytes(&w, (const uint8_t *)reason, strlen(reason), IDENTITY_REASON_BYTES_MAX);
  return codec_writer_finish(&w);
}

int identity_payload_set_roles(ve_buf_t *out, const uint8_t target[LEDGER_HASH_BYTES], uint32_t roles) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, PAYLOAD_VERSION);
  codec_put_fixed(&w, target, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, roles);
  return codec_writer_finish(&w);
}
