/* engine_test.c — the consensus engine driven by a small in-process harness
 * (perfect FIFO network, synchronous application, timers fired by hand):
 *   - one validator commits every height inside one call chain, no timer needed;
 *   - four validators with unequal power commit on messages alone;
 *   - an observer follows with valid certificates and never persists or signs;
 *   - every signature is preceded by the PERSIST of its record;
 *   - after a restart from its records a validator never signs a conflicting
 *     prevote/proposal and keeps its lock; a lost unsynced tail is harmless;
 *   - a lock record (value bytes and POL) precedes every locking precommit, and
 *     a restarted lock holder re-proposes its locked value with that POL even
 *     though nobody else kept it, which a node that never saw it accepts;
 *   - double votes and double proposals produce verifiable evidence;
 *   - an invalid value gets a nil prevote; a node waits for an unknown validator
 *     set; a late node catches up through DECISION messages;
 *   - stale and malformed inputs are refused without harm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "base/log.h"
#include "consensus/cons_int.h"

#define CHAIN "veche-engine-test"
#define TN_MAX 6
#define TN_RECS_MAX 512
#define TN_CHAIN_MAX 64
#define TN_TOKENS_MAX 4096

typedef struct {
  uint64_t h;
  uint8_t id[32];
  ve_buf_t value, cert;
} tblock_t;

typedef struct {
  cons_engine_t *e;
  int key; /* -1 observer */
  bool up, connected, app_invalid, app_silent;
  ve_buf_t recs[TN_RECS_MAX];
  size_t nrec;
  tblock_t chain[TN_CHAIN_MAX];
  size_t chain_len;
  uint64_t tokens[TN_TOKENS_MAX];
  size_t ntok;
  int evidence, persists, signed_msgs;
  ve_buf_t last_evidence;
  bool unpersisted_signature; /* a signed message left before its record */
  uint64_t want_h;            /* REQUEST_PROPOSAL seen and not answered (app_silent) */
  uint32_t want_r;
  ve_buf_t last_prevote;      /* last own prevote message broadcast */
  ve_buf_t last_proposal;     /* last proposal message it broadcast */
  ve_buf_t last_votes;        /* last VOTES batch it broadcast */
  uint64_t max_h;             /* the application proposes up to this height */
  uint64_t sign_from;         /* cons_config_t.sign_from_height at boot */
  uint64_t min_signed_h;      /* lowest height of a message it signed; 0: none */
} tnode_t;

typedef struct {
  int to, from;
  ve_buf_t msg;
} tmsg_t;

static vcrypto_keypair_t keys[TN_MAX];
static cons_valset_t vs;
static tnode_t nodes[TN_MAX];
static int nnodes;
static tmsg_t *queue;
static size_t q_head, q_len, q_cap;

static int group_setup(void **state) {
  (void)state;
  assert_int_equal(vcrypto_init(), 0);
  ve_log_set_level(VE_LOG_OFF);
  for (int i = 0; i < TN_MAX; i++) {
    uint8_t seed[32] = {0xe1, (uint8_t)i};
    vcrypto_keypair_from_seed(&keys[i], seed);
  }
  return 0;
}

static void set_valset(int n, const uint64_t *powers) {
  memset(&vs, 0, sizeof vs);
  vs.count = (uint32_t)n;
  for (int i = 0; i < n; i++) {
    memcpy(vs.v[i].pk, keys[i].pk, 32);
    vs.v[i].power = powers ? powers[i] : 1;
  }
}

static void value_for(uint8_t id[32], ve_buf_t *out, int node, uint64_t h, uint32_t r) {
  char s[64];
  int n = snprintf(s, sizeof s, "block n=%d h=%llu r=%u", node, (unsigned long long)h, r);
  ve_buf_init(out, 0);
  ve_buf_append(out, s, (size_t)n);
  vcrypto_hash(id, "veche/test/value", out->ptr, out->len);
}

static void q_push(int to, int from, ve_slice_t msg) {
  if (q_len == q_cap) {
    q_cap = q_cap ? 2 * q_cap : 256;
    queue = realloc(queue, q_cap * sizeof *queue);
    assert_non_null(queue);
  }
  tmsg_t *m = &queue[q_len++];
  m->to = to;
  m->from = from;
  ve_buf_init(&m->msg, 0);
  ve_buf_append(&m->msg, msg.ptr, msg.len);
}

static bool have_record(const tnode_t *n, const cons_record_t *want) {
  for (size_t i = 0; i < n->nrec; i++) {
    if (cons_record_is_lock(ve_buf_slice(&n->recs[i]))) continue;
    cons_record_t r;
    assert_int_equal(cons_record_decode(ve_buf_slice(&n->recs[i]), &r), 0);
    if (r.height == want->height && r.round == want->round && r.type == want->type &&
        r.has_id == want->has_id && (!r.has_id || memcmp(r.id, want->id, 32) == 0))
      return true;
  }
  return false;
}

/* A signed message of this node must have its record persisted already. */
static void check_persisted(tnode_t *n, int self, ve_slice_t msg) {
  cons_msg_t m;
  assert_int_equal(cons_msg_decode(msg, &m, NULL), 0);
  cons_record_t r;
  memset(&r, 0, sizeof r);
  if (m.type == CONS_MSG_VOTE && (int)m.vote.index == n->key) {
    r = (cons_record_t){m.height, m.vote.round, m.vote.type, m.vote.has_id, {0}, -1};
    memcpy(r.id, m.vote.id, 32);
    if (m.vote.type == CONS_VOTE_PREVOTE) {
      ve_buf_free(&n->last_prevote);
      ve_buf_init(&n->last_prevote, 0);
      ve_buf_append(&n->last_prevote, msg.ptr, msg.len);
    }
  } else if (m.type == CONS_MSG_PROPOSAL &&
             (int)cons_proposal_verify(&m.proposal, keys[self].pk, CHAIN, NULL, NULL) == 0 &&
             n->key >= 0) {
    r = (cons_record_t){m.height, m.proposal.round, CONS_TYPE_PROPOSAL, true, {0},
                        m.proposal.pol_round};
    memcpy(r.id, m.proposal.id, 32);
  } else {
    return;
  }
  n->signed_msgs++;
  if (!n->min_signed_h || m.height < n->min_signed_h) n->min_signed_h = m.height;
  if (!have_record(n, &r)) n->unpersisted_signature = true;
}

