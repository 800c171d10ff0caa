/* node.h — a running veche node: store, mempool, block pipeline, HTTP API.
 *
 * The node is the only place (with the CLI) where real I/O meets the pure parts:
 * the clock, the disk, sockets and signals. Threads:
 *   - the loop thread (libuv) owns block production and commit: it is the single
 *     writer of the store;
 *   - the HTTP threads (libmicrohttpd's pool) answer queries from LMDB read
 *     transactions and admit transactions into the mempool (signature checks run
 *     there, in parallel), then wake the loop.
 */
#ifndef VECHE_NODE_NODE_H
#define VECHE_NODE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "node/config.h"

typedef struct node node_t;

/* Opens the node described by cfg: loads genesis and key, opens (or initialises
 * from genesis) the store, creates the mempool. err receives a human message. */
int node_open(const node_config_t *cfg, node_t **out, char *err, size_t err_len);
/* Starts the API server and runs the event loop until node_stop. Prints the API
 * address to stdout once listening. */
int node_run(node_t *n);
/* Asks the loop to stop; safe from a signal handler or another thread. */
void node_stop(node_t *n);
void node_close(node_t *n);

/* Registry of the applications this node runs (identity for now). */
#include "ledger/ledger.h"
const ledger_registry_t *node_registry(void);

#endif
