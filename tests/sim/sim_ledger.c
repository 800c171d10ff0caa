/* sim_ledger.c — the real ledger as the simulator's application (see
 * sim_ledger.h): genesis, the seeded transaction stream, block building (honest
 * and broken), validation and commits against a node's memory store. */
#include "sim_ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/documents/documents.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "state/state.h"
#include "trng.h"

#define SL_CITIZENS_MAX 1024
#define SL_EXPIRY 1000000 /* far beyond any run's height */
#define SL_OTHER_CHAIN "veche-sim-other"

static const ledger_registry_t SL_REG = {&identity_auth, {&identity_app, &documents_app}, 2, NULL};

/* ================= small hash table: 32-byte key -> u64 ================= */

typedef struct {
  bool used;
  uint8_t key[LEDGER_HASH_BYTES];
  uint64_t val;
} sl_slot_t;

typedef struct {
  sl_slot_t *s;
  size_t cap, count;
} sl_map_t;

static sl_slot_t *sl_slot(sl_map_t *m, const uint8_t key[LEDGER_HASH_BYTES]) {
  uint64_t h;
  memcpy(&h, key, sizeof h);
  size_t i = h & (m->cap - 1);
  while (m->s[i].used && memcmp(m->s[i].key, key, LEDGER_HASH_BYTES) != 0) i = (i + 1) & (m->cap - 1);
  return &m->s[i];
}

static const uint64_t *sl_get(sl_map_t *m, const uint8_t key[LEDGER_HASH_BYTES]) {
  if (!m->cap) return NULL;
  sl_slot_t *s = sl_slot(m, key);
  return s->used ? &s->val : NULL;
}

static void sl_put(sl_map_t *m, const uint8_t key[LEDGER_HASH_BYTES], uint64_t val) {
  if (4 * (m->count + 1) > 3 * m->cap) {
    sl_map_t n = {calloc(m->cap ? 2 * m->cap : 256, sizeof(sl_slot_t)), m->cap ? 2 * m->cap : 256, 0};
    VE_ASSERT(n.s);
    for (size_t i = 0; i < m->cap; i++)
      if (m->s[i].used) *sl_slot(&n, m->s[i].key) = m->s[i];
    n.count = m->count;
    free(m->s);
    *m = n;
  }
  sl_slot_t *s = sl_slot(m, key);
  if (!s->used) {
    s->used = true;
    memcpy(s->key, key, LEDGER_HASH_BYTES);
    m->count++;
  }
  s->val = val;
}

/* ================= the run's shared ledger part ================= */

typedef struct {
  ve_buf_t bytes;
  uint8_t id[LEDGER_HASH_BYTES];
} sl_tx_t;

struct sim_ledger {
  ledger_genesis_t g;
  vcrypto_keypair_t registrar, notary;
  uint8_t registrar_id[LEDGER_HASH_BYTES];
  uint64_t registrar_seq, notary_seq;
  uint64_t rng[4]; /* the stream's own xoshiro256** state */
  vcrypto_keypair_t *citizens; /* SL_CITIZENS_MAX */
  uint64_t *citizen_seq;
  size_t n_citizens;
  uint64_t docs;               /* digests drawn so far */
  sl_tx_t *stream;             /* SIM_LEDGER_STREAM_MAX */
  size_t n_stream;
  sl_map_t index;              /* tx id -> stream position */
  sl_map_t sigs;               /* tx ids whose signature verified */
  sim_ledger_stats_t stats;
};

static uint64_t sl_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t sl_next(sim_ledger_t *L) {
  uint64_t *s = L->rng;
  uint64_t result = sl_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = sl_rotl(s[3], 45);
  return result;
}

/* Uniform enough in [0, n) for choosing kinds (n is tiny next to 2^64). */
static uint64_t sl_below(sim_ledger_t *L, uint64_t n) { return sl_next(L) % n; }

static void sl_key(vcrypto_keypair_t *kp, const char *what, uint64_t n) {
  uint8_t seed[VCRYPTO_SEED_BYTES];
  memset(seed, 0, sizeof seed);
  size_t len = strlen(what);
  VE_ASSERT(len <= 20);
  memcpy(seed, what, len);
  ve_be64_put(seed + 24, n);
  vcrypto_keypair_from_seed(kp, seed);
}