static void drain(int i) {
  tnode_t *n = &nodes[i];
  cons_action_t a;
  while (n->up && cons_action_next(n->e, &a)) {
    switch (a.kind) {
      case CONS_ACT_PERSIST:
        assert_true(n->nrec < TN_RECS_MAX);
        ve_buf_init(&n->recs[n->nrec], 0);
        ve_buf_append(&n->recs[n->nrec++], a.data.ptr, a.data.len);
        n->persists++;
        break;
      case CONS_ACT_BROADCAST:
        if (n->key >= 0) check_persisted(n, n->key, a.data);
        if (a.data.len >= 2 && (a.data.ptr[1] == CONS_MSG_PROPOSAL || a.data.ptr[1] == CONS_MSG_VOTES)) {
          ve_buf_t *keep = a.data.ptr[1] == CONS_MSG_PROPOSAL ? &n->last_proposal : &n->last_votes;
          ve_buf_free(keep);
          ve_buf_init(keep, 0);
          ve_buf_append(keep, a.data.ptr, a.data.len);
        }
        for (int j = 0; j < nnodes; j++)
          if (j != i && n->connected && nodes[j].connected) q_push(j, i, a.data);
        break;
      case CONS_ACT_SEND:
        if (n->connected && nodes[a.peer].connected) q_push((int)a.peer, i, a.data);
        break;
      case CONS_ACT_SCHEDULE_TIMEOUT:
        assert_true(n->ntok < TN_TOKENS_MAX);
        n->tokens[n->ntok++] = a.token;
        break;
      case CONS_ACT_REQUEST_PROPOSAL: {
        if (n->app_silent || a.height > n->max_h) {
          n->want_h = a.height;
          n->want_r = a.round;
          break;
        }
        uint8_t id[32];
        ve_buf_t v;
        value_for(id, &v, i, a.height, a.round);
        assert_int_equal(cons_on_proposal(n->e, a.height, a.round, id, ve_buf_slice(&v)), 0);
        ve_buf_free(&v);
        break;
      }
      case CONS_ACT_VALIDATE: {
        uint8_t want[32];
        vcrypto_hash(want, "veche/test/value", a.data.ptr, a.data.len);
        bool ok = !n->app_invalid && memcmp(want, a.id, 32) == 0;
        assert_int_equal(cons_on_validated(n->e, a.height, a.round, a.id, ok), 0);
        break;
      }
      case CONS_ACT_COMMIT: {
        assert_true(n->chain_len < TN_CHAIN_MAX);
        assert_int_equal(a.height, n->chain_len + 1);
        assert_int_equal(cons_cert_verify(&vs, CHAIN, a.height, a.id, a.cert), 0);
        tblock_t *b = &n->chain[n->chain_len++];
        b->h = a.height;
        memcpy(b->id, a.id, 32);
        ve_buf_init(&b->value, 0);
        ve_buf_append(&b->value, a.data.ptr, a.data.len);
        ve_buf_init(&b->cert, 0);
        ve_buf_append(&b->cert, a.cert.ptr, a.cert.len);
        assert_int_equal(cons_on_applied(n->e, a.height, &vs), 0);
        break;
      }
      case CONS_ACT_EVIDENCE:
        n->evidence++;
        ve_buf_free(&n->last_evidence);
        ve_buf_init(&n->last_evidence, 0);
        ve_buf_append(&n->last_evidence, a.data.ptr, a.data.len);
        break;
      case CONS_ACT_SEND_DECISION:
        if (a.height >= 1 && a.height <= n->chain_len && nodes[a.peer].connected) {
          const tblock_t *b = &n->chain[a.height - 1];
          ve_buf_t m;
          ve_buf_init(&m, 0);
          assert_int_equal(cons_decision_encode(&m, b->h, b->id, ve_buf_slice(&b->value),
                                                ve_buf_slice(&b->cert)), 0);
          q_push((int)a.peer, i, ve_buf_slice(&m));
          ve_buf_free(&m);
        }
        break;
    }
  }
}

/* Delivers queued messages until quiet; returns how many were delivered. */
static size_t net_run(void) {
  size_t delivered = 0;
  while (q_head < q_len) {
    tmsg_t m = queue[q_head++];
    if (nodes[m.to].up && nodes[m.to].connected) {
      int rc = cons_on_message(nodes[m.to].e, (uint64_t)m.from, ve_buf_slice(&m.msg));
      assert_int_equal(rc, 0);
      drain(m.to);
      delivered++;
    }
    ve_buf_free(&m.msg);
    assert_true(delivered < 1000000);
  }
  q_head = q_len = 0;
  return delivered;
}

static void node_boot(int i, int key, uint64_t start, const cons_valset_t *next) {
  tnode_t *n = &nodes[i];
  ve_slice_t recs[TN_RECS_MAX];
  for (size_t k = 0; k < n->nrec; k++) recs[k] = ve_buf_slice(&n->recs[k]);
  cons_config_t cfg = {
      .chain_id = CHAIN,
      .valsets = {&vs, next},
      .key = key >= 0 ? &keys[key] : NULL,
      .start_height = start,
      .timeout_base_ms = 1000,
      .timeout_delta_ms = 500,
      .records = recs,
      .records_count = n->nrec,
      .sign_from_height = n->sign_from,
  };
  n->key = key;
  if (!n->max_h) n->max_h = 8;
  assert_int_equal(cons_engine_new(&n->e, &cfg), 0);
  n->up = true;
  n->connected = true;
}

