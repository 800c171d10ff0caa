/* config.h — files an operator edits or receives: genesis.json and config.json.
 *
 * genesis.json is the human form of the canonical genesis (ledger_genesis_t); the
 * chain is identified by the hash of the canonical encoding, never of the JSON,
 * so whitespace or key order in the file do not matter. config.json is local to
 * one node. Both formats are documented in docs/operations.md. Relative paths in
 * config.json are relative to the directory holding it.
 */
#ifndef VECHE_NODE_CONFIG_H
#define VECHE_NODE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ledger/ledger.h"

#define NODE_PATH_BYTES_MAX 1024
#define NODE_CONFIG_BYTES_MAX (1024 * 1024)
#define NODE_PEERS_MAX 64
#define NODE_ALLOW_MAX 256 /* extra keys a node admits besides the genesis validators */
/* sync_group_blocks: how many blocks an observer catching up commits in one
 * durable write (node.c); 0 or 1: one per block, as a validator. */
#define NODE_SYNC_GROUP_BLOCKS_DEFAULT 16
#define NODE_SYNC_GROUP_BLOCKS_MAX 256
/* mempool_backlog_s: client submissions are refused as busy once more is
 * pending than the chain commits in this many seconds at its measured rate
 * (never below NODE_ADMIT_FLOOR_BLOCKS blocks of block_txs_max); 0: off. */
#define NODE_MEMPOOL_BACKLOG_S_DEFAULT 10
#define NODE_MEMPOOL_BACKLOG_S_MAX 600
/* block_target_ms: a proposer sizes its block so that validating, executing
 * and committing it should take about this long, from its recent heights
 * (node_block_txs_cap); 0: always block_txs_max. The default is well below the
 * round-0 propose timeout (1,500 ms with the default heartbeat). */
#define NODE_BLOCK_TARGET_MS_DEFAULT 500
#define NODE_BLOCK_TARGET_MS_MAX 10000

/* state_keep_blocks: how many of the latest heights' state this node keeps
 * provable (docs/state.md §5.1, docs/operations.md "Pruning"); 0: all of
 * them (an archive node, the default). A pruning node enables the state's
 * stale log at its first start and, after each block, deletes what only the
 * heights before the window needed. The minimum leaves the proof API's
 * default height (the tip's parent) and a few before it provable. */
#define NODE_STATE_KEEP_BLOCKS_MIN 16
#define NODE_STATE_KEEP_BLOCKS_MAX 1000000000
/* p2p_send_queue_bytes_max: bytes queued for one peer link before sends to it
 * are refused (src/net's send_queue_bytes_max; an empty queue still takes any
 * one frame); 0: net's default, NET_SEND_QUEUE_BYTES_MAX. */
#define NODE_P2P_SEND_QUEUE_BYTES_MIN (64 * 1024)
#define NODE_P2P_SEND_QUEUE_BYTES_MAX ((uint64_t)1 << 30)
/* gossip_pending_bytes_max: transactions admitted here and waiting for the
 * loop to gossip them; beyond it they are not queued, and a node without a
 * validator key re-sends them from its mempool instead (node_net.c);
 * 0: 16 MiB (NODE_GOSSIP_PENDING_BYTES_DEFAULT). */
#define NODE_GOSSIP_PENDING_BYTES_MIN (64 * 1024)
#define NODE_GOSSIP_PENDING_BYTES_MAX ((uint64_t)1 << 30)
#define NODE_GOSSIP_PENDING_BYTES_DEFAULT (16 * 1024 * 1024)
typedef struct {
  char host[64];
  uint16_t port;
} node_addr_t;

typedef struct {
  char dir[NODE_PATH_BYTES_MAX];          /* directory of config.json */
  char data_dir[NODE_PATH_BYTES_MAX];     /* LMDB environment */
  char genesis_path[NODE_PATH_BYTES_MAX];
  char key_path[NODE_PATH_BYTES_MAX];     /* validator key; empty for observers */
  char node_key_path[NODE_PATH_BYTES_MAX]; /* peer-link key of a node without a validator key
                                              (created at first start if missing) */
  char api_host[64];
  uint16_t api_port;
  unsigned api_threads;
  char p2p_host[64];
  uint16_t p2p_port;
  size_t n_peers;
  node_addr_t peers[NODE_PEERS_MAX];      /* dialed and kept connected */
  size_t n_allow;
  uint8_t allow[NODE_ALLOW_MAX][32];      /* node keys admitted besides the validators */
  int p2p_open;                           /* -1 default: open iff not a validator */
  size_t p2p_send_queue_bytes_max;        /* per link; 0: net's default */
  size_t gossip_pending_bytes_max;        /* 0: NODE_GOSSIP_PENDING_BYTES_DEFAULT */
  size_t mempool_txs_max;
  size_t mempool_bytes_max;
  size_t block_txs_max;
  uint32_t block_interval_ms;  /* how long a proposer waits for transactions */
  uint32_t empty_block_ms;     /* heartbeat: an empty block at least this often */
  uint32_t block_fill_ms;      /* under load, how long a proposer lets its block fill */
  uint32_t sync_group_blocks;  /* observers: blocks per durable commit while behind */
  uint32_t mempool_backlog_s;  /* back-pressure: pending beyond this many seconds of commits is busy */
  uint32_t block_target_ms;    /* adaptive block size: aimed time to validate+execute+commit */
  uint32_t state_keep_blocks;  /* 0: keep every height's state; else only the latest this many */
  size_t map_bytes;            /* LMDB map size */
  /* Not a config.json key: `veche start --sign-from H` (node_backup.c). 0, or
   * a validator signs nothing below H; required once on a store restored
   * from a backup, stored in the store until a block >= H is committed. */
  uint64_t sign_from_height;
  int log_level;
} node_config_t;

void node_config_defaults(node_config_t *c);
/* Loads path (JSON). Unknown keys are rejected so typos are noticed. On error,
 * err (if not NULL) receives a human message. */
int node_config_load(const char *path, node_config_t *c, char *err, size_t err_len);
int node_config_write(const char *path, const node_config_t *c);

/* genesis.json <-> ledger_genesis_t; the loader runs ledger_genesis_check. */
int node_genesis_load(const char *path, ledger_genesis_t *g, char *err, size_t err_len);
int node_genesis_write(const char *path, const ledger_genesis_t *g);

/* Reads path as JSON: a regular file of at most max_bytes (checked before
 * reading and again by what was read), duplicate keys refused. Returns 0 with
 * *out owned by the caller; VE_ERR_IO, VE_ERR_TOO_BIG, VE_ERR_NOMEM or
 * VE_ERR_MALFORMED with the reason in err. */
int node_json_load(const char *path, size_t max_bytes, json_t **out, char *err, size_t err_len);

/* Joins dir and a possibly relative path into out. */
void node_path_join(char *out, size_t out_len, const char *dir, const char *path);

#endif
