/* node_blobs.c — the node's content-addressed store of encrypted document
 * blobs (STORE_T_BLOBS), outside the block data (docs/documents.md §11). */
#include "base/err.h"
#include "node/node_int.h"

int node_docs_block_txn(node_t *n, store_txn_t *t, const ledger_block_t *b) {
  (void)n;
  (void)t;
  (void)b;
  return VE_OK;
}
