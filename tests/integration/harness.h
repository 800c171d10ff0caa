/* harness.h — starting, stopping, killing and freezing real `veche`
 * processes from tests, and talking to them over HTTP.
 *
 * Every node listens on 127.0.0.1 on a port chosen free by the kernel; every
 * wait is bounded; every process a test starts is stopped by that test (the
 * harness also kills leftovers at exit, and a node dies with the test
 * process).
 *
 * Bounds. The harness's own waits (a node's start, stop, kill and freeze; an
 * HTTP exchange of h_get, h_post, h_metric, h_shown_height) grow by H_SCALE in
 * a sanitizer build, where everything runs several times slower. A timeout a
 * test passes in (h_call, h_wait_height) is the test's own: scale it with
 * H_SCALE where it bounds a wait rather than measures speed. */
#ifndef VECHE_TESTS_HARNESS_H
#define VECHE_TESTS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "crypto/crypto.h"
#include "ledger/ledger.h"

/* How much longer the harness waits in a sanitizer build (ASan: about 3x
 * slower); 1 otherwise. */
#if defined(__SANITIZE_ADDRESS__)
#define H_SCALE 3
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H_SCALE 3
#endif
#endif
#ifndef H_SCALE
#define H_SCALE 1
#endif

#define H_START_TIMEOUT_MS (20000 * H_SCALE) /* until /health answers 200 */
#define H_STOP_TIMEOUT_MS (15000 * H_SCALE)  /* until a signalled node exits (or stops) */
#define H_HTTP_TIMEOUT_MS (10000 * H_SCALE)  /* one GET of h_get, h_shown_height */
#define H_POST_TIMEOUT_MS (30000 * H_SCALE)  /* one POST of h_post */
#define H_COMMIT_TIMEOUT_MS 60000

typedef struct {
  char dir[256];
  char conf[300];    /* config directory if not dir/net (testnet nodes) */
  char veche[512];   /* path of the veche binary */
  uint16_t port;
  pid_t pid;
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  vcrypto_keypair_t authority; /* founding authority (all roles) */
  uint64_t seq;                /* next sequence for the authority */
} h_node_t;

/* Runs `veche init` in a fresh temp dir on a free port and loads the authority key. */
void h_node_init(h_node_t *n, const char *veche);
/* Starts `veche start` (output appended to dir/node.log) and waits until
 * /health answers 200; fails the test if the node exits first or does not
 * answer within H_START_TIMEOUT_MS. */
void h_node_start(h_node_t *n);
/* h_node_start with extra arguments after `start --dir DIR` (NULL-terminated
 * list, at most H_START_ARGS_MAX; NULL: none), e.g. {"--sign-from", "12", NULL}. */
#define H_START_ARGS_MAX 8
void h_node_start_with(h_node_t *n, const char *const *extra);
/* Sets key to value (a reference stolen) in n's config.json; takes effect at
 * the next start. */
void h_config_set(h_node_t *n, const char *key, json_t *value);
/* SIGTERM and wait (H_STOP_TIMEOUT_MS) for a clean stop: exit status 0, else
 * the test fails, naming the first sanitizer report or assertion failure in
 * the node's log if there is one (the cause), else the wait status. A node
 * that does not end in time gets SIGKILL and fails the test. A frozen node
 * must be thawed first (SIGTERM waits for SIGCONT). */
void h_node_stop(h_node_t *n);
/* SIGKILL (kill -9, nothing flushed or closed) and reap; n->pid becomes 0.
 * Works on a frozen node too. Nodes get SIGKILL if the test process dies. */
void h_node_kill9(h_node_t *n);
/* Waits (timeout_ms) for n to end by itself, reaps it (n->pid becomes 0) and
 * returns its exit status; fails the test if it still runs then, ended by a
 * signal, or its log holds a sanitizer report. */
int h_node_wait_exit(h_node_t *n, int timeout_ms);
/* SIGSTOP: the process hangs (sockets open, nothing answered) until
 * h_node_thaw. Waits (H_STOP_TIMEOUT_MS) until it is stopped; fails the test
 * if it ends instead or does not stop in time. */
void h_node_freeze(h_node_t *n);
/* SIGCONT to a node h_node_freeze stopped; returns at once. */
void h_node_thaw(h_node_t *n);
/* Fails the test if n's node.log (every life of the node) holds a sanitizer
 * report or an assertion failure, naming the first such line; also if there
 * is no log. */
void h_log_check(const h_node_t *n);
/* Removes the node's directory. */
void h_node_cleanup(h_node_t *n);

/* A `veche testnet` network: nv validators then no observers, on free ports
 * of 127.0.0.1, in one temp dir. node[i] shares the chain and the founding
 * authority's key (and its sequence: use node[0].seq for every node). */
