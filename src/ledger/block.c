/* block.c — block headers, block bodies and the Merkle root over 32-byte leaves.
 *
 * Header layout (docs/encoding.md, "Block header"):
 *   u8 version(=1) | bytes chain_id | uvarint height | uvarint time_ms |
 *   fixed32 prev_hash | fixed32 tx_root | uvarint tx_count | fixed32 state_root |
 *   fixed32 results_root | fixed32 valset_hash | fixed32 proposer
 * Block: bytes header | uvarint n | n × bytes tx
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "ledger/ledger.h"

#define TAG_MERKLE_LEAF "veche/merkle/leaf"
#define TAG_MERKLE_NODE "veche/merkle/node"
#define TAG_MERKLE_EMPTY "veche/merkle/empty"

/* Tags absorbed once: a block hashes two or three of these per transaction. */
static vcrypto_tag_t g_leaf_tag = VCRYPTO_TAG_INIT(TAG_MERKLE_LEAF);
static vcrypto_tag_t g_node_tag = VCRYPTO_TAG_INIT(TAG_MERKLE_NODE);

int ledger_header_encode(const ledger_header_t *h, ve_buf_t *out) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, h->version);
  codec_put_bytes(&w, h->chain_id.ptr, h->chain_id.len, VE_CHAIN_ID_BYTES_MAX);
  codec_put_uvarint(&w, h->height);
  codec_put_uvarint(&w, h->time_ms);
  codec_put_fixed(&w, h->prev_hash, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, h->tx_root, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, h->tx_count);
  codec_put_fixed(&w, h->state_root, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, h->results_root, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, h->valset_hash, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, h->proposer, VCRYPTO_PK_BYTES);
  return codec_writer_finish(&w);
}

static void get_header(codec_reader_t *r, ledger_header_t *h) {
  codec_enter(r);
  h->version = codec_get_u8(r);
  if (!r->err && h->version != LEDGER_BLOCK_VERSION) codec_fail(r, VE_ERR_VERSION);
  h->chain_id = codec_get_bytes(r, VE_CHAIN_ID_BYTES_MAX);
  h->height = codec_get_uvarint(r);
  h->time_ms = codec_get_uvarint(r);
  codec_get_fixed(r, h->prev_hash, LEDGER_HASH_BYTES);
  codec_get_fixed(r, h->tx_root, LEDGER_HASH_BYTES);
  h->tx_count = (uint32_t)codec_get_uvarint_max(r, VE_BLOCK_TXS_MAX);
  codec_get_fixed(r, h->state_root, LEDGER_HASH_BYTES);
  codec_get_fixed(r, h->results_root, LEDGER_HASH_BYTES);
  codec_get_fixed(r, h->valset_hash, LEDGER_HASH_BYTES);
  codec_get_fixed(r, h->proposer, VCRYPTO_PK_BYTES);
  codec_leave(r);
}

int ledger_header_decode(ve_slice_t in, ledger_header_t *h) {
  if (in.len > LEDGER_HEADER_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_reader_t r;
  codec_reader_init(&r, in);
  get_header(&r, h);
  return codec_reader_finish(&r);
}

int ledger_header_hash(const ledger_header_t *h, uint8_t out[LEDGER_HASH_BYTES]) {
  ve_buf_t buf;
  ve_buf_init(&buf, LEDGER_HEADER_BYTES_MAX);
  int rc = ledger_header_encode(h, &buf);
  if (rc == VE_OK) vcrypto_hash(out, LEDGER_TAG_BLOCK, buf.ptr, buf.len);
  ve_buf_free(&buf);
  return rc;
}

int ledger_block_encode(const ledger_header_t *h, const ve_slice_t *txs, size_t n, ve_buf_t *out) {
  if (n != h->tx_count || n > VE_BLOCK_TXS_MAX) return VE_ERR_INVALID;
  ve_buf_t hdr;
  ve_buf_init(&hdr, LEDGER_HEADER_BYTES_MAX);
  int rc = ledger_header_encode(h, &hdr);
  if (rc == VE_OK) {
    codec_writer_t w;
    codec_writer_init(&w, out);
    codec_put_bytes(&w, hdr.ptr, hdr.len, LEDGER_HEADER_BYTES_MAX);
    codec_put_uvarint(&w, n);
    for (size_t i = 0; i < n; i++) codec_put_bytes(&w, txs[i].ptr, txs[i].len, VE_TX_BYTES_MAX);
    rc = codec_writer_finish(&w);
  }
  ve_buf_free(&hdr);
  return rc;
}

int ledger_block_build(ledger_header_t *h, const ve_slice_t *txs, const uint8_t (*ids)[LEDGER_HASH_BYTES],
                       size_t n, ve_buf_t *out) {
  if (n > VE_BLOCK_TXS_MAX) return VE_ERR_INVALID;
  uint8_t(*own)[LEDGER_HASH_BYTES] = NULL;
  if (!ids && n) {
    own = malloc(n * LEDGER_HASH_BYTES);
    if (!own) return VE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) ledger_tx_id(own[i], txs[i]);
    ids = (const uint8_t(*)[LEDGER_HASH_BYTES])own;
  }
  h->tx_count = (uint32_t)n;
  ledger_merkle_root(ids, n, h->tx_root);
  free(own);
  return ledger_block_encode(h, txs, n, out);
}