static void boot(int count, int observers) {
  memset(nodes, 0, sizeof nodes);
  nnodes = count + observers;
  for (int i = 0; i < nnodes; i++) node_boot(i, i < count ? i : -1, 1, &vs);
}

static void start_all(void) {
  for (int i = 0; i < nnodes; i++) {
    assert_int_equal(cons_start(nodes[i].e), 0);
    drain(i);
  }
}

static void q_clear(void) {
  for (size_t k = q_head; k < q_len; k++) ve_buf_free(&queue[k].msg);
  q_head = q_len = 0;
}

static void node_free(tnode_t *n) {
  cons_engine_free(n->e);
  n->e = NULL;
  n->up = false;
}

static void teardown_all(void) {
  for (int i = 0; i < nnodes; i++) {
    tnode_t *n = &nodes[i];
    node_free(n);
    for (size_t k = 0; k < n->nrec; k++) ve_buf_free(&n->recs[k]);
    for (size_t k = 0; k < n->chain_len; k++) {
      ve_buf_free(&n->chain[k].value);
      ve_buf_free(&n->chain[k].cert);
    }
    ve_buf_free(&n->last_evidence);
    ve_buf_free(&n->last_prevote);
    ve_buf_free(&n->last_proposal);
    ve_buf_free(&n->last_votes);
  }
  q_clear();
  free(queue);
  queue = NULL;
  q_head = q_len = q_cap = 0;
}

/* ---------------------------------------------------------------- */

static void test_single_validator(void **state) {
  (void)state;
  set_valset(1, NULL);
  memset(nodes, 0, sizeof nodes);
  nnodes = 1;
  nodes[0].max_h = 10;
  node_boot(0, 0, 1, &vs);
  assert_int_equal(cons_start(nodes[0].e), 0);
  drain(0);
  /* ten heights inside one call chain: only the application's synchronous
   * answers drove it, no timer fired, no message arrived */
  assert_int_equal(nodes[0].chain_len, 10);
  cons_status_t st;
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.height, 11);
  assert_false(nodes[0].unpersisted_signature);
  assert_int_equal(nodes[0].signed_msgs, 3 * 10); /* proposal, prevote, precommit */
  assert_int_equal(nodes[0].persists, 4 * 10); /* the three, and the lock */
  teardown_all();
}

static void test_single_validator_async_app(void **state) {
  (void)state;
  set_valset(1, NULL);
  boot(1, 0);
  nodes[0].app_silent = true;
  start_all();
  for (int h = 1; h <= 10; h++) {
    assert_int_equal(nodes[0].want_h, (uint64_t)h);
    uint8_t id[32];
    ve_buf_t v;
    value_for(id, &v, 0, nodes[0].want_h, nodes[0].want_r);
    assert_int_equal(cons_on_proposal(nodes[0].e, nodes[0].want_h, nodes[0].want_r, id,
                                      ve_buf_slice(&v)), 0);
    /* a second answer for the same request is refused */
    assert_int_equal(cons_on_proposal(nodes[0].e, nodes[0].want_h, nodes[0].want_r, id,
                                      ve_buf_slice(&v)), VE_ERR_STATE);
    ve_buf_free(&v);
    drain(0);
    assert_int_equal(nodes[0].chain_len, (size_t)h);
  }
  teardown_all();
}

static void test_four_validators_message_driven(void **state) {
  (void)state;
  uint64_t powers[4] = {1, 5, 2, 3};
  set_valset(4, powers);
  boot(4, 1);
  for (int i = 0; i < nnodes; i++) nodes[i].app_silent = false;
  start_all();
  for (int round = 0; round < 30 && nodes[4].chain_len < 8; round++) net_run();
  /* with a perfect network nothing needed a timer to fire: the harness never
   * fired one, yet every node (the observer too) committed the 8 heights */
  for (int i = 0; i < nnodes; i++) {
    assert_int_equal(nodes[i].chain_len, 8);
    assert_false(nodes[i].unpersisted_signature);
    for (size_t h = 0; h < 8; h++) assert_memory_equal(nodes[i].chain[h].id, nodes[0].chain[h].id, 32);
  }
  assert_int_equal(nodes[4].persists, 0);   /* observer */
  assert_int_equal(nodes[4].signed_msgs, 0);
  assert_true(nodes[1].persists > 0);
  teardown_all();
}

/* Drives node 0 of a 4-validator set by hand: messages from validators 1..3 are
 * forged here with their keys. */
static void send_proposal(int to, uint64_t h, uint32_t r, int64_t pol, const uint8_t id[32],
                          ve_slice_t value) {
  uint32_t p = cons_proposer(&vs, h, r);
  cons_proposal_t prop = {h, r, pol, {0}, value, {0}};
  memcpy(prop.id, id, 32);
  cons_proposal_sign(&prop, &keys[p], CHAIN);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_proposal_encode(&b, &prop), 0);
  assert_int_equal(cons_on_message(nodes[to].e, p, ve_buf_slice(&b)), 0);
  ve_buf_free(&b);
  drain(to);
}

static void send_vote(int to, int from, uint64_t h, uint32_t r, uint8_t type, const uint8_t *id) {
  cons_vote_t v = {h, r, type, (uint32_t)from, id != NULL, {0}, {0}};
  if (id) memcpy(v.id, id, 32);
  cons_vote_sign(&v, &keys[from], CHAIN);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_vote_encode(&b, &v), 0);
  assert_int_equal(cons_on_message(nodes[to].e, (uint64_t)from, ve_buf_slice(&b)), 0);
  ve_buf_free(&b);
  drain(to);
}

