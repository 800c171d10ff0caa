/* valset.c — see valset.h. The layouts are specified in docs/encoding.md
 * ("Validator-set changes"). */
#include "apps/valset/valset.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

#define VALSET_VERSION 1 /* of the payload, the meta value and the epoch records */
/* An epoch record: version, from_height, then the set as a bytes field. */

_Static_assert(sizeof VALSET_EPOCH_PREFIX - 1 + 8 == VALSET_EPOCH_KEY_BYTES, "epoch key layout");
_Static_assert(VE_CHAIN_ID_BYTES_MAX <= 255, "the approval message's chain id length is a u8");
/* The approvers' power is summed and tripled in 64 bits: every set's total,
 * times 3, must fit. */
_Static_assert((uint64_t)VE_VALIDATORS_MAX * CONS_POWER_MAX <= UINT64_MAX / 3, "power sums overflow");

/* ---- keys and records ---- */

size_t valset_epoch_key(uint8_t out[VALSET_EPOCH_KEY_BYTES], uint64_t epoch) {
  memcpy(out, VALSET_EPOCH_PREFIX, sizeof VALSET_EPOCH_PREFIX - 1);
  ve_be64_put(out + sizeof VALSET_EPOCH_PREFIX - 1, epoch);
  return VALSET_EPOCH_KEY_BYTES;
}

/* Appends set as a bytes field holding the set's own encoding: a verifier
 * hashes the field's bytes as they are to get cons_valset_hash. */
static int put_set(codec_writer_t *w, const cons_valset_t *set) {
  uint8_t mem[CONS_VALSET_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(cons_valset_encode(&b, set));
  codec_put_bytes(w, b.ptr, b.len, CONS_VALSET_BYTES_MAX);
  return VE_OK;
}

static void get_set(codec_reader_t *r, cons_valset_t *set) {
  ve_slice_t s = codec_get_bytes(r, CONS_VALSET_BYTES_MAX);
  if (r->err) return;
  int rc = cons_valset_decode(set, s);
  if (rc) codec_fail(r, rc);
}

int valset_meta_encode(ve_buf_t *out, const valset_meta_t *m) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, VALSET_VERSION);
  codec_put_uvarint(&w, m->epoch);
  codec_put_uvarint(&w, m->from_height);
  return codec_writer_finish(&w);
}

int valset_meta_decode(ve_slice_t in, valset_meta_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, in);
  if (codec_get_u8(&r) != VALSET_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->epoch = codec_get_uvarint(&r);
  out->from_height = codec_get_uvarint(&r);
  return codec_reader_finish(&r);
}

int valset_record_encode(ve_buf_t *out, uint64_t from_height, const cons_valset_t *set) {
  VE_TRY(cons_valset_check(set)); /* nothing is appended for a set put_set would refuse */
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, VALSET_VERSION);
  codec_put_uvarint(&w, from_height);
  VE_TRY(put_set(&w, set));
  return codec_writer_finish(&w);
}

int valset_record_decode(ve_slice_t in, uint64_t *from_height, cons_valset_t *set) {
  codec_reader_t r;
  codec_reader_init(&r, in);
  memset(set, 0, sizeof *set);
  if (codec_get_u8(&r) != VALSET_VERSION) codec_fail(&r, VE_ERR_VERSION);
  *from_height = codec_get_uvarint(&r);
  get_set(&r, set);
  return codec_reader_finish(&r);
}

/* ---- the change transaction ---- */

static size_t approval_msg(uint8_t *out, ve_slice_t chain_id, uint64_t next_epoch,
                           const uint8_t cur_hash[VCRYPTO_HASH_BYTES], const uint8_t new_hash[VCRYPTO_HASH_BYTES]) {
  VE_ASSERT(chain_id.len <= VE_CHAIN_ID_BYTES_MAX);
  size_t n = 0;
  out[n++] = (uint8_t)chain_id.len;
  memcpy(out + n, chain_id.ptr, chain_id.len);
  n += chain_id.len;
  ve_be64_put(out + n, next_epoch);
  n += 8;
  memcpy(out + n, cur_hash, VCRYPTO_HASH_BYTES);
  n += VCRYPTO_HASH_BYTES;
  memcpy(out + n, new_hash, VCRYPTO_HASH_BYTES);
  n += VCRYPTO_HASH_BYTES;
  VE_ASSERT(n <= VALSET_APPROVAL_MSG_BYTES_MAX);
  return n;
}

