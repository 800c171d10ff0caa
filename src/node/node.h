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

/* Backups (node_backup.c; docs/operations.md "Backups"). STORE_T_META keys:
 * the mark a backup carries (be64 height of the copy's tip), and the height
 * below which a validator started on a restored store signs nothing (be64). */
#define NODE_META_BACKUP_HEIGHT "backup_height"
#define NODE_META_SIGN_FROM "sign_from_height"
/* Copies the store in data_dir (a running node's, or a stopped one's) into
 * dst_data_dir, an existing empty directory, as one consistent compacted
 * snapshot (store_lmdb_backup), then marks the copy NODE_META_BACKUP_HEIGHT =
 * its tip height. The process must not hold data_dir open. Out: *height_out
 * the copy's height, *bytes_out (may be NULL) its size. err receives a human
 * message on failure; dst_data_dir may then hold a partial copy, which the
 * caller removes. */
int node_backup(const char *data_dir, const char *dst_data_dir, uint64_t *height_out, uint64_t *bytes_out,
                char *err, size_t err_len);

/* Registry of the applications this node runs (identity for now). */
#include "ledger/ledger.h"
const ledger_registry_t *node_registry(void);

#endif