static void fire(int i, unsigned kind, uint64_t h, uint32_t r) {
  assert_int_equal(cons_on_timeout(nodes[i].e, cons_token_make(kind, h, r)), 0);
  drain(i);
}

/* Which prevote did node 0 last sign? */
static bool last_prevote_is(const tnode_t *n, uint32_t round, const uint8_t *id) {
  cons_msg_t m;
  if (cons_msg_decode(ve_buf_slice(&n->last_prevote), &m, NULL) != 0) return false;
  if (m.vote.round != round) return false;
  return id ? m.vote.has_id && memcmp(m.vote.id, id, 32) == 0 : !m.vote.has_id;
}

static void restart(int i) {
  node_free(&nodes[i]);
  q_clear();
  node_boot(i, i, nodes[i].chain_len + 1, &vs);
  assert_int_equal(cons_start(nodes[i].e), 0);
  drain(i);
}

static void isolate_node0(void) {
  /* node 0 talks to nobody: every other "validator" is forged by the test */
  for (int i = 1; i < nnodes; i++) {
    node_free(&nodes[i]);
    nodes[i].connected = false;
  }
}

static void test_no_double_prevote_after_restart(void **state) {
  (void)state;
  set_valset(4, NULL);
  boot(4, 0);
  isolate_node0();
  assert_int_equal(cons_start(nodes[0].e), 0);
  drain(0);
  uint32_t p = cons_proposer(&vs, 1, 0);
  assert_int_not_equal(p, 0); /* node 0 is not the proposer of (1, 0) */
  uint8_t x[32], y[32];
  ve_buf_t vx, vy;
  value_for(x, &vx, 9, 1, 0);
  value_for(y, &vy, 8, 1, 0);
  send_proposal(0, 1, 0, -1, x, ve_buf_slice(&vx));
  assert_true(last_prevote_is(&nodes[0], 0, x));
  size_t recs_before = nodes[0].nrec;
  ve_buf_t sent;
  ve_buf_init(&sent, 0);
  ve_buf_append(&sent, nodes[0].last_prevote.ptr, nodes[0].last_prevote.len);

  restart(0);
  /* it re-sends exactly the prevote it had sent, and nothing new was persisted */
  assert_int_equal(nodes[0].last_prevote.len, sent.len);
  assert_memory_equal(nodes[0].last_prevote.ptr, sent.ptr, sent.len);
  assert_int_equal(nodes[0].nrec, recs_before);
  /* an equivocating proposer now offers y for the same round: no second prevote */
  send_proposal(0, 1, 0, -1, y, ve_buf_slice(&vy));
  assert_true(last_prevote_is(&nodes[0], 0, x));
  fire(0, CONS_TIMER_PROPOSE, 1, 0); /* even the timeout does not make it prevote nil */
  assert_true(last_prevote_is(&nodes[0], 0, x));
  assert_int_equal(nodes[0].nrec, recs_before);
  assert_false(nodes[0].unpersisted_signature);
  cons_status_t st;
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.step, 2);
  ve_buf_free(&sent);
  ve_buf_free(&vx);
  ve_buf_free(&vy);
  teardown_all();
}

static void test_lock_survives_restart(void **state) {
  (void)state;
  set_valset(4, NULL);
  boot(4, 0);
  isolate_node0();
  assert_int_equal(cons_start(nodes[0].e), 0);
  drain(0);
  uint8_t x[32], z[32];
  ve_buf_t vx, vz;
  value_for(x, &vx, 9, 1, 0);
  value_for(z, &vz, 7, 1, 1);
  send_proposal(0, 1, 0, -1, x, ve_buf_slice(&vx));
  send_vote(0, 1, 1, 0, CONS_VOTE_PREVOTE, x);
  send_vote(0, 2, 1, 0, CONS_VOTE_PREVOTE, x); /* 3 of 4 with node 0's own: polka */
  cons_status_t st;
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.locked_round, 0);
  assert_int_equal(st.step, 3);

  restart(0);
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.locked_round, 0); /* restored from the precommit record */
  assert_int_equal(st.step, 3);
  /* round 1 (via precommit timeout) proposes z without a proof of lock: nil */
  send_vote(0, 1, 1, 0, CONS_VOTE_PRECOMMIT, NULL);
  send_vote(0, 2, 1, 0, CONS_VOTE_PRECOMMIT, NULL);
  fire(0, CONS_TIMER_PRECOMMIT, 1, 0);
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.round, 1);
  send_proposal(0, 1, 1, -1, z, ve_buf_slice(&vz));
  assert_true(last_prevote_is(&nodes[0], 1, NULL));
  assert_false(nodes[0].unpersisted_signature);
  ve_buf_free(&vx);
  ve_buf_free(&vz);
  teardown_all();
}

/* Node 0 (isolated, the others forged) locks on x in round 0 of height 1.
 * Returns the index of its lock record and leaves x's bytes in *vx. */
static size_t lock_on_x(uint8_t x[32], ve_buf_t *vx) {
  set_valset(4, NULL);
  boot(4, 0);
  isolate_node0();
  assert_int_equal(cons_start(nodes[0].e), 0);
  drain(0);
  value_for(x, vx, 9, 1, 0);
  send_proposal(0, 1, 0, -1, x, ve_buf_slice(vx));
  size_t before = nodes[0].nrec;
  send_vote(0, 1, 1, 0, CONS_VOTE_PREVOTE, x);
  send_vote(0, 2, 1, 0, CONS_VOTE_PREVOTE, x); /* polka: node 0 locks and precommits */
  cons_status_t st;
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.locked_round, 0);
  /* exactly two new records: the lock, then the precommit it justifies */
  assert_int_equal(nodes[0].nrec, before + 2);
  assert_true(cons_record_is_lock(ve_buf_slice(&nodes[0].recs[before])));
  cons_record_t r;
  assert_int_equal(cons_record_decode(ve_buf_slice(&nodes[0].recs[before + 1]), &r), 0);
  assert_int_equal(r.type, CONS_VOTE_PRECOMMIT);
  assert_true(r.has_id);
  assert_memory_equal(r.id, x, 32);
  return before;
}