#define H_NET_NODES_MAX 12
typedef struct {
  char dir[256];
  size_t nv, no;
  uint16_t base_port;        /* node i: API base+i, p2p base+100+i */
  h_node_t node[H_NET_NODES_MAX];
} h_net_t;
/* Writes the network (nodes not started). */
void h_net_init(h_net_t *net, const char *veche, size_t nv, size_t no, uint32_t empty_block_ms);
/* Kills whatever still runs and removes the directory. */
void h_net_cleanup(h_net_t *net);

/* What h_call returns when no complete JSON answer came. */
#define H_NO_ANSWER (-1)
/* One JSON request to n on a fresh connection, bounded by timeout_ms: body
 * (not taken; NULL for none) sent as JSON. Returns the HTTP status, or
 * H_NO_ANSWER when no answer came in time (the node is down, frozen or too
 * slow) or it was not JSON: a result, not a test failure. *out (may be NULL)
 * gets the answer, owned by the caller; NULL without one. */
int h_call(h_node_t *n, const char *method, const char *path, const json_t *body, json_t **out,
           int timeout_ms);
/* GET path as JSON; returns the status; *out owned by the caller (may be
 * NULL). No answer within H_HTTP_TIMEOUT_MS fails the test. */
int h_get(h_node_t *n, const char *path, json_t **out);
/* POSTs body (a reference taken, released here) as JSON; *out the answer.
 * No answer within H_POST_TIMEOUT_MS fails the test. */
int h_post(h_node_t *n, const char *path, json_t *body, json_t **out);
/* The height in n's /v1/status (the store's tip). */
uint64_t h_height(h_node_t *n);
/* An integer of n's GET /v1/status: `name` at the top (group NULL) or inside
 * object `group`; fails the test if it is not there. */
uint64_t h_status_u64(h_node_t *n, const char *group, const char *name);
/* The highest height n shows: /health (the published height) or /v1/status
 * (the store's tip), whichever is larger. Fails the test unless both answer
 * 200 within H_HTTP_TIMEOUT_MS. */
uint64_t h_shown_height(h_node_t *n);
/* The value of an unlabelled metric in n's /metrics; fails the test if absent. */
double h_metric(h_node_t *n, const char *name);
/* Waits until n shows height >= want; fails the test after timeout_ms. */
void h_wait_height(h_node_t *n, uint64_t want, int timeout_ms);
/* Heights 1..top (top 0: every height both show): the whole header of each
 * block (hash, state root, tx root, time, ...) is the same on a and b; fails
 * the test otherwise. Returns the number of heights compared. */
uint64_t h_same_chain(h_node_t *a, h_node_t *b, uint64_t top);
void h_sleep_ms(int ms);
uint64_t h_now_ms(void);

/* Makes an admin action a council proposal: (type, payload) become a
 * GOV_PROPOSE carrying them. On chains from `veche init` / `veche testnet`
 * (protocol 2, the founding authority alone on the council) it executes in
 * the proposing transaction, as the direct action did under protocol 1. */
void h_council_wrap(uint32_t *type, ve_buf_t *payload);
/* Builds a signed tx (hex, caller frees) with the given signer and seq. */
char *h_tx_hex(const char *chain, const vcrypto_keypair_t *kp, uint64_t seq, uint32_t type,
               ve_slice_t payload, uint8_t id_out[32]);
/* A registration (hex, caller frees) of the key h_seed_key(a, b) gives, with
 * attribute digest {digest_byte, 0, ...} and no attributes, signed by n's
 * founding authority with n->seq++. */
char *h_register_hex(h_node_t *n, uint32_t a, uint32_t b, uint8_t digest_byte, uint8_t id_out[32]);
/* Waits until every tx id is no longer pending; returns how many committed OK. */
size_t h_wait_final(h_node_t *n, uint8_t (*ids)[32], size_t count);
void h_seed_key(vcrypto_keypair_t *kp, uint32_t a, uint32_t b);
/* Runs `veche ARGS...` (NULL-terminated) to completion; stdout+stderr go to out
 * (truncated to out_len). Returns the exit status. A run still going after
 * H_VECHE_TIMEOUT_MS (h_veche_bounded: timeout_ms) is killed and fails the test. */
#define H_VECHE_TIMEOUT_MS (120000 * H_SCALE)
int h_veche(h_node_t *n, char *out, size_t out_len, ...);
int h_veche_bounded(h_node_t *n, char *out, size_t out_len, int timeout_ms, ...);
/* The veche binary a test was given as its one argument (ctest passes it);
 * without one, prints the usage and exits with status 2. */
const char *h_veche_arg(int argc, char **argv);

#endif