int ledger_block_decode(ve_slice_t in, ledger_block_t *b) {
  memset(b, 0, sizeof *b);
  if (in.len > VE_BLOCK_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_reader_t r;
  codec_reader_init(&r, in);
  ve_slice_t hdr = codec_get_bytes(&r, LEDGER_HEADER_BYTES_MAX);
  if (!r.err) {
    codec_reader_t hr;
    codec_reader_init(&hr, hdr);
    get_header(&hr, &b->header);
    codec_fail(&r, codec_reader_finish(&hr));
  }
  /* Each tx needs at least one length byte plus a minimal envelope (> 100 bytes). */
  size_t n = codec_get_count(&r, VE_BLOCK_TXS_MAX, 100);
  if (!r.err && n != b->header.tx_count) codec_fail(&r, VE_ERR_MALFORMED);
  if (!r.err && n) {
    b->txs = calloc(n, sizeof *b->txs);
    if (!b->txs) codec_fail(&r, VE_ERR_NOMEM);
  }
  for (size_t i = 0; i < n && !r.err; i++) b->txs[i] = codec_get_bytes(&r, VE_TX_BYTES_MAX);
  b->tx_count = n;
  int rc = codec_reader_finish(&r);
  if (rc == VE_OK) {
    /* The header commits to the transactions: recompute and compare. The ids
     * stay in b for the callers (validation, execution, indexes). */
    b->ids = n ? malloc(n * LEDGER_HASH_BYTES) : NULL;
    if (n && !b->ids) rc = VE_ERR_NOMEM;
    for (size_t i = 0; rc == VE_OK && i < n; i++) ledger_tx_id(b->ids[i], b->txs[i]);
    if (rc == VE_OK) {
      uint8_t root[LEDGER_HASH_BYTES];
      ledger_merkle_root((const uint8_t(*)[LEDGER_HASH_BYTES])b->ids, n, root);
      if (memcmp(root, b->header.tx_root, LEDGER_HASH_BYTES) != 0) rc = VE_ERR_HASH_MISMATCH;
    }
  }
  if (rc) ledger_block_free(b);
  return rc;
}

int ledger_block_header_get(ve_slice_t in, ledger_header_t *h) {
  if (in.len > VE_BLOCK_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_reader_t r;
  codec_reader_init(&r, in);
  ve_slice_t hdr = codec_get_bytes(&r, LEDGER_HEADER_BYTES_MAX);
  return r.err ? r.err : ledger_header_decode(hdr, h);
}

void ledger_block_free(ledger_block_t *b) {
  free(b->txs);
  free(b->ids);
  b->txs = NULL;
  b->ids = NULL;
  b->tx_count = 0;
}

/* Iterative Merkle root: hash leaves, then combine pairs level by level; an odd
 * last node is carried up unchanged (so no two trees share a root by duplication,
 * unlike Bitcoin's). Leaves and inner nodes use distinct tags. */
void ledger_merkle_root(const uint8_t (*leaves)[LEDGER_HASH_BYTES], size_t n,
                        uint8_t out[LEDGER_HASH_BYTES]) {
  if (n == 0) {
    vcrypto_hash(out, TAG_MERKLE_EMPTY, NULL, 0);
    return;
  }
  uint8_t(*level)[LEDGER_HASH_BYTES] = malloc(n * LEDGER_HASH_BYTES);
  VE_ASSERT(level != NULL);
  for (size_t i = 0; i < n; i++) vcrypto_hash_tag(level[i], &g_leaf_tag, leaves[i], LEDGER_HASH_BYTES);
  while (n > 1) {
    size_t m = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
      uint8_t pair[2 * LEDGER_HASH_BYTES];
      memcpy(pair, level[i], LEDGER_HASH_BYTES);
      memcpy(pair + LEDGER_HASH_BYTES, level[i + 1], LEDGER_HASH_BYTES);
      vcrypto_hash_tag(level[m++], &g_node_tag, pair, sizeof pair);
    }
    if (n & 1) memmove(level[m++], level[n - 1], LEDGER_HASH_BYTES);
    n = m;
  }
  memcpy(out, level[0], LEDGER_HASH_BYTES);
  free(level);
}