static void test_lock_record_precedes_precommit(void **state) {
  (void)state;
  uint8_t x[32];
  ve_buf_t vx;
  size_t k = lock_on_x(x, &vx);
  cons_lock_t *l = calloc(1, sizeof *l);
  assert_non_null(l);
  assert_int_equal(cons_lock_decode(ve_buf_slice(&nodes[0].recs[k]), l), 0);
  assert_int_equal(l->height, 1);
  assert_int_equal(l->round, 0);
  assert_memory_equal(l->id, x, 32);
  assert_true(l->has_value);
  assert_true(ve_slice_eq(l->value, ve_buf_slice(&vx)));
  /* the POL: prevotes for x of validators 0, 1, 2, each a valid signature */
  assert_int_equal(l->count, 3);
  for (uint32_t i = 0; i < 3; i++) {
    assert_int_equal(l->votes[i].index, i);
    cons_vote_t v = {1, 0, CONS_VOTE_PREVOTE, i, true, {0}, {0}};
    memcpy(v.id, x, 32);
    memcpy(v.sig, l->votes[i].sig, 64);
    assert_int_equal(cons_vote_verify(&v, keys[i].pk, CHAIN, NULL, NULL), 0);
  }
  /* a restart writes no second lock record for the same lock */
  size_t n = nodes[0].nrec;
  restart(0);
  assert_int_equal(nodes[0].nrec, n);
  free(l);
  ve_buf_free(&vx);
  teardown_all();
}

/* Every copy of x and of its POL is gone except node 0's records: the others
 * restarted (one from a backup) and only re-sign their own votes. Node 0,
 * restarted too, must still re-propose x with round 0 as its proof of lock
 * when its turn comes, and a node that never saw x must accept that. */
static void test_lock_rejustified_after_restart(void **state) {
  (void)state;
  uint8_t x[32];
  ve_buf_t vx;
  lock_on_x(x, &vx);
  restart(0);
  cons_status_t st;
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.locked_round, 0);
  assert_int_equal(st.valid_round, 0); /* the POL is back */
  uint32_t R = 1;
  while (cons_proposer(&vs, 1, R) != 0) R++;
  /* validators 1 and 2 (> 1/3) are in round R: node 0 skips there and proposes */
  send_vote(0, 1, 1, R, CONS_VOTE_PREVOTE, NULL);
  send_vote(0, 2, 1, R, CONS_VOTE_PREVOTE, NULL);
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.round, R);
  cons_msg_t m;
  assert_int_equal(cons_msg_decode(ve_buf_slice(&nodes[0].last_proposal), &m, NULL), 0);
  assert_int_equal(m.proposal.round, R);
  assert_int_equal(m.proposal.pol_round, 0);
  assert_memory_equal(m.proposal.id, x, 32);
  assert_true(ve_slice_eq(m.proposal.value, ve_buf_slice(&vx)));
  assert_false(nodes[0].unpersisted_signature);
  /* with it went the POL: three prevotes for x in round 0 */
  static cons_vote_t pol[CONS_BATCH_VOTES_MAX];
  assert_int_equal(cons_msg_decode(ve_buf_slice(&nodes[0].last_votes), &m, pol), 0);
  size_t for_x = 0;
  for (size_t i = 0; i < m.votes_count; i++)
    if (pol[i].round == 0 && pol[i].type == CONS_VOTE_PREVOTE && pol[i].has_id &&
        memcmp(pol[i].id, x, 32) == 0)
      for_x++;
  assert_int_equal(for_x, 3);

  /* Validator 3, fresh (restored with no records of height 1), never saw x:
   * given the proposal, the POL and one more validator in round R, it prevotes x. */
  ve_buf_t prop, votes;
  ve_buf_init(&prop, 0);
  ve_buf_init(&votes, 0);
  ve_buf_append(&prop, nodes[0].last_proposal.ptr, nodes[0].last_proposal.len);
  ve_buf_append(&votes, nodes[0].last_votes.ptr, nodes[0].last_votes.len);
  nodes[3].connected = false; /* the test hands it messages itself */
  node_boot(3, 3, 1, &vs);
  nodes[3].connected = false;
  assert_int_equal(cons_start(nodes[3].e), 0);
  drain(3);
  assert_int_equal(cons_on_message(nodes[3].e, 0, ve_buf_slice(&votes)), 0);
  drain(3);
  send_vote(3, 1, 1, R, CONS_VOTE_PREVOTE, NULL); /* > 1/3 in round R with node 0 */
  assert_int_equal(cons_on_message(nodes[3].e, 0, ve_buf_slice(&prop)), 0);
  drain(3);
  assert_true(last_prevote_is(&nodes[3], R, x));
  ve_buf_free(&prop);
  ve_buf_free(&votes);
  ve_buf_free(&vx);
  teardown_all();
}