static ve_slice_t sl_chain(void) { return ve_slice(SIM_LEDGER_CHAIN_ID, strlen(SIM_LEDGER_CHAIN_ID)); }

int sim_ledger_new(sim_ledger_t **out, uint64_t seed, const cons_valset_t *vs) {
  sim_ledger_t *L = calloc(1, sizeof *L);
  if (!L) return VE_ERR_NOMEM;
  L->citizens = calloc(SL_CITIZENS_MAX, sizeof *L->citizens);
  L->citizen_seq = calloc(SL_CITIZENS_MAX, sizeof *L->citizen_seq);
  L->stream = calloc(SIM_LEDGER_STREAM_MAX, sizeof *L->stream);
  if (!L->citizens || !L->citizen_seq || !L->stream) {
    sim_ledger_free(L);
    return VE_ERR_NOMEM;
  }
  uint64_t x = seed ^ 0x6c65646765727331ull; /* splitmix64 from the run seed */
  for (int i = 0; i < 4; i++) L->rng[i] = trng_step(&x);
  sl_key(&L->registrar, "sim-registrar", 0);
  sl_key(&L->notary, "sim-notary", 0);
  identity_id_from_pk(L->registrar_id, L->registrar.pk);
  ledger_genesis_t *g = &L->g;
  snprintf(g->chain_id, sizeof g->chain_id, "%s", SIM_LEDGER_CHAIN_ID);
  g->suite = VCRYPTO_SUITE_ED25519_BLAKE2B;
  g->time_ms = SIM_LEDGER_GENESIS_MS;
  g->n_validators = vs->count;
  for (uint32_t i = 0; i < vs->count; i++) {
    snprintf(g->validators[i].name, sizeof g->validators[i].name, "v%u", i);
    memcpy(g->validators[i].pk, vs->v[i].pk, VCRYPTO_PK_BYTES);
    g->validators[i].power = vs->v[i].power;
  }
  g->n_authorities = 2;
  snprintf(g->authorities[0].name, sizeof g->authorities[0].name, "registrar");
  memcpy(g->authorities[0].pk, L->registrar.pk, VCRYPTO_PK_BYTES);
  g->authorities[0].roles = ROLE_ADMIN | ROLE_REGISTRAR | ROLE_NOTARY;
  snprintf(g->authorities[1].name, sizeof g->authorities[1].name, "notary");
  memcpy(g->authorities[1].pk, L->notary.pk, VCRYPTO_PK_BYTES);
  g->authorities[1].roles = ROLE_NOTARY;
  int rc = ledger_genesis_check(g);
  if (rc) {
    sim_ledger_free(L);
    return rc;
  }
  *out = L;
  return VE_OK;
}

void sim_ledger_free(sim_ledger_t *L) {
  if (!L) return;
  for (size_t i = 0; i < L->n_stream; i++) ve_buf_free(&L->stream[i].bytes);
  free(L->stream);
  for (size_t i = 0; i < L->n_citizens; i++) vcrypto_keypair_wipe(&L->citizens[i]);
  free(L->citizens);
  free(L->citizen_seq);
  vcrypto_keypair_wipe(&L->registrar);
  vcrypto_keypair_wipe(&L->notary);
  free(L->index.s);
  free(L->sigs.s);
  free(L);
}

int sim_ledger_store_new(sim_ledger_t *L, bool prune, store_t **out) {
  store_t *st;
  VE_TRY(store_open_mem(&st));
  store_txn_t *t;
  int rc = store_txn_begin(st, true, &t);
  if (rc == VE_OK) {
    rc = ledger_init_store(t, &SL_REG, &L->g);
    if (rc == VE_OK && prune) rc = state_prune_enable(t);
    if (rc == VE_OK) rc = store_txn_commit(t);
    else store_txn_abort(t);
  }
  if (rc) {
    store_close(st);
    return rc;
  }
  *out = st;
  return VE_OK;
}

/* ================= the transaction stream ================= */

static void sl_sign(ve_buf_t *out, const vcrypto_keypair_t *kp, const char *chain, uint64_t seq,
                    uint64_t expiry, uint32_t type, ve_slice_t payload) {
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION,
                    .chain_id = ve_slice(chain, strlen(chain)),
                    .seq = seq,
                    .expiry = expiry,
                    .type = type,
                    .payload = payload};
  VE_ASSERT(ledger_tx_sign(&tx, kp) == 0);
  ve_buf_reset(out);
  VE_ASSERT(ledger_tx_encode(&tx, out) == 0);
}

