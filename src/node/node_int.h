/* node_int.h — the node's insides, shared by node.c (loop, pipeline) and
 * node_api.c (HTTP handlers). Not a public header. */
#ifndef VECHE_NODE_NODE_INT_H
#define VECHE_NODE_NODE_INT_H

#include <stdatomic.h>
#include <uv.h>

#include "api/api.h"
#include "ledger/ledger.h"
#include "mempool/mempool.h"
#include "node/config.h"
#include "node/node.h"
#include "store/store.h"

struct node {
  node_config_t cfg;
  ledger_genesis_t genesis;
  uint8_t genesis_hash[LEDGER_HASH_BYTES];
  uint8_t valset_hash[LEDGER_HASH_BYTES];
  vcrypto_keypair_t key;
  bool has_key;
  store_t *store;
  mempool_t *mempool;
  api_metrics_t *metrics;
  api_server_t *api;
  uv_loop_t loop;
  uv_async_t wake;  /* a tx was admitted */
  uv_async_t stop;  /* node_stop */
  uv_timer_t tick;  /* heartbeat for empty blocks */
  uv_signal_t sigint, sigterm;
  _Atomic uint64_t height;          /* last committed height, for API threads */
  _Atomic uint64_t txs_committed;   /* since start */
  uint64_t last_block_ms;           /* wall clock of the last commit */
  bool last_block_had_txs;
  /* metrics */
  api_metric_t *m_height, *m_txs, *m_blocks, *m_mempool, *m_rejected, *m_block_ms;
};

ve_slice_t node_chain_id(const node_t *n);
uint64_t node_now_ms(void);
/* Routes served by node_api.c. */
extern const api_route_t node_routes[];
extern const size_t node_routes_n;

#endif
