/* sim.c — the deterministic fault simulator (see sim.h for what it checks).
 *
 * Model:
 *   nodes     validators (honest or Byzantine), joiners (keys that enter the set
 *             later), keyless observers, and for twins a second node sharing a key.
 *             Each node = one consensus engine + a disk + an application.
 *   disk      PERSIST appends to an unsynced tail and starts an fsync that completes
 *             fsync_ms later; actions behind it wait (the engine's contract). A
 *             crash drops the unsynced tail, the engine, and every queued action:
 *             exactly "a restart that loses the unsynced tail".
 *   app       builds values (valid ones, or invalid ones for SIM_BYZ_INVALID),
 *             validates by recomputing the id over the bytes, keeps the committed
 *             chain (durable at COMMIT), answers synchronously or after a delay,
 *             supplies validator sets from the run's schedule, serves DECISIONs.
 *   network   per-message delay in [delay_min, delay_max] (so reordering), loss,
 *             duplication, symmetric and one-way partitions with start and end.
 *   ledger    in ledger mode the app is the real ledger instead (sim_ledger.h):
 *             a memory store per node, beside the chain and as durable as it;
 *             proposals are blocks built on the store's tip from the run's tx
 *             stream (broken ones for SIM_BYZ_INVALID), VALIDATE is
 *             ledger_block_validate on the store, COMMIT is ledger_block_commit.
 *             The abstract mode's code paths and PRNG draws are untouched, so
 *             every seed of the other configurations replays as before.
 * Honest nodes must never see an error from a message sent by an honest node.
 */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "consensus/cons_int.h"
#include "sim_ledger.h"
#include "trng.h"

#define SIM_CHAIN_ID "veche-sim"
#define SIM_NODES_MAX 24
#define SIM_KEYS_MAX 16
#define SIM_CHANGES_MAX 8
#define SIM_EPISODES_MAX 6
#define SIM_LIVENESS_MS 60000   /* after healing, the goal must be reached within this */
#define SIM_HEAL_ROUNDS_MAX 8    /* ... and heights begun after healing within this round */
#define SIM_EVENTS_MAX 4000000u /* safety net per run */
#define SIM_CONTROL_MS 6000
#define SIM_TIMEOUT_BASE_MS 600
#define SIM_TIMEOUT_DELTA_MS 300
#define SIM_REBROADCAST_MS 300
#define SIM_VALUE_PAYLOAD_MAX 1024
#define SIM_VALUE_HEADER_BYTES 20

/* ================= PRNG: xoshiro256** seeded by splitmix64 ================= */

typedef struct {
  uint64_t s[4];
} prng_t;

