/* harness.h — starting and stopping real `veche` processes from tests.
 *
 * Every node listens on 127.0.0.1 on a port chosen free by the kernel; every
 * wait is bounded; every process a test starts is stopped by that test (the
 * harness also kills leftovers at exit). */
#ifndef VECHE_TESTS_HARNESS_H
#define VECHE_TESTS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "crypto/crypto.h"
#include "ledger/ledger.h"

#define H_START_TIMEOUT_MS 20000
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
/* Starts `veche start` and waits until /health answers. */
void h_node_start(h_node_t *n);
/* Sets key to value (a reference stolen) in n's config.json; takes effect at
 * the next start. */
void h_config_set(h_node_t *n, const char *key, json_t *value);
/* SIGTERM and wait for a clean stop (exit status 0, else the test fails), or
 * SIGKILL. Nodes get SIGKILL if the test process dies. */
void h_node_stop(h_node_t *n);
void h_node_kill9(h_node_t *n);
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

/* HTTP JSON; returns the status; *out owned by the caller (may be NULL). */
int h_get(h_node_t *n, const char *path, json_t **out);
/* POSTs body (a reference taken, released here) as JSON; *out the answer. */
int h_post(h_node_t *n, const char *path, json_t *body, json_t **out);
uint64_t h_height(h_node_t *n);
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
 * (truncated to out_len). Returns the exit status. */
int h_veche(h_node_t *n, char *out, size_t out_len, ...);
/* The veche binary a test was given as its one argument (ctest passes it);
 * without one, prints the usage and exits with status 2. */
const char *h_veche_arg(int argc, char **argv);

#endif
