/* fuzz_cons_engine.c — a validator's engine driven by a hostile network.
 *
 * A fresh engine (validator 0 of the four seeded validators, chain "fuzz",
 * height 1) per input; signatures are checked by a hook that accepts all of
 * them, so forged proposals and votes reach the voting rules, commits and
 * catch-up. The input is a script of at most SCRIPT_STEPS_MAX steps:
 *   op byte; op % 4 == 0 or 1: a message from peer op / 4 (u16 length, little
 *   endian, then that many bytes); 2: one of the last timers scheduled fires;
 *   3: rebroadcast-free no-op padding.
 * Actions are drained after each step: proposals requested are answered with a
 * fixed value, every value is judged valid, commits are applied with the same
 * set. Whatever the script: every input returns 0 or a real error code, and
 * everything the engine emits is well formed — its messages and records decode,
 * its evidence decodes, its commits carry a certificate for the committed id
 * and height with a quorum of the set. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "consensus/cons_int.h"
#include "fuzz_cons_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SCRIPT_STEPS_MAX 48
#define TIMERS_KEPT 8

static cons_valset_t g_vs;
static vcrypto_keypair_t g_key;
static bool g_ready;
static cons_vote_t g_votes[CONS_BATCH_VOTES_MAX];

static void setup(void) {
  fuzz_cons_valset(&g_vs, false);
  fuzz_cons_key(&g_key, 0);
  g_ready = true;
}

typedef struct {
  uint64_t timers[TIMERS_KEPT];
  size_t n_timers;
  uint64_t applied_max;
} driver_t;

static void rc_ok(int rc) { VE_ASSERT(rc <= 0 && rc >= VE_ERR_MIN); }

static void drain(cons_engine_t *e, driver_t *d) {
  static const uint8_t value[] = "fuzz block";
  cons_action_t a;
  uint64_t commits[8];
  size_t n_commits = 0;
  while (cons_action_next(e, &a)) {
    cons_msg_t m;
    cons_record_t rec;
    cons_evidence_info_t ev;
    switch (a.kind) {
      case CONS_ACT_PERSIST: {
        uint64_t h = 0;
        if (cons_record_is_lock(a.data)) {
          VE_ASSERT(a.data.len <= CONS_LOCK_RECORD_BYTES_MAX);
        } else {
          VE_ASSERT(cons_record_decode(a.data, &rec) == VE_OK);
        }
        VE_ASSERT(cons_record_height(a.data, &h) == VE_OK && h >= 1);
        break;
      }
      case CONS_ACT_BROADCAST:
      case CONS_ACT_SEND:
        VE_ASSERT(cons_msg_decode(a.data, &m, g_votes) == VE_OK);
        break;
      case CONS_ACT_SCHEDULE_TIMEOUT:
        d->timers[d->n_timers++ % TIMERS_KEPT] = a.token;
        break;
      case CONS_ACT_REQUEST_PROPOSAL: {
        uint8_t id[CONS_ID_BYTES];
        vcrypto_hash(id, "veche/fuzz/value", value, sizeof value);
        rc_ok(cons_on_proposal(e, a.height, a.round, id, ve_slice(value, sizeof value)));
        break;
      }
      case CONS_ACT_VALIDATE:
        rc_ok(cons_on_validated(e, a.height, a.round, a.id, true));
        break;
      case CONS_ACT_COMMIT:
        VE_ASSERT(cons_cert_verify_with(&g_vs, FUZZ_CONS_CHAIN, a.height, a.id, a.cert, fuzz_cons_accept_all,
                                        NULL) == VE_OK);
        VE_ASSERT(a.height > d->applied_max);
        if (n_commits < 8) commits[n_commits++] = a.height;
        break;
      case CONS_ACT_EVIDENCE:
        VE_ASSERT(cons_evidence_info(a.data, &ev) == VE_OK);
        break;
      case CONS_ACT_SEND_DECISION:
        break;
      default:
        VE_ASSERT(!"unknown action kind");
    }
  }
  for (size_t i = 0; i < n_commits; i++) {
    rc_ok(cons_on_applied(e, commits[i], &g_vs));
    if (commits[i] > d->applied_max) d->applied_max = commits[i];
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ready) setup();
  cons_config_t cfg = {.chain_id = FUZZ_CONS_CHAIN, .valsets = {&g_vs, &g_vs}, .key = &g_key,
                       .start_height = 1, .timeout_base_ms = 100, .timeout_delta_ms = 10,
                       .verify = fuzz_cons_accept_all};
  cons_engine_t *e;
  VE_ASSERT(cons_engine_new(&e, &cfg) == VE_OK);
  driver_t d = {0};
  rc_ok(cons_start(e));
  drain(e, &d);
  size_t pos = 0;
  for (int step = 0; step < SCRIPT_STEPS_MAX && pos < size; step++) {
    uint8_t op = data[pos++];
    if (op % 4 <= 1) {
      if (size - pos < 2) break;
      size_t len = data[pos] | (size_t)data[pos + 1] << 8;
      pos += 2;
      if (len > size - pos) len = size - pos;
      rc_ok(cons_on_message(e, op / 4, ve_slice(data + pos, len)));
      pos += len;
    } else if (op % 4 == 2 && d.n_timers > 0) {
      size_t kept = d.n_timers < TIMERS_KEPT ? d.n_timers : TIMERS_KEPT;
      rc_ok(cons_on_timeout(e, d.timers[(op / 4) % kept]));
    }
    drain(e, &d);
  }
  cons_status_t st;
  cons_status(e, &st);
  VE_ASSERT(st.height >= 1 && (st.own_index == 0 || st.waiting_valset));
  cons_engine_free(e);
  return 0;
}