static void prng_seed(prng_t *p, uint64_t seed) {
  for (int i = 0; i < 4; i++) p->s[i] = trng_step(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t prng_next(prng_t *p) {
  uint64_t *s = p->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

/* Uniform in [0, n), n ≥ 1 (rejection sampling, no modulo bias). */
static uint64_t prng_below(prng_t *p, uint64_t n) {
  uint64_t lim = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = prng_next(p);
  while (x >= lim);
  return x % n;
}

static uint64_t prng_between(prng_t *p, uint64_t lo, uint64_t hi) {
  return hi <= lo ? lo : lo + prng_below(p, hi - lo + 1);
}

static bool prng_pm(prng_t *p, uint32_t permille) { return prng_below(p, 1000) < permille; }

/* ================= shared bytes ================= */

typedef struct {
  uint32_t refs;
  size_t len;
  uint8_t data[];
} sblob_t;

static sblob_t *sblob_new(const void *p, size_t len) {
  sblob_t *b = malloc(sizeof *b + (len ? len : 1));
  VE_ASSERT(b);
  b->refs = 1;
  b->len = len;
  if (len) memcpy(b->data, p, len);
  return b;
}
static sblob_t *sblob_ref(sblob_t *b) {
  if (b) b->refs++;
  return b;
}
static void sblob_unref(sblob_t *b) {
  if (b && --b->refs == 0) free(b);
}
static ve_slice_t sblob_slice(const sblob_t *b) {
  return b ? ve_slice(b->data, b->len) : ve_slice(NULL, 0);
}

static sblob_t *encode_take(ve_buf_t *b) {
  sblob_t *blob = sblob_new(b->ptr, b->len);
  ve_buf_free(b);
  return blob;
}

/* ================= small hash map, 32-byte keys ================= */

typedef struct {
  bool used;
  uint8_t key[32];
  uint8_t val[40];
} mslot_t;

typedef struct {
  mslot_t *s;
  size_t cap, count;
} map_t;

static uint64_t key_hash(const uint8_t key[32]) {
  uint64_t h;
  memcpy(&h, key, 8);
  return h;
}

static mslot_t *map_slot(map_t *m, const uint8_t key[32]) {
  size_t i = key_hash(key) & (m->cap - 1);
  while (m->s[i].used && memcmp(m->s[i].key, key, 32) != 0) i = (i + 1) & (m->cap - 1);
  return &m->s[i];
}

static void map_grow(map_t *m) {
  map_t n = {calloc(m->cap ? 2 * m->cap : 1024, sizeof(mslot_t)), m->cap ? 2 * m->cap : 1024, 0};
  VE_ASSERT(n.s);
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->s[i].used) continue;
    *map_slot(&n, m->s[i].key) = m->s[i];
    n.count++;
  }
  free(m->s);
  *m = n;
}

static uint8_t *map_get(map_t *m, const uint8_t key[32]) {
  if (!m->cap) return NULL;
  mslot_t *s = map_slot(m, key);
  return s->used ? s->val : NULL;
}

static uint8_t *map_put(map_t *m, const uint8_t key[32]) {
  if (4 * (m->count + 1) > 3 * m->cap) map_grow(m);
  mslot_t *s = map_slot(m, key);
  if (!s->used) {
    s->used = true;
    memcpy(s->key, key, 32);
    memset(s->val, 0, sizeof s->val);
    m->count++;
  }
  return s->val;
}

static void map_free(map_t *m) {
  free(m->s);
  memset(m, 0, sizeof *m);
}

/* ================= keys ================= */

static vcrypto_keypair_t g_keys[SIM_KEYS_MAX];
static bool g_keys_ready;

static void keys_init(void) {
  if (g_keys_ready) return;
  VE_ASSERT(vcrypto_init() == 0);
  for (int k = 0; k < SIM_KEYS_MAX; k++) {
    uint8_t seed[VCRYPTO_SEED_BYTES];
    memset(seed, 0, sizeof seed);
    memcpy(seed, "veche-sim-key", 13);
    seed[31] = (uint8_t)k;
    vcrypto_keypair_from_seed(&g_keys[k], seed);
  }
  g_keys_ready = true;
}

/* ================= simulation state ================= */

enum {
  EV_DELIVER = 1,
  EV_TIMER,
  EV_FSYNC,
  EV_APP_PROPOSE,
  EV_APP_VALIDATE,
  EV_APP_APPLIED,
  EV_CRASH,
  EV_RESTART,
};

typedef struct {
  uint64_t t, seq;
  uint8_t type;
  int node, from;
  uint32_t inc;
  uint64_t a;
  uint32_t r;
  bool flag;
  uint8_t id[32];
  sblob_t *blob;
} event_t;

typedef struct {
  cons_action_kind_t kind;
  uint64_t peer, token, height;
  uint32_t delay, round;
  uint8_t id[32];
  sblob_t *data, *cert;
} pact_t;

typedef struct {
  uint8_t id[32];
  uint32_t round;
  sblob_t *value, *cert;
} block_t;

typedef struct {
  int idx;
  int key;       /* -1: observer */
  unsigned byz;  /* 0 honest, else one SIM_BYZ_* bit */
  int side;      /* control runs: 0 or 1 */
  bool up;
  uint32_t inc;
  cons_engine_t *eng;
  sblob_t **rec;   /* durable records */
  size_t nrec, caprec;
  sblob_t **uns;   /* written, not yet synced */
  size_t nuns, capuns;
  pact_t *pq;      /* actions waiting behind an fsync */
  size_t pq_head, pq_count, pq_cap;
  bool fsync_busy;
  block_t *chain;  /* chain[h-1] */
  size_t chain_len, chain_cap;
  uint64_t applied;
  uint32_t fsync_ms, app_delay_ms, sync_pm;
  uint32_t interval_ms;  /* the block builder proposes at most once per interval */
  uint64_t last_propose_ms;
  uint64_t nonce;
  uint64_t sign_from; /* restored from a backup: sign nothing new below this */
  bool restored;      /* restored since its last start: sign_from is set at start */
  store_t *store;    /* ledger mode: the node's ledger, durable at COMMIT */
  uint64_t tx_next;  /* ledger mode: stream position after its chain's last tx */
} node_t;

typedef struct {
  uint64_t from;
  cons_valset_t vs;
} vchange_t;

typedef struct {
  uint64_t start, end;
  bool asym;
  uint32_t group; /* bit mask of nodes */
} episode_t;

typedef struct {
  const sim_config_t *cfg;
  sim_result_t *res;
  bool verbose;
  prng_t rng;
  uint64_t now, seq;
  event_t *heap;
  size_t heap_len, heap_cap;
  node_t nodes[SIM_NODES_MAX];
  int nnodes, nkeys;
  bool key_byz[SIM_KEYS_MAX];
  vchange_t changes[SIM_CHANGES_MAX];
  int nchanges;
  episode_t ep[SIM_EPISODES_MAX];
  int nep;
  uint32_t loss_pm, dup_pm;
  uint64_t heal_ms, goal, deadline, heal_top;
  bool healed;
  int crashes_left;
  int restores_left;
  map_t values;  /* id → {valid} every value any application produced */
  map_t signed_; /* (key, h, r, type) → content, honest signatures seen */
  map_t vcache;  /* signature verification memo */
  map_t commits; /* height → first honest commit id */
  uint64_t seed;
  sim_ledger_t *ledger; /* ledger mode only */
  map_t states;  /* ledger mode: height → first honest tip digest */
  /* control runs: the conflicting commits */
  struct {
    uint64_t h;
    uint8_t id[2][32];
    sblob_t *cert[2];
    bool have[2];
  } fork;
  bool failed, done;
} sim_t;

static void sim_log(sim_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sim_log(sim_t *s, const char *fmt, ...) {
  if (!s->verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "[%8llu] ", (unsigned long long)s->now);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void fail(sim_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(sim_t *s, const char *fmt, ...) {
  if (s->failed) return;
  s->failed = true;
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(s->res->failure, sizeof s->res->failure, "t=%llu: ", (unsigned long long)s->now);
  vsnprintf(s->res->failure + n, sizeof s->res->failure - (size_t)n, fmt, ap);
  va_end(ap);
  sim_log(s, "FAIL %s", s->res->failure);
}

static bool honest(const node_t *n) { return n->byz == 0; }

/* ================= event queue (binary heap on (t, seq)) ================= */

static bool ev_less(const event_t *a, const event_t *b) {
  return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

static void ev_push(sim_t *s, event_t ev) {
  ev.seq = s->seq++;
  if (s->heap_len == s->heap_cap) {
    s->heap_cap = s->heap_cap ? 2 * s->heap_cap : 1024;
    s->heap = realloc(s->heap, s->heap_cap * sizeof *s->heap);
    VE_ASSERT(s->heap);
  }
  size_t i = s->heap_len++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!ev_less(&ev, &s->heap[p])) break;
    s->heap[i] = s->heap[p];
    i = p;
  }
  s->heap[i] = ev;
}

static event_t ev_pop(sim_t *s) {
  event_t top = s->heap[0];
  event_t last = s->heap[--s->heap_len];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= s->heap_len) break;
    if (c + 1 < s->heap_len && ev_less(&s->heap[c + 1], &s->heap[c])) c++;
    if (!ev_less(&s->heap[c], &last)) break;
    s->heap[i] = s->heap[c];
    i = c;
  }
  if (s->heap_len) s->heap[i] = last;
  return top;
}

static event_t ev_make(uint8_t type, int node, uint64_t t) {
  event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = type;
  ev.node = node;
  ev.t = t;
  return ev;
}

/* ================= validator-set schedule ================= */

static const cons_valset_t *valset_at(const sim_t *s, uint64_t h) {
  const cons_valset_t *vs = &s->changes[0].vs;
  for (int i = 1; i < s->nchanges; i++)
    if (s->changes[i].from <= h) vs = &s->changes[i].vs;
  return vs;
}

static void valset_from_powers(cons_valset_t *vs, const uint64_t *power, int nkeys) {
  memset(vs, 0, sizeof *vs);
  for (int k = 0; k < nkeys; k++) {
    if (!power[k]) continue;
    memcpy(vs->v[vs->count].pk, g_keys[k].pk, VCRYPTO_PK_BYTES);
    vs->v[vs->count].power = power[k];
    vs->count++;
  }
}

static int key_of_pk(const sim_t *s, const uint8_t *pk) {
  for (int k = 0; k < s->nkeys; k++)
    if (memcmp(g_keys[k].pk, pk, VCRYPTO_PK_BYTES) == 0) return k;
  return -1;
}

/* Byzantine power strictly below 1/3 of the set. */
static bool powers_safe(const sim_t *s, const uint64_t *power) {
  uint64_t total = 0, byz = 0;
  for (int k = 0; k < s->nkeys; k++) {
    total += power[k];
    if (s->key_byz[k]) byz += power[k];
  }
  return total > 0 && 3 * byz < total;
}

/* ================= signature memo (sound: keyed by every input) ================= */

static int memo_verify(void *ctx, const uint8_t sig[VCRYPTO_SIG_BYTES],
                       const uint8_t pk[VCRYPTO_PK_BYTES], const char *tag, const uint8_t *msg,
                       size_t len) {
  sim_t *s = ctx;
  vcrypto_hasher_t h;
  uint8_t key[32];
  vcrypto_hasher_init(&h, "veche/sim/sigmemo");
  vcrypto_hasher_update(&h, (const uint8_t *)tag, strlen(tag) + 1);
  vcrypto_hasher_update(&h, pk, VCRYPTO_PK_BYTES);
  vcrypto_hasher_update(&h, sig, VCRYPTO_SIG_BYTES);
  vcrypto_hasher_update(&h, msg, len);
  vcrypto_hasher_final(&h, key);
  uint8_t *v = map_get(&s->vcache, key);
  if (v) return v[0] ? VE_OK : VE_ERR_BAD_SIG;
  int rc = vcrypto_verify(sig, pk, tag, msg, len);
  map_put(&s->vcache, key)[0] = rc == 0;
  return rc;
}

/* ================= application values ================= */

static void put_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static void value_id(uint8_t id[32], const uint8_t *b, size_t len) {
  vcrypto_hash(id, "veche/sim/value", b, len);
}

/* The application's rule: well-formed, for this height, flagged valid, and the id
 * is the hash of the bytes. */
static bool value_valid(uint64_t h, const uint8_t id[32], ve_slice_t v) {
  if (v.len < SIM_VALUE_HEADER_BYTES || v.ptr[0] != 'V' || v.ptr[1] != 1) return false;
  if (get_le64(v.ptr + 2) != h) return false;
  uint8_t want[32];
  value_id(want, v.ptr, v.len);
  return memcmp(want, id, 32) == 0;
}

static sblob_t *make_value(sim_t *s, node_t *n, uint64_t h, bool valid, uint8_t id[32]) {
  size_t payload = (size_t)prng_below(&s->rng, SIM_VALUE_PAYLOAD_MAX + 1);
  size_t len = SIM_VALUE_HEADER_BYTES + payload;
  uint8_t *b = malloc(len);
  VE_ASSERT(b);
  b[0] = 'V';
  b[1] = valid ? 1 : 0;
  put_le64(b + 2, h);
  b[10] = (uint8_t)n->idx;
  b[11] = 0;
  put_le64(b + 12, ++n->nonce);
  for (size_t i = 0; i < payload; i++) b[SIM_VALUE_HEADER_BYTES + i] = (uint8_t)prng_next(&s->rng);
  value_id(id, b, len);
  sblob_t *blob = sblob_new(b, len);
  free(b);
  map_put(&s->values, id)[0] = valid ? 1 : 2;
  return blob;
}

/* ================= ledger mode: blocks (sim_ledger.h) ================= */

/* Builds a block for height h on node n's store: honest, or broken as bad says.
 * Registers its id (valid or not) like make_value. NULL when n's store is not at
 * h - 1 (the engine has moved on, so the proposal is moot). */
static sblob_t *ledger_value(sim_t *s, node_t *n, uint64_t h, sim_ledger_bad_t bad,
                             uint64_t time_bump_ms, uint8_t id[32]) {
  uint8_t vhash[32];
  cons_valset_hash(vhash, valset_at(s, h));
  size_t ntx = (size_t)prng_below(&s->rng, SIM_LEDGER_BLOCK_TXS_MAX + 1);
  ve_buf_t b;
  ve_buf_init(&b, VE_BLOCK_BYTES_MAX);
  int rc = sim_ledger_build(s->ledger, n->store, h, s->now, time_bump_ms, vhash, g_keys[n->key].pk,
                            n->tx_next, ntx, bad, &b, id);
  if (rc) {
    if (rc != VE_ERR_HEIGHT) fail(s, "node %d: building block %llu: %s", n->idx,
                                  (unsigned long long)h, ve_strerror(rc));
    ve_buf_free(&b);
    return NULL;
  }
  map_put(&s->values, id)[0] = bad == SIM_LEDGER_HONEST ? 1 : 2;
  return encode_take(&b);
}

static void ledger_propose(sim_t *s, node_t *n, uint64_t h, uint32_t r) {
  n->last_propose_ms = s->now;
  sim_ledger_bad_t bad = SIM_LEDGER_HONEST;
  if (n->byz == SIM_BYZ_INVALID && prng_pm(&s->rng, 800))
    bad = (sim_ledger_bad_t)prng_between(&s->rng, SIM_LEDGER_HONEST + 1, SIM_LEDGER_BAD_KINDS - 1);
  uint8_t id[32];
  sblob_t *v = ledger_value(s, n, h, bad, 0, id);
  if (!v) return;
  /* The checker's own premise: what it calls broken, the ledger refuses. */
  if (bad && sim_ledger_validate(s->ledger, n->store, h, id, sblob_slice(v), valset_at(s, h)) == 0)
    fail(s, "node %d: a block broken as kind %d validates at h=%llu", n->idx, (int)bad,
         (unsigned long long)h);
  sim_log(s, "node %d proposes block %llu r=%u (%s)", n->idx, (unsigned long long)h, r,
          bad ? "broken" : "honest");
  if (bad) sim_log(s, "  broken as kind %d", (int)bad);
  int rc = cons_on_proposal(n->eng, h, r, id, sblob_slice(v));
  if (rc && rc != VE_ERR_STATE) fail(s, "node %d: cons_on_proposal: %s", n->idx, ve_strerror(rc));
  sblob_unref(v);
}

/* VALIDATE in ledger mode. A block some node built honestly for h must pass on
 * every honest node at h - 1: all of them hold the same chain. */
static bool ledger_validate(sim_t *s, node_t *n, uint64_t h, const uint8_t id[32], ve_slice_t v) {
  int rc = sim_ledger_validate(s->ledger, n->store, h, id, v, valset_at(s, h));
  uint8_t *reg = map_get(&s->values, id);
  if (rc && honest(n) && reg && reg[0] == 1 && (uint64_t)n->chain_len + 1 == h)
    fail(s, "VALIDATE: honest node %d rejected a good block at h=%llu: %s", n->idx,
         (unsigned long long)h, ve_strerror(rc));
  return rc == 0;
}

static void state_key(uint8_t key[32], uint64_t h) {
  uint8_t raw[8];
  put_le64(raw, h);
  vcrypto_hash(key, "veche/sim/state", raw, 8);
}

/* COMMIT in ledger mode: the block goes into the store; checks validity on the
 * store and the STATE property. */
static void ledger_commit(sim_t *s, node_t *n, uint64_t h, const uint8_t id[32], ve_slice_t v,
                          ve_slice_t cert) {
  int valid_rc = 0;
  ledger_tip_t tip;
  int rc = sim_ledger_commit(s->ledger, n->store, h, id, v, cert, valset_at(s, h), &n->tx_next,
                             &valid_rc, &tip);
  if (!honest(n)) return;
  if (valid_rc) {
    fail(s, "VALIDITY: node %d committed a block at h=%llu that its ledger rejects: %s", n->idx,
         (unsigned long long)h, ve_strerror(valid_rc));
    return;
  }
  if (rc) {
    fail(s, "node %d: ledger commit of h=%llu: %s", n->idx, (unsigned long long)h, ve_strerror(rc));
    return;
  }
  if (tip.height != h || memcmp(tip.last_hash, id, 32) != 0) {
    fail(s, "STATE: node %d's tip after committing h=%llu is not that block", n->idx,
         (unsigned long long)h);
    return;
  }
  uint8_t key[32], digest[32];
  state_key(key, h);
  sim_ledger_tip_digest(&tip, digest);
  uint8_t *first = map_get(&s->states, key);
  if (!first)
    memcpy(map_put(&s->states, key), digest, 32);
  else if (memcmp(first, digest, 32) != 0)
    fail(s, "STATE: node %d differs at h=%llu (block hash, time, state root or results root)",
         n->idx, (unsigned long long)h);
}

/* End of a ledger run: every honest node's store holds its chain, and a fresh store
 * replaying the longest honest chain from genesis meets every recorded tip. */
static void ledger_check_end(sim_t *s) {
  node_t *best = NULL;
  for (int i = 0; i < s->nnodes; i++) {
    node_t *n = &s->nodes[i];
    ledger_tip_t tip;
    if (!honest(n)) continue;
    if (sim_ledger_tip(n->store, &tip) != 0 || tip.height != n->chain_len) {
      fail(s, "DISK: node %d's store is not at its chain height %zu", n->idx, n->chain_len);
      return;
    }
    const char *why;
    if (n->idx % 2 == 1 && sim_ledger_check_pruned(n->store, n->chain_len, &why) != 0) {
      fail(s, "PRUNE: pruning node %d at h=%zu: %s", n->idx, n->chain_len, why ? why : "store error");
      return;
    }
    if (!best || n->chain_len > best->chain_len) best = n;
  }
  if (!best) return;
  store_t *fresh;
  VE_ASSERT(sim_ledger_store_new(s->ledger, false, &fresh) == 0);
  uint64_t next = 0;
  for (size_t j = 0; j < best->chain_len && !s->failed; j++) {
    const block_t *b = &best->chain[j];
    uint64_t h = j + 1;
    int valid_rc = 0;
    ledger_tip_t tip;
    int rc = sim_ledger_commit(s->ledger, fresh, h, b->id, sblob_slice(b->value), sblob_slice(b->cert),
                               valset_at(s, h), &next, &valid_rc, &tip);
    uint8_t key[32], digest[32];
    state_key(key, h);
    if (rc == 0) sim_ledger_tip_digest(&tip, digest);
    uint8_t *want = map_get(&s->states, key);
    if (valid_rc || rc || !want || memcmp(want, digest, 32) != 0)
      fail(s, "REPLAY: replaying node %d's chain from genesis differs at h=%llu (%s)", best->idx,
           (unsigned long long)h,
           valid_rc || rc ? ve_strerror(valid_rc ? valid_rc : rc) : "another tip");
  }
  ledger_tip_t a, b;
  if (!s->failed && (sim_ledger_tip(fresh, &a) != 0 || sim_ledger_tip(best->store, &b) != 0 ||
                     memcmp(&a, &b, sizeof a) != 0))
    fail(s, "REPLAY: the replayed tip differs from node %d's", best->idx);
  store_close(fresh);
}

/* ================= network ================= */

static bool link_ok(const sim_t *s, int from, int to) {
  if (s->cfg->control_fork) return s->nodes[from].side == s->nodes[to].side;
  for (int i = 0; i < s->nep; i++) {
    const episode_t *e = &s->ep[i];
    if (s->now < e->start || s->now >= e->end) continue;
    bool fin = (e->group >> from) & 1, tin = (e->group >> to) & 1;
    if (e->asym ? (fin && !tin) : (fin != tin)) return false;
  }
  return true;
}

static void net_send(sim_t *s, int from, int to, sblob_t *msg) {
  if (from == to) return;
  s->res->messages++;
  if (!link_ok(s, from, to) || prng_pm(&s->rng, s->loss_pm)) return;
  int copies = prng_pm(&s->rng, s->dup_pm) ? 2 : 1;
  for (int c = 0; c < copies; c++) {
    uint64_t d = prng_between(&s->rng, s->cfg->delay_min_ms, s->cfg->delay_max_ms);
    event_t ev = ev_make(EV_DELIVER, to, s->now + d);
    ev.from = from;
    ev.blob = sblob_ref(msg);
    ev_push(s, ev);
  }
}

static void net_broadcast(sim_t *s, int from, sblob_t *msg) {
  for (int i = 0; i < s->nnodes; i++) net_send(s, from, i, msg);
}

/* Broadcast where half of the peers (chosen at random) get b instead of a. */
static void net_split(sim_t *s, int from, sblob_t *a, sblob_t *b) {
  for (int i = 0; i < s->nnodes; i++) net_send(s, from, i, prng_pm(&s->rng, 500) ? a : b);
}

/* Honest validators must never sign two different messages for one (h, r, type). */
static void check_signed(sim_t *s, const node_t *n, ve_slice_t msg) {
  cons_msg_t m;
  if (cons_msg_decode(msg, &m, NULL) != 0) {
    fail(s, "node %d sent an undecodable message", n->idx);
    return;
  }
  uint8_t type, content[40];
  uint32_t round;
  memset(content, 0, sizeof content);
  if (m.type == CONS_MSG_VOTE) {
    type = m.vote.type;
    round = m.vote.round;
    content[0] = m.vote.has_id;
    memcpy(content + 1, m.vote.id, 32);
  } else if (m.type == CONS_MSG_PROPOSAL) {
    type = CONS_TYPE_PROPOSAL;
    round = m.proposal.round;
    content[0] = 1;
    memcpy(content + 1, m.proposal.id, 32);
    uint32_t pol1 = (uint32_t)(m.proposal.pol_round + 1);
    memcpy(content + 33, &pol1, sizeof pol1); /* 37 of 40 bytes used */
  } else {
    return;
  }
  /* A relayed message of someone else is not this node's signature. */
  const cons_valset_t *vs = valset_at(s, m.height);
  uint32_t signer = m.type == CONS_MSG_VOTE ? m.vote.index : cons_proposer(vs, m.height, round);
  if (signer >= vs->count || key_of_pk(s, vs->v[signer].pk) != n->key) return;
  uint8_t kb[32], raw[24];
  put_le64(raw, (uint64_t)n->key);
  put_le64(raw + 8, m.height);
  put_le64(raw + 16, ((uint64_t)round << 8) | type);
  vcrypto_hash(kb, "veche/sim/signed", raw, sizeof raw);
  uint8_t *have = map_get(&s->signed_, kb);
  if (!have) {
    memcpy(map_put(&s->signed_, kb), content, sizeof content);
  } else if (memcmp(have, content, sizeof content) != 0) {
    fail(s, "DOUBLE SIGN by honest node %d (key %d) at h=%llu r=%u type=%u", n->idx, n->key,
         (unsigned long long)m.height, round, type);
  }
}

static void spam_vote(sim_t *s, node_t *n, uint64_t h, uint32_t r, ve_buf_t *b) {
  const cons_valset_t *vs = valset_at(s, h);
  int idx = cons_valset_find(vs, g_keys[n->key].pk);
  cons_vote_t v = {h, r, (uint8_t)(prng_pm(&s->rng, 500) ? CONS_VOTE_PREVOTE : CONS_VOTE_PRECOMMIT),
                   idx < 0 ? 0 : (uint32_t)idx, prng_pm(&s->rng, 500), {0}, {0}};
  for (int i = 0; i < 32 && v.has_id; i++) v.id[i] = (uint8_t)prng_next(&s->rng);
  cons_vote_sign(&v, &g_keys[n->key], SIM_CHAIN_ID);
  VE_ASSERT(cons_vote_encode(b, &v) == 0);
}

/* One junk message from a spamming Byzantine node at height h, round r. */
static void byz_spam(sim_t *s, node_t *n, uint64_t h, uint32_t r) {
  ve_buf_t b;
  ve_buf_init(&b, CONS_MSG_BYTES_MAX);
  uint8_t junk[200];
  switch (prng_below(&s->rng, 6)) {
    case 0: { /* random bytes, sometimes with a valid header */
      size_t len = (size_t)prng_between(&s->rng, 1, sizeof junk);
      for (size_t i = 0; i < len; i++) junk[i] = (uint8_t)prng_next(&s->rng);
      if (prng_pm(&s->rng, 500)) junk[0] = CONS_WIRE_VERSION;
      ve_buf_append(&b, junk, len);
      break;
    }
    case 1: /* a signed vote for a far-future round */
      spam_vote(s, n, h, (uint32_t)prng_between(&s->rng, r + 1, r + 100000), &b);
      break;
    case 2: /* a signed vote for the next height (fills future buffers) */
      spam_vote(s, n, h + 1, (uint32_t)prng_below(&s->rng, 50), &b);
      break;
    case 3: { /* a proposal signed by someone who is not the proposer */
      cons_proposal_t p = {h, r, -1, {0}, ve_slice(junk, 40), {0}};
      memset(junk, 'V', 40);
      p.id[0] = (uint8_t)prng_next(&s->rng);
      cons_proposal_sign(&p, &g_keys[n->key], SIM_CHAIN_ID);
      VE_ASSERT(cons_proposal_encode(&b, &p) == 0);
      break;
    }
    case 4: { /* a DECISION whose certificate has only this validator's precommit */
      cons_cert_t *c = calloc(1, sizeof *c);
      VE_ASSERT(c);
      cons_vote_t v;
      ve_buf_t tmp;
      ve_buf_init(&tmp, 0);
      spam_vote(s, n, h, r, &tmp);
      cons_msg_t m;
      VE_ASSERT(cons_msg_decode(ve_buf_slice(&tmp), &m, NULL) == 0);
      v = m.vote;
      c->height = h;
      c->round = r;
      memcpy(c->id, v.id, 32);
      c->count = 1;
      c->sigs[0].index = v.index;
      memcpy(c->sigs[0].sig, v.sig, 64);
      ve_buf_reset(&tmp);
      VE_ASSERT(cons_cert_encode(&tmp, c) == 0);
      VE_ASSERT(cons_decision_encode(&b, h, c->id, ve_slice(junk, 30), ve_buf_slice(&tmp)) == 0);
      ve_buf_free(&tmp);
      free(c);
      break;
    }
    default: { /* a status from far ahead */
      cons_status_msg_t st = {h + prng_between(&s->rng, 1, 1000), 0, false};
      VE_ASSERT(cons_status_encode(&b, &st) == 0);
      break;
    }
  }
  sblob_t *msg = encode_take(&b);
  net_broadcast(s, n->idx, msg);
  sblob_unref(msg);
}

/* Outgoing broadcast of node n: honest ones pass; Byzantine ones may be bent. */
static void node_broadcast(sim_t *s, node_t *n, sblob_t *msg) {
  if (honest(n)) {
    check_signed(s, n, sblob_slice(msg));
    net_broadcast(s, n->idx, msg);
    return;
  }
  cons_msg_t m;
  VE_ASSERT(cons_msg_decode(sblob_slice(msg), &m, NULL) == 0);
  if (n->byz == SIM_BYZ_SPAM && prng_pm(&s->rng, 600)) {
    uint32_t r = m.type == CONS_MSG_VOTE       ? m.vote.round
                 : m.type == CONS_MSG_PROPOSAL ? m.proposal.round
                 : m.type == CONS_MSG_STATUS   ? m.status.round
                                               : 0;
    byz_spam(s, n, m.height, r);
  }
  if (n->byz == SIM_BYZ_WITHHOLD && (m.type == CONS_MSG_VOTE || m.type == CONS_MSG_VOTES)) return;
  if (n->byz == SIM_BYZ_EQUIVOCATE && m.type == CONS_MSG_PROPOSAL) {
    cons_proposal_t alt = m.proposal;
    sblob_t *val = s->ledger ? ledger_value(s, n, alt.height, SIM_LEDGER_HONEST,
                                            1 + prng_below(&s->rng, 1000), alt.id)
                             : make_value(s, n, alt.height, true, alt.id);
    if (!val) {
      net_broadcast(s, n->idx, msg);
      return;
    }
    alt.pol_round = -1;
    alt.value = sblob_slice(val);
    cons_proposal_sign(&alt, &g_keys[n->key], SIM_CHAIN_ID);
    ve_buf_t b;
    ve_buf_init(&b, CONS_MSG_BYTES_MAX);
    VE_ASSERT(cons_proposal_encode(&b, &alt) == 0);
    sblob_t *altmsg = encode_take(&b);
    sim_log(s, "node %d equivocates as proposer h=%llu r=%u", n->idx,
            (unsigned long long)alt.height, alt.round);
    net_split(s, n->idx, msg, altmsg);
    sblob_unref(altmsg);
    sblob_unref(val);
    return;
  }
  if (n->byz == SIM_BYZ_DOUBLE_VOTE && m.type == CONS_MSG_VOTE) {
    cons_vote_t alt = m.vote;
    alt.has_id = !alt.has_id;
    for (int i = 0; i < 32; i++) alt.id[i] = alt.has_id ? (uint8_t)prng_next(&s->rng) : 0;
    cons_vote_sign(&alt, &g_keys[n->key], SIM_CHAIN_ID);
    ve_buf_t b;
    ve_buf_init(&b, CONS_MSG_BYTES_MAX);
    VE_ASSERT(cons_vote_encode(&b, &alt) == 0);
    sblob_t *altmsg = encode_take(&b);
    net_split(s, n->idx, msg, altmsg);
    sblob_unref(altmsg);
    return;
  }
  net_broadcast(s, n->idx, msg);
}

/* ================= nodes: actions, disk, app ================= */

static void node_process(sim_t *s, node_t *n);

static void pact_free(pact_t *a) {
  sblob_unref(a->data);
  sblob_unref(a->cert);
}

/* Moves every action the engine produced into the node's queue, in order. */
static void node_drain(sim_t *s, node_t *n) {
  (void)s;
  cons_action_t a;
  while (cons_action_next(n->eng, &a)) {
    if (n->pq_count == n->pq_cap && n->pq_head > 0) {
      memmove(n->pq, n->pq + n->pq_head, (n->pq_count - n->pq_head) * sizeof *n->pq);
      n->pq_count -= n->pq_head;
      n->pq_head = 0;
    }
    if (n->pq_count == n->pq_cap) {
      n->pq_cap = n->pq_cap ? 2 * n->pq_cap : 64;
      n->pq = realloc(n->pq, n->pq_cap * sizeof *n->pq);
      VE_ASSERT(n->pq);
    }
    pact_t *p = &n->pq[n->pq_count++];
    memset(p, 0, sizeof *p);
    p->kind = a.kind;
    p->peer = a.peer;
    p->token = a.token;
    p->height = a.height;
    p->delay = a.delay_ms;
    p->round = a.round;
    memcpy(p->id, a.id, 32);
    if (a.data.ptr || a.kind == CONS_ACT_COMMIT || a.kind == CONS_ACT_VALIDATE)
      p->data = sblob_new(a.data.ptr, a.data.len);
    if (a.cert.ptr) p->cert = sblob_new(a.cert.ptr, a.cert.len);
  }
}

static void node_input_done(sim_t *s, node_t *n) {
  node_drain(s, n);
  node_process(s, n);
}

static bool answer_sync(sim_t *s, node_t *n) {
  return n->app_delay_ms == 0 || prng_pm(&s->rng, n->sync_pm);
}

static void app_propose(sim_t *s, node_t *n, uint64_t h, uint32_t r) {
  if (s->ledger) {
    ledger_propose(s, n, h, r);
    return;
  }
  n->last_propose_ms = s->now;
  bool valid = !(n->byz == SIM_BYZ_INVALID && prng_pm(&s->rng, 800));
  uint8_t id[32];
  sblob_t *v = make_value(s, n, h, valid, id);
  if (!valid && prng_pm(&s->rng, 500)) id[0] ^= 1; /* or a lying id */
  int rc = cons_on_proposal(n->eng, h, r, id, sblob_slice(v));
  if (rc && rc != VE_ERR_STATE) fail(s, "node %d: cons_on_proposal: %s", n->idx, ve_strerror(rc));
  sblob_unref(v);
}

static void app_applied(sim_t *s, node_t *n, uint64_t upto) {
  while (n->applied < upto && n->applied < n->chain_len) {
    n->applied++;
    int rc = cons_on_applied(n->eng, n->applied, valset_at(s, n->applied + CONS_VALSET_DELAY));
    if (rc) fail(s, "node %d: cons_on_applied(%llu): %s", n->idx, (unsigned long long)n->applied,
                 ve_strerror(rc));
  }
}

static void record_fork(sim_t *s, const node_t *n, uint64_t h, const block_t *b) {
  if (s->fork.h && s->fork.h != h) return;
  s->fork.h = h;
  int side = n->side;
  if (s->fork.have[side]) return;
  s->fork.have[side] = true;
  memcpy(s->fork.id[side], b->id, 32);
  s->fork.cert[side] = sblob_ref(b->cert);
}

static void app_commit(sim_t *s, node_t *n, pact_t *a) {
  uint64_t h = a->height;
  if (h != n->chain_len + 1) {
    fail(s, "node %d committed height %llu after %zu", n->idx, (unsigned long long)h, n->chain_len);
    return;
  }
  const cons_valset_t *vs = valset_at(s, h);
  int rc = cons_cert_verify_with(vs, SIM_CHAIN_ID, h, a->id, sblob_slice(a->cert), memo_verify, s);
  if (rc) fail(s, "node %d: certificate of h=%llu rejected: %s", n->idx, (unsigned long long)h,
               ve_strerror(rc));
  if (honest(n)) {
    uint8_t *reg = map_get(&s->values, a->id);
    if (!reg || reg[0] != 1 || (!s->ledger && !value_valid(h, a->id, sblob_slice(a->data))))
      fail(s, "VALIDITY: node %d committed an invalid or unproposed value at h=%llu", n->idx,
           (unsigned long long)h);
    uint8_t hk[32];
    uint8_t raw[8];
    put_le64(raw, h);
    vcrypto_hash(hk, "veche/sim/height", raw, 8);
    uint8_t *first = map_get(&s->commits, hk);
    if (!first) {
      memcpy(map_put(&s->commits, hk), a->id, 32);
    } else if (memcmp(first, a->id, 32) != 0) {
      s->res->fork_detected = true;
      if (!s->cfg->control_fork)
        fail(s, "AGREEMENT: node %d committed a different block at h=%llu", n->idx,
             (unsigned long long)h);
    }
  }
  if (n->chain_len == n->chain_cap) {
    n->chain_cap = n->chain_cap ? 2 * n->chain_cap : 64;
    n->chain = realloc(n->chain, n->chain_cap * sizeof *n->chain);
    VE_ASSERT(n->chain);
  }
  block_t *b = &n->chain[n->chain_len++];
  memcpy(b->id, a->id, 32);
  b->round = a->round;
  b->value = sblob_ref(a->data);
  b->cert = sblob_ref(a->cert);
  if (a->round > s->res->max_round) s->res->max_round = a->round;
  if (s->healed && honest(n) && h >= s->heal_top + 2) {
    if (a->round > s->res->heal_rounds) s->res->heal_rounds = a->round;
    if (a->round > SIM_HEAL_ROUNDS_MAX)
      fail(s, "LIVENESS: height %llu begun after healing committed only in round %u",
           (unsigned long long)h, a->round);
  }
  if (s->ledger) ledger_commit(s, n, h, a->id, sblob_slice(a->data), sblob_slice(a->cert));
  if (s->cfg->control_fork && honest(n)) record_fork(s, n, h, b);
  sim_log(s, "node %d COMMIT h=%llu r=%u", n->idx, (unsigned long long)h, a->round);
  if (answer_sync(s, n)) {
    app_applied(s, n, h);
  } else {
    event_t ev = ev_make(EV_APP_APPLIED, n->idx, s->now + prng_between(&s->rng, 1, n->app_delay_ms));
    ev.inc = n->inc;
    ev.a = h;
    ev_push(s, ev);
  }
}

static void app_evidence(sim_t *s, node_t *n, pact_t *a) {
  cons_evidence_info_t info;
  if (cons_evidence_info(sblob_slice(a->data), &info) != 0) {
    fail(s, "node %d emitted undecodable evidence", n->idx);
    return;
  }
  int rc = cons_evidence_verify_with(valset_at(s, info.height), SIM_CHAIN_ID, sblob_slice(a->data),
                                     memo_verify, s);
  int k = key_of_pk(s, info.pk);
  if (rc) fail(s, "node %d emitted evidence that does not verify: %s", n->idx, ve_strerror(rc));
  if (k < 0 || !s->key_byz[k]) fail(s, "EVIDENCE names honest key %d (node %d)", k, n->idx);
  s->res->evidence++;
}

static void app_send_decision(sim_t *s, node_t *n, pact_t *a) {
  if (a->height == 0 || a->height > n->chain_len) return;
  const block_t *b = &n->chain[a->height - 1];
  ve_buf_t buf;
  ve_buf_init(&buf, CONS_MSG_BYTES_MAX);
  VE_ASSERT(cons_decision_encode(&buf, a->height, b->id, sblob_slice(b->value),
                                 sblob_slice(b->cert)) == 0);
  sblob_t *msg = encode_take(&buf);
  net_send(s, n->idx, (int)a->peer, msg);
  sblob_unref(msg);
}

static void node_crash(sim_t *s, node_t *n);

static void disk_persist(sim_t *s, node_t *n, pact_t *a) {
  if (n->nuns == n->capuns) {
    n->capuns = n->capuns ? 2 * n->capuns : 16;
    n->uns = realloc(n->uns, n->capuns * sizeof *n->uns);
    VE_ASSERT(n->uns);
  }
  n->uns[n->nuns++] = sblob_ref(a->data);
  n->fsync_busy = true;
  event_t ev = ev_make(EV_FSYNC, n->idx, s->now + n->fsync_ms);
  ev.inc = n->inc;
  ev_push(s, ev);
  /* Sometimes the power fails before this fsync completes: the tail is lost. */
  if (!s->healed && s->crashes_left > 0 && n->fsync_ms >= 2 && honest(n) &&
      prng_pm(&s->rng, s->cfg->tail_loss_pm)) {
    s->crashes_left--;
    event_t c = ev_make(EV_CRASH, n->idx, s->now + n->fsync_ms / 2);
    c.inc = n->inc;
    c.flag = true;
    ev_push(s, c);
  }
}

/* Executes queued actions in order until one must wait for an fsync. */
static void node_process(sim_t *s, node_t *n) {
  while (n->up && !n->fsync_busy && n->pq_head < n->pq_count && !s->failed) {
    pact_t a = n->pq[n->pq_head++];
    switch (a.kind) {
      case CONS_ACT_PERSIST:
        disk_persist(s, n, &a);
        break;
      case CONS_ACT_BROADCAST:
        node_broadcast(s, n, a.data);
        break;
      case CONS_ACT_SEND:
        if (honest(n)) check_signed(s, n, sblob_slice(a.data));
        net_send(s, n->idx, (int)a.peer, a.data);
        break;
      case CONS_ACT_SCHEDULE_TIMEOUT: {
        event_t ev = ev_make(EV_TIMER, n->idx, s->now + a.delay);
        ev.inc = n->inc;
        ev.a = a.token;
        ev_push(s, ev);
        break;
      }
      case CONS_ACT_REQUEST_PROPOSAL:
        if (answer_sync(s, n) && s->now >= n->last_propose_ms + n->interval_ms) {
          app_propose(s, n, a.height, a.round);
          node_drain(s, n);
        } else {
          uint64_t at = s->now + prng_between(&s->rng, 1, n->app_delay_ms + 1);
          if (at < n->last_propose_ms + n->interval_ms) at = n->last_propose_ms + n->interval_ms;
          event_t ev = ev_make(EV_APP_PROPOSE, n->idx, at);
          ev.inc = n->inc;
          ev.a = a.height;
          ev.r = a.round;
          ev_push(s, ev);
        }
        break;
      case CONS_ACT_VALIDATE: {
        bool ok = s->ledger ? ledger_validate(s, n, a.height, a.id, sblob_slice(a.data))
                            : value_valid(a.height, a.id, sblob_slice(a.data));
        if (answer_sync(s, n)) {
          int rc = cons_on_validated(n->eng, a.height, a.round, a.id, ok);
          if (rc && rc != VE_ERR_STATE && rc != VE_ERR_NOT_FOUND)
            fail(s, "node %d: cons_on_validated: %s", n->idx, ve_strerror(rc));
          node_drain(s, n);
        } else {
          event_t ev = ev_make(EV_APP_VALIDATE, n->idx,
                               s->now + prng_between(&s->rng, 1, n->app_delay_ms));
          ev.inc = n->inc;
          ev.a = a.height;
          ev.r = a.round;
          ev.flag = ok;
          memcpy(ev.id, a.id, 32);
          ev_push(s, ev);
        }
        break;
      }
      case CONS_ACT_COMMIT:
        app_commit(s, n, &a);
        node_drain(s, n);
        break;
      case CONS_ACT_EVIDENCE:
        if (honest(n)) app_evidence(s, n, &a);
        break;
      case CONS_ACT_SEND_DECISION:
        app_send_decision(s, n, &a);
        break;
    }
    pact_free(&a);
  }
  if (n->pq_head == n->pq_count) n->pq_head = n->pq_count = 0;
}

static uint64_t honest_max_height(const sim_t *s);

static void node_start(sim_t *s, node_t *n) {
  uint64_t start = n->chain_len + 1;
  if (n->restored) {
    /* What its operator does: the highest height any node holds, + 2. Before
     * the failure it signed at most at one height above its own tip, which no
     * node's height exceeded by more than that. */
    n->restored = false;
    n->sign_from = honest_max_height(s) + 2;
    sim_log(s, "node %d restarts from a backup at height %zu, signing from %llu", n->idx, n->chain_len,
            (unsigned long long)n->sign_from);
  }
  const cons_valset_t *sets[CONS_VALSET_DELAY];
  for (int i = 0; i < CONS_VALSET_DELAY; i++) sets[i] = valset_at(s, start + (uint64_t)i);
  /* Keep only records the engine can still need. */
  size_t j = 0;
  ve_slice_t *recs = calloc(n->nrec ? n->nrec : 1, sizeof *recs);
  VE_ASSERT(recs);
  for (size_t i = 0; i < n->nrec; i++) {
    uint64_t rh;
    VE_ASSERT(cons_record_height(sblob_slice(n->rec[i]), &rh) == 0);
    if (rh < start) {
      sblob_unref(n->rec[i]);
      continue;
    }
    n->rec[j] = n->rec[i];
    recs[j] = sblob_slice(n->rec[j]);
    j++;
  }
  n->nrec = j;
  cons_config_t cfg = {
      .chain_id = SIM_CHAIN_ID,
      .key = n->key >= 0 ? &g_keys[n->key] : NULL,
      .start_height = start,
      .timeout_base_ms = SIM_TIMEOUT_BASE_MS,
      .timeout_delta_ms = SIM_TIMEOUT_DELTA_MS,
      .rebroadcast_ms = SIM_REBROADCAST_MS,
      .records = recs,
      .records_count = n->nrec,
      .sign_from_height = start < n->sign_from ? n->sign_from : 0,
      .verify = memo_verify,
      .verify_ctx = s,
  };
  for (int i = 0; i < CONS_VALSET_DELAY; i++) cfg.valsets[i] = sets[i];
  int rc = cons_engine_new(&n->eng, &cfg);
  free(recs);
  if (rc) {
    fail(s, "node %d: cons_engine_new: %s", n->idx, ve_strerror(rc));
    return;
  }
  n->up = true;
  n->applied = n->chain_len;
  ledger_tip_t tip;
  if (s->ledger && honest(n) &&
      (sim_ledger_tip(n->store, &tip) != 0 || tip.height != n->chain_len))
    fail(s, "DISK: node %d restarts with its store not at its chain height %zu", n->idx,
         n->chain_len);
  VE_ASSERT(cons_start(n->eng) == 0);
  node_input_done(s, n);
}

static void node_crash(sim_t *s, node_t *n) {
  if (!n->up) return;
  if (n->nuns) s->res->tail_losses++;
  sim_log(s, "node %d CRASH (loses %zu unsynced records, %zu queued actions)", n->idx, n->nuns,
          n->pq_count - n->pq_head);
  cons_engine_free(n->eng);
  n->eng = NULL;
  n->up = false;
  n->inc++;
  for (size_t i = n->pq_head; i < n->pq_count; i++) pact_free(&n->pq[i]);
  n->pq_head = n->pq_count = 0;
  for (size_t i = 0; i < n->nuns; i++) sblob_unref(n->uns[i]);
  n->nuns = 0;
  n->fsync_busy = false;
  s->res->crashes++;
}

/* A crashed validator's store is replaced by an older backup: its chain and
 * durable records roll back to height b (a backup taken right after b's
 * commit), so it no longer knows what it signed above b. */
static void node_restore_backup(sim_t *s, node_t *n) {
  uint64_t depth = prng_between(&s->rng, 0, 6);
  size_t b = n->chain_len > depth ? n->chain_len - (size_t)depth : 0;
  for (size_t j = b; j < n->chain_len; j++) {
    sblob_unref(n->chain[j].value);
    sblob_unref(n->chain[j].cert);
  }
  n->chain_len = b;
  size_t k = 0;
  for (size_t i = 0; i < n->nrec; i++) {
    uint64_t rh;
    VE_ASSERT(cons_record_height(sblob_slice(n->rec[i]), &rh) == 0);
    if (rh > b) {
      sblob_unref(n->rec[i]);
      continue;
    }
    n->rec[k++] = n->rec[i];
  }
  n->nrec = k;
  n->restored = true;
  s->res->restores++;
  sim_log(s, "node %d RESTORED from a backup at height %zu", n->idx, b);
}

/* ================= run setup ================= */

static void setup_powers(sim_t *s, int n, uint64_t *power) {
  for (int k = 0; k < n; k++)
    power[k] = s->cfg->unequal_power ? prng_between(&s->rng, 1, 10) : 1;
}

/* Marks up to byz_max validators Byzantine keeping their power < 1/3. */
static void setup_byzantine(sim_t *s, int n, const uint64_t *power) {
  int want = s->cfg->byz_max ? (int)prng_between(&s->rng, 0, (uint64_t)s->cfg->byz_max) : 0;
  for (int tries = 0; tries < 4 * n && want > 0; tries++) {
    int k = (int)prng_below(&s->rng, (uint64_t)n);
    if (s->key_byz[k]) continue;
    s->key_byz[k] = true;
    if (!powers_safe(s, power)) {
      s->key_byz[k] = false;
      continue;
    }
    want--;
  }
}

static unsigned pick_kind(sim_t *s) {
  unsigned kinds[6];
  int nk = 0;
  for (int b = 0; b < 6; b++)
    if (s->cfg->byz_kinds & (1u << b)) kinds[nk++] = 1u << b;
  VE_ASSERT(nk > 0);
  return kinds[prng_below(&s->rng, (uint64_t)nk)];
}

static node_t *add_node(sim_t *s, int key, unsigned byz) {
  VE_ASSERT(s->nnodes < SIM_NODES_MAX);
  node_t *n = &s->nodes[s->nnodes];
  memset(n, 0, sizeof *n);
  n->idx = s->nnodes++;
  n->key = key;
  n->byz = byz;
  n->fsync_ms = (uint32_t)prng_between(&s->rng, 0, 6);
  n->app_delay_ms = prng_pm(&s->rng, 250) ? 0 : (uint32_t)prng_between(&s->rng, 1, 150);
  n->sync_pm = (uint32_t)prng_between(&s->rng, 0, 1000);
  n->interval_ms = (uint32_t)prng_between(&s->rng, 20, 120);
  return n;
}

/* Up to three points where the set changes: powers shift, joiners enter, an honest
 * validator leaves. Byzantine power stays below 1/3 in every set. */
static void setup_changes(sim_t *s, int n, uint64_t *power) {
  valset_from_powers(&s->changes[0].vs, power, s->nkeys);
  s->changes[0].from = 1;
  s->nchanges = 1;
  if (!s->cfg->valset_changes) return;
  int want = (int)prng_between(&s->rng, 1, 3);
  uint64_t h = 1;
  for (int c = 0; c < want; c++) {
    h += prng_between(&s->rng, 1, 4);
    uint64_t p[SIM_KEYS_MAX];
    memcpy(p, power, sizeof p);
    int op = (int)prng_below(&s->rng, 3);
    int k = (int)prng_below(&s->rng, (uint64_t)s->nkeys);
    if (op == 0) {
      p[k] = p[k] ? prng_between(&s->rng, 1, 12) : 0;
    } else if (op == 1 && k >= n) {
      p[k] = prng_between(&s->rng, 1, 6); /* a joiner enters */
    } else if (op == 2 && p[k] && !s->key_byz[k]) {
      p[k] = 0; /* an honest validator leaves (keeps running as an observer) */
    } else {
      p[k] = p[k] ? p[k] + 1 : 0;
    }
    if (!powers_safe(s, p)) continue;
    memcpy(power, p, sizeof p);
    valset_from_powers(&s->changes[s->nchanges].vs, power, s->nkeys);
    s->changes[s->nchanges].from = h;
    s->nchanges++;
    s->res->valset_changes++;
  }
}

static void setup_faults(sim_t *s) {
  const sim_config_t *c = s->cfg;
  s->loss_pm = (uint32_t)prng_between(&s->rng, 0, c->loss_pm_max);
  s->dup_pm = (uint32_t)prng_between(&s->rng, 0, c->dup_pm_max);
  s->heal_ms = prng_between(&s->rng, c->chaos_ms_min, c->chaos_ms_max);
  if (c->partitions || c->asym_partitions) {
    int want = (int)prng_between(&s->rng, 1, 3);
    for (int i = 0; i < want; i++) {
      episode_t *e = &s->ep[s->nep++];
      e->asym = c->asym_partitions && (!c->partitions || prng_pm(&s->rng, 500));
      e->start = prng_below(&s->rng, s->heal_ms);
      e->end = e->start + prng_between(&s->rng, 500, 5000);
      if (e->end > s->heal_ms) e->end = s->heal_ms;
      e->group = 0;
      while (e->group == 0 || e->group == (1u << s->nnodes) - 1)
        e->group = (uint32_t)prng_below(&s->rng, 1u << s->nnodes);
    }
  }
  s->crashes_left = c->crashes_max ? (int)prng_between(&s->rng, 1, (uint64_t)c->crashes_max) : 0;
  s->restores_left = c->restore_pm && !c->ledger ? 1 : 0;
  int planned = s->crashes_left ? (int)prng_between(&s->rng, 0, (uint64_t)s->crashes_left) : 0;
  for (int i = 0; i < planned; i++) {
    int who = (int)prng_below(&s->rng, (uint64_t)s->nnodes);
    if (!honest(&s->nodes[who])) continue;
    s->crashes_left--;
    uint64_t at = prng_below(&s->rng, s->heal_ms);
    ev_push(s, ev_make(EV_CRASH, who, at));
  }
}

static void setup_control(sim_t *s) {
  /* 4 validators of power 1; keys 1 and 2 (half the power) are Byzantine and each
   * runs twice, once on each side of a permanent partition of the honest ones. */
  uint64_t power[SIM_KEYS_MAX] = {1, 1, 1, 1};
  s->nkeys = 4;
  s->key_byz[1] = s->key_byz[2] = true;
  valset_from_powers(&s->changes[0].vs, power, s->nkeys);
  s->changes[0].from = 1;
  s->nchanges = 1;
  int sides[6] = {0, 1, 0, 1, 0, 1};
  int keys[6] = {0, 3, 1, 1, 2, 2};
  for (int i = 0; i < 6; i++) {
    node_t *n = add_node(s, keys[i], s->key_byz[keys[i]] ? SIM_BYZ_TWIN : 0);
    n->side = sides[i];
  }
  s->heal_ms = SIM_CONTROL_MS;
  s->res->n = 4;
  s->res->byz = 2;
}

static void setup(sim_t *s) {
  const sim_config_t *c = s->cfg;
  if (c->control_fork) {
    setup_control(s);
    return;
  }
  int nsizes = 0;
  while (nsizes < 3 && c->sizes[nsizes]) nsizes++;
  int n = c->sizes[prng_below(&s->rng, (uint64_t)nsizes)];
  s->nkeys = n + c->joiners;
  VE_ASSERT(s->nkeys <= SIM_KEYS_MAX);
  uint64_t power[SIM_KEYS_MAX];
  memset(power, 0, sizeof power);
  setup_powers(s, n, power);
  setup_byzantine(s, n, power);
  for (int k = 0; k < s->nkeys; k++) {
    unsigned kind = s->key_byz[k] ? pick_kind(s) : 0;
    add_node(s, k, kind);
    if (kind == SIM_BYZ_TWIN) add_node(s, k, kind);
    if (s->key_byz[k]) s->res->byz++;
  }
  for (int i = 0; i < c->observers; i++) add_node(s, -1, 0);
  setup_changes(s, n, power);
  setup_faults(s);
  s->res->n = n;
  if (!c->ledger) return;
  VE_ASSERT(sim_ledger_new(&s->ledger, s->seed, &s->changes[0].vs) == 0);
  for (int i = 0; i < s->nnodes; i++)
    VE_ASSERT(sim_ledger_store_new(s->ledger, i % 2 == 1, &s->nodes[i].store) == 0); /* odd: pruning */
}

/* ================= main loop ================= */

static uint64_t honest_min_height(const sim_t *s) {
  uint64_t m = UINT64_MAX;
  for (int i = 0; i < s->nnodes; i++)
    if (honest(&s->nodes[i]) && s->nodes[i].chain_len < m) m = s->nodes[i].chain_len;
  return m;
}

static uint64_t honest_max_height(const sim_t *s) {
  uint64_t m = 0;
  for (int i = 0; i < s->nnodes; i++)
    if (honest(&s->nodes[i]) && s->nodes[i].chain_len > m) m = s->nodes[i].chain_len;
  return m;
}

static void on_heal(sim_t *s) {
  s->healed = true;
  for (int i = 0; i < s->nnodes; i++)
    if (!s->nodes[i].up) node_start(s, &s->nodes[i]);
  s->heal_top = honest_max_height(s);
  uint64_t top = s->heal_top + 3;
  s->goal = top > (uint64_t)s->cfg->heights_min ? top : (uint64_t)s->cfg->heights_min;
  s->deadline = s->now + SIM_LIVENESS_MS;
  sim_log(s, "HEALED: goal height %llu", (unsigned long long)s->goal);
}

static void handle_event(sim_t *s, event_t *ev) {
  node_t *n = &s->nodes[ev->node];
  if (ev->type == EV_CRASH) {
    if (n->up && (!ev->flag || ev->inc == n->inc) && !s->healed) {
      node_crash(s, n);
      if (s->restores_left > 0 && n->key >= 0 && honest(n) && prng_pm(&s->rng, s->cfg->restore_pm)) {
        s->restores_left--;
        node_restore_backup(s, n);
      }
      event_t r = ev_make(EV_RESTART, n->idx, s->now + prng_between(&s->rng, 100, 3000));
      r.inc = n->inc;
      ev_push(s, r);
    }
    return;
  }
  if (ev->type == EV_RESTART) {
    if (!n->up && ev->inc == n->inc) {
      sim_log(s, "node %d RESTART at height %zu", n->idx, n->chain_len + 1);
      node_start(s, n);
    }
    return;
  }
  if (!n->up || (ev->type != EV_DELIVER && ev->inc != n->inc)) return;
  int rc = 0;
  switch (ev->type) {
    case EV_DELIVER:
      rc = cons_on_message(n->eng, (uint64_t)ev->from, sblob_slice(ev->blob));
      if (rc && honest(&s->nodes[ev->from]) && honest(n))
        fail(s, "node %d rejected a message of honest node %d: %s", n->idx, ev->from,
             ve_strerror(rc));
      break;
    case EV_TIMER:
      rc = cons_on_timeout(n->eng, ev->a);
      break;
    case EV_FSYNC:
      for (size_t i = 0; i < n->nuns; i++) {
        if (n->nrec == n->caprec) {
          n->caprec = n->caprec ? 2 * n->caprec : 64;
          n->rec = realloc(n->rec, n->caprec * sizeof *n->rec);
          VE_ASSERT(n->rec);
        }
        n->rec[n->nrec++] = n->uns[i];
      }
      n->nuns = 0;
      n->fsync_busy = false;
      break;
    case EV_APP_PROPOSE:
      app_propose(s, n, ev->a, ev->r);
      break;
    case EV_APP_VALIDATE:
      rc = cons_on_validated(n->eng, ev->a, ev->r, ev->id, ev->flag);
      if (rc == VE_ERR_STATE || rc == VE_ERR_NOT_FOUND) rc = 0;
      break;
    case EV_APP_APPLIED:
      app_applied(s, n, ev->a);
      break;
  }
  if (rc && ev->type != EV_DELIVER) fail(s, "node %d: input failed: %s", n->idx, ve_strerror(rc));
  node_input_done(s, n);
}

static void check_control(sim_t *s) {
  if (!s->res->fork_detected) {
    fail(s, "CONTROL: Byzantine power > 1/3 yet no fork was detected");
    return;
  }
  if (!s->fork.have[0] || !s->fork.have[1]) {
    fail(s, "CONTROL: fork without both sides' certificates");
    return;
  }
  ve_buf_t ev[VE_VALIDATORS_MAX];
  size_t count = 0;
  const cons_valset_t *vs = valset_at(s, s->fork.h);
  int rc = cons_evidence_from_certs(vs, SIM_CHAIN_ID, s->fork.h, s->fork.id[0],
                                    sblob_slice(s->fork.cert[0]), s->fork.id[1],
                                    sblob_slice(s->fork.cert[1]), ev, &count);
  bool named[SIM_KEYS_MAX] = {0};
  for (size_t i = 0; i < count; i++) {
    cons_evidence_info_t info;
    if (cons_evidence_verify(vs, SIM_CHAIN_ID, ve_buf_slice(&ev[i])) != 0 ||
        cons_evidence_info(ve_buf_slice(&ev[i]), &info) != 0)
      fail(s, "CONTROL: fork evidence does not verify");
    else if (key_of_pk(s, info.pk) >= 0)
      named[key_of_pk(s, info.pk)] = true;
    ve_buf_free(&ev[i]);
  }
  if (rc) fail(s, "CONTROL: evidence from certificates: %s", ve_strerror(rc));
  for (int k = 0; k < s->nkeys; k++)
    if (named[k] != s->key_byz[k])
      fail(s, "CONTROL: evidence %s key %d", named[k] ? "wrongly names" : "misses", k);
  sim_log(s, "CONTROL: fork at h=%llu caught, %zu evidence", (unsigned long long)s->fork.h, count);
}

static void dump_nodes(sim_t *s) {
  for (int i = 0; i < s->nnodes; i++) {
    node_t *n = &s->nodes[i];
    cons_status_t st;
    memset(&st, 0, sizeof st);
    if (n->eng) cons_status(n->eng, &st);
    sim_log(s, "node %d key=%d byz=%u up=%d chain=%zu h=%llu r=%u step=%u locked=%lld valid=%lld "
            "waiting=%d own=%d", i, n->key, n->byz, n->up, n->chain_len,
            (unsigned long long)st.height, st.round, st.step, (long long)st.locked_round,
            (long long)st.valid_round, st.waiting_valset, st.own_index);
  }
}

static void run_loop(sim_t *s) {
  for (int i = 0; i < s->nnodes; i++) node_start(s, &s->nodes[i]);
  while (!s->failed && s->heap_len > 0) {
    if (!s->healed && s->heap[0].t >= s->heal_ms) {
      s->now = s->heal_ms;
      if (s->cfg->control_fork) break;
      on_heal(s);
      continue;
    }
    event_t ev = ev_pop(s);
    s->now = ev.t;
    s->res->events++;
    handle_event(s, &ev);
    sblob_unref(ev.blob);
    if (s->res->events > SIM_EVENTS_MAX) fail(s, "event budget exhausted");
    if (s->healed && honest_min_height(s) >= s->goal) break;
    if (s->healed && s->now > s->deadline)
      fail(s, "LIVENESS: goal height %llu not reached %u ms after healing (lowest honest %llu)",
           (unsigned long long)s->goal, SIM_LIVENESS_MS, (unsigned long long)honest_min_height(s));
  }
  if (s->failed) dump_nodes(s);
  if (s->cfg->control_fork && !s->failed) check_control(s);
  if (s->ledger && !s->failed) ledger_check_end(s);
}

static void teardown(sim_t *s) {
  for (int i = 0; i < s->nnodes; i++) {
    node_t *n = &s->nodes[i];
    cons_engine_free(n->eng);
    for (size_t j = n->pq_head; j < n->pq_count; j++) pact_free(&n->pq[j]);
    free(n->pq);
    for (size_t j = 0; j < n->nrec; j++) sblob_unref(n->rec[j]);
    free(n->rec);
    for (size_t j = 0; j < n->nuns; j++) sblob_unref(n->uns[j]);
    free(n->uns);
    for (size_t j = 0; j < n->chain_len; j++) {
      sblob_unref(n->chain[j].value);
      sblob_unref(n->chain[j].cert);
    }
    free(n->chain);
    store_close(n->store);
  }
  for (size_t i = 0; i < s->heap_len; i++) sblob_unref(s->heap[i].blob);
  free(s->heap);
  sblob_unref(s->fork.cert[0]);
  sblob_unref(s->fork.cert[1]);
  map_free(&s->values);
  map_free(&s->signed_);
  map_free(&s->vcache);
  map_free(&s->commits);
  map_free(&s->states);
  if (s->ledger) {
    sim_ledger_stats_t st;
    sim_ledger_stats(s->ledger, &st);
    s->res->txs = st.committed;
    s->res->txs_failed = st.failed;
  }
  sim_ledger_free(s->ledger);
}

void sim_run(const sim_config_t *cfg, uint64_t seed, bool verbose, sim_result_t *res) {
  keys_init();
  memset(res, 0, sizeof *res);
  sim_t *s = calloc(1, sizeof *s);
  VE_ASSERT(s);
  s->cfg = cfg;
  s->res = res;
  s->verbose = verbose;
  s->seed = seed;
  prng_seed(&s->rng, seed);
  setup(s);
  res->nodes = s->nnodes;
  run_loop(s);
  res->sim_ms = s->now;
  res->heights = honest_min_height(s);
  res->ok = !s->failed;
  teardown(s);
  free(s);
}