static void test_lost_tail_is_harmless(void **state) {
  (void)state;
  set_valset(4, NULL);
  boot(4, 0);
  isolate_node0();
  assert_int_equal(cons_start(nodes[0].e), 0);
  drain(0);
  uint8_t x[32], y[32];
  ve_buf_t vx, vy;
  value_for(x, &vx, 9, 1, 0);
  value_for(y, &vy, 8, 1, 0);
  /* feed the proposal but "crash" before draining: the PERSIST for the prevote
   * never completed and the prevote was never sent */
  uint32_t p = cons_proposer(&vs, 1, 0);
  cons_proposal_t prop = {1, 0, -1, {0}, ve_buf_slice(&vx), {0}};
  memcpy(prop.id, x, 32);
  cons_proposal_sign(&prop, &keys[p], CHAIN);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_proposal_encode(&b, &prop), 0);
  assert_int_equal(cons_on_message(nodes[0].e, p, ve_buf_slice(&b)), 0);
  cons_action_t a;
  bool saw_persist = false;
  while (cons_action_next(nodes[0].e, &a)) {
    if (a.kind == CONS_ACT_VALIDATE)
      assert_int_equal(cons_on_validated(nodes[0].e, a.height, a.round, a.id, true), 0);
    if (a.kind == CONS_ACT_PERSIST) {
      saw_persist = true;
      break; /* power fails during this fsync */
    }
  }
  assert_true(saw_persist);
  size_t durable = nodes[0].nrec;
  restart(0);
  assert_int_equal(nodes[0].nrec, durable);
  /* the prevote for x never left, so prevoting y now is not a double vote */
  send_proposal(0, 1, 0, -1, y, ve_buf_slice(&vy));
  assert_true(last_prevote_is(&nodes[0], 0, y));
  assert_false(nodes[0].unpersisted_signature);
  ve_buf_free(&b);
  ve_buf_free(&vx);
  ve_buf_free(&vy);
  teardown_all();
}

static void test_conflicting_records_refused(void **state) {
  (void)state;
  set_valset(4, NULL);
  cons_record_t a = {3, 1, CONS_VOTE_PREVOTE, true, {1}, -1};
  cons_record_t b = {3, 1, CONS_VOTE_PREVOTE, true, {2}, -1};
  ve_buf_t ra, rb;
  ve_buf_init(&ra, 0);
  ve_buf_init(&rb, 0);
  assert_int_equal(cons_record_encode(&ra, &a), 0);
  assert_int_equal(cons_record_encode(&rb, &b), 0);
  ve_slice_t recs[3] = {ve_buf_slice(&ra), ve_buf_slice(&rb), ve_slice("junk", 4)};
  cons_config_t cfg = {.chain_id = CHAIN, .valsets = {&vs, &vs}, .key = &keys[0],
                       .start_height = 1, .timeout_base_ms = 100, .records = recs,
                       .records_count = 2};
  cons_engine_t *e = NULL;
  assert_int_equal(cons_engine_new(&e, &cfg), VE_ERR_CORRUPT);
  recs[1] = recs[0]; /* an exact duplicate is fine */
  assert_int_equal(cons_engine_new(&e, &cfg), 0);
  cons_engine_free(e);
  recs[1] = recs[2];
  assert_int_equal(cons_engine_new(&e, &cfg), VE_ERR_CORRUPT);
  cfg.records_count = 0;
  cfg.timeout_base_ms = 0;
  assert_int_equal(cons_engine_new(&e, &cfg), VE_ERR_CONFIG);
  cfg.timeout_base_ms = 100;
  cfg.chain_id = "";
  assert_int_equal(cons_engine_new(&e, &cfg), VE_ERR_CONFIG);
  ve_buf_free(&ra);
  ve_buf_free(&rb);
}

static void test_equivocation_evidence(void **state) {
  (void)state;
  set_valset(4, NULL);
  boot(4, 0);
  isolate_node0();
  assert_int_equal(cons_start(nodes[0].e), 0);
  drain(0);
  uint8_t x[32], y[32];
  ve_buf_t vx, vy;
  value_for(x, &vx, 9, 1, 0);
  value_for(y, &vy, 8, 1, 0);
  send_vote(0, 2, 1, 0, CONS_VOTE_PREVOTE, x);
  assert_int_equal(nodes[0].evidence, 0);
  send_vote(0, 2, 1, 0, CONS_VOTE_PREVOTE, x); /* a duplicate is not evidence */
  assert_int_equal(nodes[0].evidence, 0);
  send_vote(0, 2, 1, 0, CONS_VOTE_PREVOTE, y);
  assert_int_equal(nodes[0].evidence, 1);
  assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&nodes[0].last_evidence)), 0);
  cons_evidence_info_t info;
  assert_int_equal(cons_evidence_info(ve_buf_slice(&nodes[0].last_evidence), &info), 0);
  assert_memory_equal(info.pk, keys[2].pk, 32);
  send_vote(0, 2, 1, 0, CONS_VOTE_PREVOTE, NULL); /* once per validator and round */
  assert_int_equal(nodes[0].evidence, 1);
  send_proposal(0, 1, 0, -1, x, ve_buf_slice(&vx));
  send_proposal(0, 1, 0, -1, y, ve_buf_slice(&vy));
  assert_int_equal(nodes[0].evidence, 2);
  assert_int_equal(cons_evidence_info(ve_buf_slice(&nodes[0].last_evidence), &info), 0);
  assert_int_equal(info.kind, CONS_EVIDENCE_PROPOSAL);
  assert_memory_equal(info.pk, keys[cons_proposer(&vs, 1, 0)].pk, 32);
  assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&nodes[0].last_evidence)), 0);
  ve_buf_free(&vx);
  ve_buf_free(&vy);
  teardown_all();
}