size_t valset_approval_msg(uint8_t *out, const char *chain_id, uint64_t next_epoch,
                           const uint8_t cur_hash[VCRYPTO_HASH_BYTES], const uint8_t new_hash[VCRYPTO_HASH_BYTES]) {
  return approval_msg(out, ve_slice(chain_id, strlen(chain_id)), next_epoch, cur_hash, new_hash);
}

void valset_approval_sign(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp, const char *chain_id,
                          uint64_t next_epoch, const cons_valset_t *cur, const cons_valset_t *next) {
  uint8_t hc[VCRYPTO_HASH_BYTES], hn[VCRYPTO_HASH_BYTES], msg[VALSET_APPROVAL_MSG_BYTES_MAX];
  cons_valset_hash(hc, cur);
  cons_valset_hash(hn, next);
  size_t n = valset_approval_msg(msg, chain_id, next_epoch, hc, hn);
  vcrypto_sign(sig, kp, VALSET_TAG_APPROVAL, msg, n);
}

int valset_approvals_put(codec_writer_t *w, const valset_approval_t *a, uint32_t n) {
  /* Refuse what the reader would, rather than write bytes nobody accepts. */
  if (n == 0 || n > VE_VALIDATORS_MAX) return VE_ERR_INVALID;
  for (uint32_t i = 0; i < n; i++) {
    if (a[i].index >= VE_VALIDATORS_MAX) return VE_ERR_INVALID;
    if (i > 0 && a[i - 1].index >= a[i].index) return VE_ERR_INVALID;
  }
  codec_put_uvarint(w, n);
  for (uint32_t i = 0; i < n; i++) {
    codec_put_uvarint(w, a[i].index);
    codec_put_fixed(w, a[i].sig, VCRYPTO_SIG_BYTES);
  }
  return VE_OK;
}

void valset_approvals_get(codec_reader_t *r, valset_approval_t *out, uint32_t *n_out) {
  *n_out = 0;
  size_t n = codec_get_count(r, VE_VALIDATORS_MAX, 1 + VCRYPTO_SIG_BYTES);
  if (!r->err && n == 0) codec_fail(r, VE_ERR_INVALID);
  for (size_t i = 0; i < n && !r->err; i++) {
    valset_approval_t *a = &out[i];
    a->index = (uint32_t)codec_get_uvarint_max(r, VE_VALIDATORS_MAX - 1);
    /* Sorted and unique: one set of approvals has one encoding, and no
     * validator's power is counted twice. */
    if (!r->err && i > 0 && out[i - 1].index >= a->index) codec_fail(r, VE_ERR_NONCANONICAL);
    codec_get_fixed(r, a->sig, VCRYPTO_SIG_BYTES);
  }
  if (!r->err) *n_out = (uint32_t)n;
}

int valset_change_encode(ve_buf_t *out, const valset_change_t *c) {
  VE_TRY(cons_valset_check(&c->set));
  size_t mark = out->len; /* a refused change appends nothing */
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, VALSET_VERSION);
  int rc = put_set(&w, &c->set);
  if (rc == VE_OK) rc = valset_approvals_put(&w, c->approvals, c->n_approvals);
  if (rc == VE_OK) return codec_writer_finish(&w);
  out->len = mark;
  return rc;
}

int valset_change_decode(ve_slice_t payload, valset_change_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, payload);
  if (codec_get_u8(&r) != VALSET_VERSION) codec_fail(&r, VE_ERR_VERSION);
  get_set(&r, &out->set);
  valset_approvals_get(&r, out->approvals, &out->n_approvals);
  int rc = codec_reader_finish(&r);
  if (rc) out->n_approvals = 0;
  return rc;
}

/* ---- reading the sets, from a block's overlay or a store transaction ---- */

static int meta_read(const ledger_reader_t *rd, valset_meta_t *out) {
  ve_slice_t v;
  int rc = ledger_reader_get(rd, ve_slice(VALSET_META_KEY, strlen(VALSET_META_KEY)), &v);
  if (rc == VE_ERR_NOT_FOUND) {
    *out = (valset_meta_t){.epoch = 0, .from_height = 1};
    return VE_OK;
  }
  VE_TRY(rc);
  return valset_meta_decode(v, out) ? VE_ERR_CORRUPT : VE_OK;
}

/* VE_ERR_NOT_FOUND on a chain whose registry never ran valset_app's genesis. */
static int latest_read(const ledger_reader_t *rd, cons_valset_t *out) {
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(VALSET_KEY, strlen(VALSET_KEY)), &v));
  return cons_valset_decode(out, v) ? VE_ERR_CORRUPT : VE_OK;
}