/* A document registration payload about subject; digest number n. */
static void sl_doc_payload(ve_buf_t *p, const uint8_t subject[LEDGER_HASH_BYTES], uint64_t n) {
  documents_spec_t spec;
  memset(&spec, 0, sizeof spec);
  snprintf(spec.type, sizeof spec.type, "sim.doc");
  memcpy(spec.subject, subject, LEDGER_HASH_BYTES);
  uint8_t content[8];
  ve_be64_put(content, n);
  VE_ASSERT(documents_digest_file_bytes(&spec.digest, DOCUMENTS_ALG_BLAKE2B_256, content, sizeof content) == 0);
  memset(spec.metadata_digest, 0x4d, sizeof spec.metadata_digest);
  VE_ASSERT(documents_payload_register(p, &spec) == 0);
}

/* A subject for a document: the registrar or a citizen drawn so far (whose
 * registration precedes this tx in the stream). */
static void sl_subject(sim_ledger_t *L, uint8_t out[LEDGER_HASH_BYTES]) {
  uint64_t k = sl_below(L, L->n_citizens + 1);
  if (k == L->n_citizens) memcpy(out, L->registrar_id, LEDGER_HASH_BYTES);
  else identity_id_from_pk(out, L->citizens[k].pk);
}

/* Draws the next transaction of the stream into out. Most succeed; about a
 * third fail at execution, each kind with its own error. */
static void sl_draw(sim_ledger_t *L, ve_buf_t *out) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  uint8_t subject[LEDGER_HASH_BYTES];
  uint64_t kind = sl_below(L, 100);
  if (kind < 35 && L->n_citizens == SL_CITIZENS_MAX) kind = 40;
  if (kind < 35) { /* a new citizen, registered by the registrar */
    vcrypto_keypair_t *c = &L->citizens[L->n_citizens++];
    sl_key(c, "sim-citizen", L->n_citizens);
    uint8_t attr[LEDGER_HASH_BYTES];
    memset(attr, (int)(L->n_citizens & 0xff), sizeof attr);
    VE_ASSERT(identity_payload_register(&p, c->pk, attr, NULL, 0) == 0);
    sl_sign(out, &L->registrar, SIM_LEDGER_CHAIN_ID, ++L->registrar_seq, SL_EXPIRY,
            TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  } else if (kind < 65) { /* a document; now and then a digest registered before (EXISTS) */
    sl_subject(L, subject);
    uint64_t n = L->docs && sl_below(L, 10) == 0 ? sl_below(L, L->docs) : L->docs++;
    sl_doc_payload(&p, subject, n);
    bool by_registrar = sl_below(L, 2) == 0;
    sl_sign(out, by_registrar ? &L->registrar : &L->notary, SIM_LEDGER_CHAIN_ID,
            by_registrar ? ++L->registrar_seq : ++L->notary_seq, SL_EXPIRY,
            TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p));
  } else if (kind < 73 && L->registrar_seq > 0) { /* a sequence number already used */
    sl_doc_payload(&p, L->registrar_id, L->docs++);
    sl_sign(out, &L->registrar, SIM_LEDGER_CHAIN_ID, 1 + sl_below(L, L->registrar_seq), SL_EXPIRY,
            TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p));
  } else if (kind < 80) { /* a key nobody registered */
    vcrypto_keypair_t stranger;
    sl_key(&stranger, "sim-stranger", sl_next(L));
    sl_doc_payload(&p, L->registrar_id, L->docs++);
    sl_sign(out, &stranger, SIM_LEDGER_CHAIN_ID, 1, SL_EXPIRY, TX_TYPE_DOCUMENT_REGISTER,
            ve_buf_slice(&p));
    vcrypto_keypair_wipe(&stranger);
  } else if (kind < 86) { /* expired after height 1 */
    sl_doc_payload(&p, L->registrar_id, L->docs++);
    sl_sign(out, &L->notary, SIM_LEDGER_CHAIN_ID, ++L->notary_seq, 1, TX_TYPE_DOCUMENT_REGISTER,
            ve_buf_slice(&p));
  } else if (kind < 93 && L->n_citizens > 0) { /* a citizen without the role (PERMISSION) */
    size_t k = (size_t)sl_below(L, L->n_citizens);
    identity_id_from_pk(subject, L->citizens[k].pk);
    sl_doc_payload(&p, subject, L->docs++);
    sl_sign(out, &L->citizens[k], SIM_LEDGER_CHAIN_ID, ++L->citizen_seq[k], SL_EXPIRY,
            TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p));
  } else { /* the registrar's own key registered again (EXISTS) */
    uint8_t attr[LEDGER_HASH_BYTES] = {1};
    VE_ASSERT(identity_payload_register(&p, L->registrar.pk, attr, NULL, 0) == 0);
    sl_sign(out, &L->registrar, SIM_LEDGER_CHAIN_ID, ++L->registrar_seq, SL_EXPIRY,
            TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  }
  ve_buf_free(&p);
}