static void test_invalid_value_gets_nil(void **state) {
  (void)state;
  set_valset(4, NULL);
  boot(4, 0);
  isolate_node0();
  nodes[0].app_invalid = true;
  assert_int_equal(cons_start(nodes[0].e), 0);
  drain(0);
  uint8_t x[32];
  ve_buf_t vx;
  value_for(x, &vx, 9, 1, 0);
  send_proposal(0, 1, 0, -1, x, ve_buf_slice(&vx));
  assert_true(last_prevote_is(&nodes[0], 0, NULL));
  /* even a polka for it does not make node 0 precommit an invalid value */
  send_vote(0, 1, 1, 0, CONS_VOTE_PREVOTE, x);
  send_vote(0, 2, 1, 0, CONS_VOTE_PREVOTE, x);
  send_vote(0, 3, 1, 0, CONS_VOTE_PREVOTE, x);
  cons_status_t st;
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.locked_round, -1);
  /* and 2f+1 precommits do not make it commit one */
  send_vote(0, 1, 1, 0, CONS_VOTE_PRECOMMIT, x);
  send_vote(0, 2, 1, 0, CONS_VOTE_PRECOMMIT, x);
  send_vote(0, 3, 1, 0, CONS_VOTE_PRECOMMIT, x);
  assert_int_equal(nodes[0].chain_len, 0);
  ve_buf_free(&vx);
  teardown_all();
}

static void test_round_skip_on_f_plus_one(void **state) {
  (void)state;
  uint64_t powers[4] = {1, 1, 1, 1};
  set_valset(4, powers);
  boot(4, 0);
  isolate_node0();
  assert_int_equal(cons_start(nodes[0].e), 0);
  drain(0);
  send_vote(0, 1, 1, 5, CONS_VOTE_PREVOTE, NULL); /* 1 of 4: not > 1/3 */
  cons_status_t st;
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.round, 0);
  send_vote(0, 2, 1, 7, CONS_VOTE_PRECOMMIT, NULL); /* 2 of 4 beyond round 0 */
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.round, 5); /* highest round reached by > 1/3 of the power */
  teardown_all();
}

/* A node that moved on from round 0 answers a peer still in round 0 with that
 * round's votes (which it no longer re-broadcasts) and its own round's. */
static void test_status_round_catchup(void **state) {
  (void)state;
  set_valset(4, NULL);
  boot(4, 0);
  isolate_node0();
  nodes[2].connected = true; /* down, but SENDs to it stay in the queue for us */
  assert_int_equal(cons_start(nodes[0].e), 0);
  drain(0);
  send_vote(0, 1, 1, 0, CONS_VOTE_PRECOMMIT, NULL);
  send_vote(0, 2, 1, 0, CONS_VOTE_PRECOMMIT, NULL);
  send_vote(0, 3, 1, 0, CONS_VOTE_PRECOMMIT, NULL);
  fire(0, CONS_TIMER_PRECOMMIT, 1, 0);
  cons_status_t st;
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.round, 1);
  q_clear();
  cons_status_msg_t behind = {1, 0, true};
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_status_encode(&b, &behind), 0);
  assert_int_equal(cons_on_message(nodes[0].e, 2, ve_buf_slice(&b)), 0);
  drain(0);
  bool round0 = false;
  for (size_t k = q_head; k < q_len; k++) {
    cons_msg_t m;
    static cons_vote_t votes[CONS_BATCH_VOTES_MAX];
    assert_int_equal(queue[k].to, 2);
    assert_int_equal(cons_msg_decode(ve_buf_slice(&queue[k].msg), &m, votes), 0);
    if (m.type != CONS_MSG_VOTES) continue;
    size_t pc = 0;
    for (size_t i = 0; i < m.votes_count; i++)
      pc += votes[i].round == 0 && votes[i].type == CONS_VOTE_PRECOMMIT;
    if (pc == 3) round0 = true;
  }
  assert_true(round0);
  ve_buf_free(&b);
  teardown_all();
}

static void test_waits_for_unknown_valset(void **state) {
  (void)state;
  set_valset(1, NULL);
  memset(nodes, 0, sizeof nodes);
  nnodes = 1;
  nodes[0].app_silent = true;
  node_boot(0, 0, 1, NULL); /* the set of height 2 is not known yet */
  assert_int_equal(cons_start(nodes[0].e), 0);
  drain(0);
  uint8_t id[32];
  ve_buf_t v;
  value_for(id, &v, 0, 1, 0);
  nodes[0].app_silent = false;
  assert_int_equal(cons_on_proposal(nodes[0].e, 1, 0, id, ve_buf_slice(&v)), 0);
  ve_buf_free(&v);
  /* drain() applies block 1 with cons_on_applied(1, vs): that names height 3's set */
  drain(0);
  assert_int_equal(nodes[0].chain_len, 1);
  cons_status_t st;
  cons_status(nodes[0].e, &st);
  assert_int_equal(st.height, 2);
  assert_true(st.waiting_valset);
  assert_int_equal(cons_on_applied(nodes[0].e, 5, &vs), VE_ERR_HEIGHT);
  assert_int_equal(cons_on_applied(nodes[0].e, 0, &vs), 0); /* genesis names height 2 */
  drain(0);
  assert_true(nodes[0].chain_len >= 2);
  cons_status(nodes[0].e, &st);
  assert_false(st.waiting_valset);
  /* a different set for a height already known is refused */
  cons_valset_t other = vs;
  other.v[0].power = 9;
  assert_int_equal(cons_on_applied(nodes[0].e, st.height - 1, &other), VE_ERR_EXISTS);
  teardown_all();
}

/* Fires every timer scheduled so far on connected nodes (a crude clock tick). */
static void fire_all_timers(void) {
  for (int i = 0; i < nnodes; i++) {
    tnode_t *n = &nodes[i];
    if (!n->up || !n->connected) continue;
    size_t count = n->ntok;
    uint64_t toks[TN_TOKENS_MAX];
    memcpy(toks, n->tokens, count * sizeof toks[0]);
    n->ntok = 0;
    for (size_t k = 0; k < count; k++) {
      assert_int_equal(cons_on_timeout(n->e, toks[k]), 0);
      drain(i);
    }
  }
}