/* Record k for k below the meta's epoch: missing is as corrupt as undecodable. */
static int record_read(const ledger_reader_t *rd, uint64_t k, uint64_t *from_height, cons_valset_t *set) {
  uint8_t key[VALSET_EPOCH_KEY_BYTES];
  ve_slice_t v;
  int rc = ledger_reader_get(rd, ve_slice(key, valset_epoch_key(key, k)), &v);
  if (rc == VE_ERR_NOT_FOUND) return VE_ERR_CORRUPT;
  VE_TRY(rc);
  return valset_record_decode(v, from_height, set) ? VE_ERR_CORRUPT : VE_OK;
}

/* Records 0 .. epoch - 1 start at strictly increasing heights (one change per
 * block, executed in height order), so the set governing `height` is that of
 * the last record starting at or below it. A binary search finds it in
 * log2(epoch) reads: an evidence transaction naming height 1 costs no more
 * than one naming a recent height, however many changes the chain has seen. */
static int governing(const ledger_reader_t *rd, uint64_t height, cons_valset_t *out, valset_meta_t *which) {
  valset_meta_t m;
  VE_TRY(meta_read(rd, &m));
  if (height >= m.from_height) {
    if (which) *which = m;
    return latest_read(rd, out);
  }
  uint64_t lo = 0, hi = m.epoch, from = 0; /* the answer is below hi; records below lo start at or below height */
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    VE_TRY(record_read(rd, mid, &from, out));
    if (from <= height) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return VE_ERR_NOT_FOUND; /* height 0: before every set */
  VE_TRY(record_read(rd, lo - 1, &from, out));
  if (which) *which = (valset_meta_t){lo - 1, from};
  return VE_OK;
}

int valset_meta_get(store_txn_t *t, valset_meta_t *out) {
  ledger_reader_t rd = {.txn = t};
  return meta_read(&rd, out);
}

int valset_latest_get(store_txn_t *t, cons_valset_t *out) {
  ledger_reader_t rd = {.txn = t};
  return latest_read(&rd, out);
}

int valset_governing(store_txn_t *t, uint64_t height, cons_valset_t *out, valset_meta_t *which) {
  ledger_reader_t rd = {.txn = t};
  return governing(&rd, height, out, which);
}

int valset_governing_exec(ledger_exec_t *ex, uint64_t height, cons_valset_t *out) {
  ledger_reader_t rd = {.ex = ex};
  return governing(&rd, height, out, NULL);
}

/* ---- execution ---- */