/* Makes sure stream[0 .. upto) exists. */
static void sl_stream_fill(sim_ledger_t *L, size_t upto) {
  VE_ASSERT(upto <= SIM_LEDGER_STREAM_MAX);
  while (L->n_stream < upto) {
    sl_tx_t *tx = &L->stream[L->n_stream];
    ve_buf_init(&tx->bytes, 0);
    sl_draw(L, &tx->bytes);
    ledger_tx_id(tx->id, ve_buf_slice(&tx->bytes));
    sl_put(&L->index, tx->id, L->n_stream);
    L->n_stream++;
    L->stats.stream++;
  }
}

/* ================= blocks ================= */

static bool sl_sig_cached(void *ctx, const uint8_t txid[LEDGER_HASH_BYTES]) {
  sim_ledger_t *L = ctx;
  bool hit = sl_get(&L->sigs, txid) != NULL;
  if (hit) L->stats.sig_hits++;
  return hit;
}

int sim_ledger_tip(store_t *st, ledger_tip_t *tip) {
  store_txn_t *t;
  VE_TRY(store_txn_begin(st, false, &t));
  int rc = ledger_tip_get(t, tip);
  store_txn_abort(t);
  return rc;
}

void sim_ledger_tip_digest(const ledger_tip_t *tip, uint8_t out[LEDGER_HASH_BYTES]) {
  uint8_t raw[16 + 3 * LEDGER_HASH_BYTES];
  ve_be64_put(raw, tip->height);
  ve_be64_put(raw + 8, tip->last_time_ms);
  memcpy(raw + 16, tip->last_hash, LEDGER_HASH_BYTES);
  memcpy(raw + 16 + LEDGER_HASH_BYTES, tip->state_root, LEDGER_HASH_BYTES);
  memcpy(raw + 16 + 2 * LEDGER_HASH_BYTES, tip->results_root, LEDGER_HASH_BYTES);
  vcrypto_hash(out, "veche/sim/tip", raw, sizeof raw);
}

/* The broken transaction a Byzantine block carries, into extra. */
static void sl_bad_tx(sim_ledger_t *L, sim_ledger_bad_t bad, const ve_slice_t *txs, size_t n,
                      uint64_t next, ve_buf_t *extra) {
  if (bad == SIM_LEDGER_BAD_SIG) { /* a good tx with one signature bit flipped */
    ve_slice_t src = n ? txs[n - 1] : ve_buf_slice(&L->stream[next].bytes);
    ve_buf_reset(extra);
    VE_ASSERT(ve_buf_append(extra, src.ptr, src.len) == 0);
    extra->ptr[extra->len - 1 - (size_t)sl_below(L, VCRYPTO_SIG_BYTES)] ^= (uint8_t)(1u << sl_below(L, 8));
  } else { /* SIM_LEDGER_WRONG_CHAIN */
    ve_buf_t p;
    ve_buf_init(&p, 0);
    sl_doc_payload(&p, L->registrar_id, 1u << 30);
    sl_sign(extra, &L->notary, SL_OTHER_CHAIN, 1, SL_EXPIRY, TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p));
    ve_buf_free(&p);
  }
}