static void test_late_node_catches_up(void **state) {
  (void)state;
  set_valset(4, NULL);
  boot(4, 0);
  nodes[3].connected = false;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(cons_start(nodes[i].e), 0);
    drain(i);
  }
  /* 3 of 4 equal validators are a quorum */
  /* node 3 proposes at height 3 (round 0): the others need their timeouts there */
  for (int k = 0; k < 50 && nodes[0].chain_len < 5; k++)
    if (net_run() == 0) fire_all_timers();
  assert_true(nodes[0].chain_len >= 5);
  nodes[3].connected = true;
  assert_int_equal(cons_start(nodes[3].e), 0); /* broadcasts its status (height 1) */
  drain(3);
  for (int k = 0; k < 50 && nodes[3].chain_len < 5; k++) net_run(); /* no timers needed */
  assert_true(nodes[3].chain_len >= 5);
  for (size_t h = 0; h < 5; h++) assert_memory_equal(nodes[3].chain[h].id, nodes[0].chain[h].id, 32);
  teardown_all();
}

/* A validator whose records may be incomplete (its store restored from a
 * backup) starts with sign_from_height 4: it signs nothing below height 4, not
 * even its own proposal at height 3 (the others time out there), follows the
 * three others, who are a quorum without it, and signs again from height 4. */
static void test_sign_from_height(void **state) {
  (void)state;
  set_valset(4, NULL);
  boot(4, 0);
  assert_int_equal(cons_proposer(&vs, 3, 0), 3); /* its turn to propose falls below 4 */
  node_free(&nodes[3]);
  nodes[3].sign_from = 4;
  node_boot(3, 3, 1, &vs);
  start_all();
  for (int k = 0; k < 100 && nodes[3].chain_len < 8; k++)
    if (net_run() == 0) fire_all_timers();
  for (int i = 0; i < nnodes; i++) {
    assert_int_equal(nodes[i].chain_len, 8);
    assert_false(nodes[i].unpersisted_signature);
    for (size_t h = 0; h < 8; h++) assert_memory_equal(nodes[i].chain[h].id, nodes[0].chain[h].id, 32);
  }
  for (int i = 0; i < 3; i++) assert_int_equal(nodes[i].min_signed_h, 1);
  assert_int_equal(nodes[3].min_signed_h, 4); /* it signed, but nothing below 4 */
  for (size_t k = 0; k < nodes[3].nrec; k++) {
    uint64_t rh;
    assert_int_equal(cons_record_height(ve_buf_slice(&nodes[3].recs[k]), &rh), 0);
    assert_true(rh >= 4);
  }
  /* Its proposal at height 3 never came, so height 3 needed a second round. */
  assert_true(nodes[0].chain[2].h == 3);
  teardown_all();
}

static void test_bad_inputs(void **state) {
  (void)state;
  set_valset(4, NULL);
  boot(4, 0);
  isolate_node0();
  cons_engine_t *e = nodes[0].e;
  assert_int_equal(cons_on_message(e, 1, ve_slice("x", 1)), VE_ERR_STATE); /* not started */
  assert_int_equal(cons_start(e), 0);
  assert_int_equal(cons_start(e), VE_ERR_STATE);
  drain(0);
  assert_int_not_equal(cons_on_message(e, 1, ve_slice("garbage", 7)), 0);
  uint8_t id[32] = {0};
  assert_int_equal(cons_on_proposal(e, 1, 0, id, ve_slice("v", 1)), VE_ERR_STATE);
  assert_int_equal(cons_on_validated(e, 1, 0, id, true), VE_ERR_NOT_FOUND);
  assert_int_equal(cons_on_validated(e, 7, 0, id, true), VE_ERR_STATE);
  assert_int_equal(cons_on_timeout(e, cons_token_make(CONS_TIMER_PROPOSE, 9, 0)), 0);
  /* a vote with a bad signature and one from outside the set */
  cons_vote_t v = {1, 0, CONS_VOTE_PREVOTE, 1, false, {0}, {0}};
  cons_vote_sign(&v, &keys[1], CHAIN);
  v.sig[3] ^= 1;
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_vote_encode(&b, &v), 0);
  assert_int_equal(cons_on_message(e, 1, ve_buf_slice(&b)), VE_ERR_BAD_SIG);
  ve_buf_reset(&b);
  v.index = 5;
  cons_vote_sign(&v, &keys[1], CHAIN);
  assert_int_equal(cons_vote_encode(&b, &v), 0);
  assert_int_equal(cons_on_message(e, 1, ve_buf_slice(&b)), VE_ERR_INVALID);
  ve_buf_free(&b);
  drain(0);
  teardown_all();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_validator),
      cmocka_unit_test(test_single_validator_async_app),
      cmocka_unit_test(test_four_validators_message_driven),
      cmocka_unit_test(test_no_double_prevote_after_restart),
      cmocka_unit_test(test_lock_survives_restart),
      cmocka_unit_test(test_lock_record_precedes_precommit),
      cmocka_unit_test(test_lock_rejustified_after_restart),
      cmocka_unit_test(test_lost_tail_is_harmless),
      cmocka_unit_test(test_conflicting_records_refused),
      cmocka_unit_test(test_equivocation_evidence),
      cmocka_unit_test(test_invalid_value_gets_nil),
      cmocka_unit_test(test_round_skip_on_f_plus_one),
      cmocka_unit_test(test_status_round_catchup),
      cmocka_unit_test(test_waits_for_unknown_valset),
      cmocka_unit_test(test_late_node_catches_up),
      cmocka_unit_test(test_sign_from_height),
      cmocka_unit_test(test_bad_inputs),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