static int latest_put(ledger_exec_t *ex, const cons_valset_t *set) {
  uint8_t mem[CONS_VALSET_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(cons_valset_encode(&b, set));
  return ledger_state_put(ex, ve_slice(VALSET_KEY, strlen(VALSET_KEY)), ve_buf_slice(&b));
}

static int record_put(ledger_exec_t *ex, uint64_t k, uint64_t from_height, const cons_valset_t *set) {
  uint8_t mem[VALSET_RECORD_BYTES_MAX], key[VALSET_EPOCH_KEY_BYTES];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(valset_record_encode(&b, from_height, set));
  return ledger_state_put(ex, ve_slice(key, valset_epoch_key(key, k)), ve_buf_slice(&b));
}

static int meta_put(ledger_exec_t *ex, const valset_meta_t *m) {
  uint8_t mem[1 + 2 * CODEC_UVARINT_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(valset_meta_encode(&b, m));
  return ledger_state_put(ex, ve_slice(VALSET_META_KEY, strlen(VALSET_META_KEY)), ve_buf_slice(&b));
}

/* ~19 KiB: on the heap rather than on the stacks of the threads that dry-run
 * transactions. */
typedef struct {
  valset_change_t change;
  cons_valset_t cur;
  uint8_t cur_hash[VCRYPTO_HASH_BYTES], new_hash[VCRYPTO_HASH_BYTES];
} change_work_t;

bool valset_power_enough(uint64_t approved, const cons_valset_t *cur) {
  /* No overflow: at most VE_VALIDATORS_MAX powers of at most CONS_POWER_MAX (2^48). */
  return 3 * approved > 2 * cons_valset_total_power(cur);
}

int valset_approvals_verify(const cons_valset_t *set, const valset_approval_t *a, uint32_t n, const char *tag,
                            const uint8_t *msg, size_t msg_len) {
  uint64_t power = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (a[i].index >= set->count) return VE_ERR_INVALID;
    power += set->v[a[i].index].power;
  }
  if (!valset_power_enough(power, set)) return VE_ERR_QUORUM;
  for (uint32_t i = 0; i < n; i++)
    if (vcrypto_verify(a[i].sig, set->v[a[i].index].pk, tag, msg, msg_len)) return VE_ERR_BAD_SIG;
  return VE_OK;
}

static int approvals_check(ledger_exec_t *ex, uint64_t next_epoch, const change_work_t *w) {
  uint8_t msg[VALSET_APPROVAL_MSG_BYTES_MAX];
  size_t n = approval_msg(msg, ledger_exec_chain_id(ex), next_epoch, w->cur_hash, w->new_hash);
  return valset_approvals_verify(&w->cur, w->change.approvals, w->change.n_approvals, VALSET_TAG_APPROVAL, msg, n);
}

/* Keys entering the ledger must be usable keys (docs/architecture.md); members
 * of the current set passed this check when they joined (or in genesis). */
static int joiners_check(const change_work_t *w) {
  const cons_valset_t *next = &w->change.set;
  for (uint32_t i = 0; i < next->count; i++)
    if (cons_valset_find(&w->cur, next->v[i].pk) < 0 && !vcrypto_pk_valid(next->v[i].pk)) return VE_ERR_BAD_KEY;
  return VE_OK;
}

static int change_apply(ledger_exec_t *ex, ve_slice_t payload, change_work_t *w) {
  VE_TRY(valset_change_decode(payload, &w->change));
  ledger_reader_t rd = {.ex = ex};
  valset_meta_t meta;
  VE_TRY(meta_read(&rd, &meta));
  VE_TRY(latest_read(&rd, &w->cur));
  uint64_t from = ledger_exec_height(ex) + CONS_VALSET_DELAY;
  /* The engine takes one next set per applied block. */
  if (meta.from_height == from) return VE_ERR_STATE;
  cons_valset_hash(w->cur_hash, &w->cur);
  cons_valset_hash(w->new_hash, &w->change.set);
  if (!memcmp(w->cur_hash, w->new_hash, VCRYPTO_HASH_BYTES)) return VE_ERR_INVALID;
  VE_TRY(joiners_check(w));
  VE_TRY(approvals_check(ex, meta.epoch + 1, w));
  /* The first change also records the genesis set, so that every epoch has a
   * record an offline verifier can prove. */
  if (meta.epoch == 0) VE_TRY(record_put(ex, 0, 1, &w->cur));
  valset_meta_t next = {.epoch = meta.epoch + 1, .from_height = from};
  VE_TRY(record_put(ex, next.epoch, from, &w->change.set));
  VE_TRY(meta_put(ex, &next));
  return latest_put(ex, &w->change.set);
}

static int valset_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  (void)s; /* the approvals authorise, not the envelope's signer */
  if (tx->type != TX_TYPE_VALSET_CHANGE) return VE_ERR_UNKNOWN_TYPE;
  change_work_t *w = malloc(sizeof *w);
  if (!w) return VE_ERR_NOMEM;
  int rc = change_apply(ex, tx->payload, w);
  free(w);
  return rc;
}

int valset_from_genesis(const ledger_genesis_t *g, cons_valset_t *vs) {
  memset(vs, 0, sizeof *vs);
  if (g->n_validators == 0 || g->n_validators > VE_VALIDATORS_MAX) return VE_ERR_CONFIG;
  vs->count = (uint32_t)g->n_validators;
  for (size_t i = 0; i < g->n_validators; i++) {
    memcpy(vs->v[i].pk, g->validators[i].pk, VCRYPTO_PK_BYTES);
    vs->v[i].power = g->validators[i].power;
  }
  return cons_valset_check(vs) ? VE_ERR_CONFIG : VE_OK;
}

/* The same key and bytes the evidence app wrote here before this app existed,
 * so genesis states (and chains) from before set changes are unchanged. */
static int valset_genesis(ledger_exec_t *ex, const ledger_genesis_t *g) {
  cons_valset_t vs;
  VE_TRY(valset_from_genesis(g, &vs));
  return latest_put(ex, &vs);
}

const ledger_app_t valset_app = {
    .name = "valset",
    .type_lo = 0x0010,
    .type_hi = 0x001f,
    .apply = valset_apply,
    .genesis = valset_genesis,
};