int sim_ledger_build(sim_ledger_t *L, store_t *st, uint64_t height, uint64_t now_ms,
                     uint64_t time_bump_ms, const uint8_t valset_hash[LEDGER_HASH_BYTES],
                     const uint8_t proposer[VCRYPTO_PK_BYTES], uint64_t next, size_t ntx,
                     sim_ledger_bad_t bad, ve_buf_t *out, uint8_t id[LEDGER_HASH_BYTES]) {
  VE_ASSERT(ntx <= SIM_LEDGER_BLOCK_TXS_MAX && next <= SIM_LEDGER_STREAM_MAX);
  ledger_tip_t tip;
  VE_TRY(sim_ledger_tip(st, &tip));
  if (tip.height + 1 != height) return VE_ERR_HEIGHT;
  if (next + ntx + 1 > SIM_LEDGER_STREAM_MAX) ntx = 0; /* the stream is spent: empty blocks */
  sl_stream_fill(L, (size_t)(next + ntx + 1)); /* + 1: a spare for broken blocks */
  ve_slice_t txs[SIM_LEDGER_BLOCK_TXS_MAX + 1];
  size_t n = 0;
  for (size_t i = 0; i < ntx; i++) txs[n++] = ve_buf_slice(&L->stream[next + i].bytes);
  ve_buf_t extra;
  ve_buf_init(&extra, 0);
  if (bad == SIM_LEDGER_BAD_SIG || bad == SIM_LEDGER_WRONG_CHAIN) {
    sl_bad_tx(L, bad, txs, n, next, &extra);
    if (n) n--; /* replaces the last one */
    size_t at = (size_t)sl_below(L, n + 1);
    memmove(txs + at + 1, txs + at, (n - at) * sizeof *txs);
    txs[at] = ve_buf_slice(&extra);
    n++;
  } else if (bad == SIM_LEDGER_DUP_TX) {
    if (!n) txs[n++] = ve_buf_slice(&L->stream[next].bytes);
    txs[n] = txs[sl_below(L, n)];
    n++;
  }
  uint64_t time = SIM_LEDGER_GENESIS_MS + now_ms;
  if (time <= tip.last_time_ms) time = tip.last_time_ms + 1;
  ledger_header_t h;
  ledger_header_next(&tip, sl_chain(), time + time_bump_ms, valset_hash, proposer, &h);
  if (bad == SIM_LEDGER_BAD_PARENT) h.prev_hash[sl_below(L, LEDGER_HASH_BYTES)] ^= 0x10;
  if (bad == SIM_LEDGER_BAD_STATE_ROOT) h.state_root[sl_below(L, LEDGER_HASH_BYTES)] ^= 0x20;
  if (bad == SIM_LEDGER_BAD_TIME) h.time_ms = tip.last_time_ms - sl_below(L, 2);
  if (bad == SIM_LEDGER_BAD_HEIGHT) h.height++;
  int rc = ledger_block_build(&h, txs, NULL, n, out);
  if (rc == VE_OK && bad == SIM_LEDGER_BAD_TX_ROOT) {
    h.tx_root[sl_below(L, LEDGER_HASH_BYTES)] ^= 0x40;
    ve_buf_reset(out);
    rc = ledger_block_encode(&h, txs, n, out);
  }
  if (rc == VE_OK) rc = ledger_header_hash(&h, id);
  if (rc == VE_OK && bad == SIM_LEDGER_LYING_ID) id[sl_below(L, LEDGER_HASH_BYTES)] ^= 0x80;
  ve_buf_free(&extra);
  return rc;
}

/* The checks of sim_ledger_validate, through t (a read txn, or the commit's
 * write txn before it writes). On success the block's signatures are vouched for. */
static int sl_check(sim_ledger_t *L, store_txn_t *t, uint64_t height,
                    const uint8_t id[LEDGER_HASH_BYTES], const ledger_block_t *b,
                    const cons_valset_t *vs) {
  uint8_t hash[LEDGER_HASH_BYTES], vhash[LEDGER_HASH_BYTES];
  VE_TRY(ledger_header_hash(&b->header, hash));
  if (memcmp(hash, id, LEDGER_HASH_BYTES) != 0) return VE_ERR_HASH_MISMATCH;
  if (b->header.height != height) return VE_ERR_HEIGHT;
  if (cons_valset_find(vs, b->header.proposer) < 0) return VE_ERR_UNKNOWN_SIGNER;
  cons_valset_hash(vhash, vs);
  VE_TRY(ledger_block_validate_decoded(t, b, vhash, sl_sig_cached, L));
  for (size_t i = 0; i < b->tx_count; i++) sl_put(&L->sigs, b->ids[i], 1);
  return VE_OK;
}

int sim_ledger_validate(sim_ledger_t *L, store_t *st, uint64_t height,
                        const uint8_t id[LEDGER_HASH_BYTES], ve_slice_t block,
                        const cons_valset_t *vs) {
  ledger_block_t b;
  VE_TRY(ledger_block_decode(block, &b));
  store_txn_t *t;
  int rc = store_txn_begin(st, false, &t);
  if (rc == VE_OK) {
    rc = sl_check(L, t, height, id, &b, vs);
    store_txn_abort(t);
  }
  ledger_block_free(&b);
  return rc;
}

/* As a pruning node does after each block, in the block's transaction. */
static int sl_prune(store_txn_t *t, uint64_t height) {
  bool on = false;
  VE_TRY(state_prune_enabled(t, &on));
  if (!on || height < SIM_LEDGER_KEEP_BLOCKS) return VE_OK;
  size_t deleted;
  return state_prune(t, height + 1 - SIM_LEDGER_KEEP_BLOCKS, SIM_LEDGER_PRUNE_MAX, &deleted);
}

int sim_ledger_check_pruned(store_t *st, uint64_t height, const char **why) {
  *why = NULL;
  if (height < SIM_LEDGER_KEEP_BLOCKS) return VE_OK;
  store_txn_t *t;
  VE_TRY(store_txn_begin(st, false, &t));
  uint64_t oldest = 0, first = height + 1 - SIM_LEDGER_KEEP_BLOCKS;
  uint8_t root[STATE_HASH_BYTES];
  ledger_tip_t tip;
  int rc = state_version_oldest(t, &oldest);
  if (rc == VE_OK && oldest != first) *why = "the oldest provable height is not the window's first";
  if (rc == VE_OK && !*why) rc = ledger_tip_get(t, &tip);
  if (rc == VE_OK && !*why) {
    rc = state_root_at(t, height, root);
    if (rc == VE_OK && memcmp(root, tip.state_root, sizeof root) != 0) *why = "the tip's root is gone";
  }
  if (rc == VE_OK && !*why && first > 0 && state_root_at(t, first - 1, root) != VE_ERR_NOT_FOUND)
    *why = "a height below the window still answers";
  store_txn_abort(t);
  if (rc == VE_OK && *why) rc = VE_ERR_STATE;
  return rc;
}

int sim_ledger_commit(sim_ledger_t *L, store_t *st, uint64_t height,
                      const uint8_t id[LEDGER_HASH_BYTES], ve_slice_t block, ve_slice_t cert,
                      const cons_valset_t *vs, uint64_t *next, int *valid_rc,
                      ledger_tip_t *tip_out) {
  ledger_block_t b;
  *valid_rc = ledger_block_decode(block, &b);
  VE_TRY(*valid_rc);
  int32_t results[SIM_LEDGER_BLOCK_TXS_MAX + 1];
  int32_t *res = b.tx_count <= SIM_LEDGER_BLOCK_TXS_MAX + 1 ? results : NULL;
  store_txn_t *t;
  int rc = store_txn_begin(st, true, &t);
  if (rc == VE_OK) {
    *valid_rc = sl_check(L, t, height, id, &b, vs);
    rc = ledger_block_commit_decoded(t, &SL_REG, &b, block, cert, res);
    if (rc == VE_OK) rc = sl_prune(t, height);
    if (rc == VE_OK) rc = store_txn_commit(t);
    else store_txn_abort(t);
  }
  if (rc == VE_OK) {
    for (size_t i = 0; i < b.tx_count; i++) {
      const uint64_t *pos = sl_get(&L->index, b.ids[i]);
      if (pos && *pos + 1 > *next) *next = *pos + 1;
      L->stats.committed++;
      if (res && res[i] != VE_OK) L->stats.failed++;
    }
    rc = sim_ledger_tip(st, tip_out);
  }
  ledger_block_free(&b);
  return rc;
}

void sim_ledger_stats(const sim_ledger_t *L, sim_ledger_stats_t *out) { *out = L->stats; }
