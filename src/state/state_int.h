/* state_int.h — insides of src/state shared by its .c files (not a public header).
 *
 * Storage picture (docs/state.md, "Storage layout"): the binary tree is stored in
 * radix-16 pieces. A stored node sits at a nibble path of L nibbles (0..63) and
 * covers the four binary levels 4L..4L+3 below that point; its 16 slots are the
 * subtrees at the next nibble, each empty, a single leaf, or a child node. A node
 * exists exactly where the subtree holds two or more leaves, so the layout, like
 * the root, depends only on the map.
 */
#ifndef VECHE_STATE_STATE_INT_H
#define VECHE_STATE_STATE_INT_H

#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "state/state.h"

#define STATE_NIBBLES 64              /* nibbles in a 256-bit path */
#define STATE_NODE_SLOTS 16
#define STATE_NODE_FORMAT 1           /* first byte of a stored node */
/* Stored node: format, present bitmap, leaf bitmap, then per slot hash, leaf path
 * and a uvarint version, then up to 6 cached half/quarter hashes. */
#define STATE_NODE_BYTES_MAX \
  (1 + 2 + 2 + STATE_NODE_SLOTS * (2 * STATE_HASH_BYTES + 10) + 6 * STATE_HASH_BYTES)
/* Node key: be64 version, one byte per nibble of the node's path, 0xff. */
#define STATE_NODE_KEY_BYTES_MAX (8 + STATE_NIBBLES + 1)

/* STORE_T_STATE_HIST key prefixes. Nothing may sort after the stale chunks,
 * which a commit of a pruned store appends (state_prune.c). */
#define STATE_HIST_ROOT 0x00  /* 0x00 || be64(~version) -> root slot record */
#define STATE_HIST_VALUE 0x01 /* 0x01 || be64(version) || path -> value set then */
#define STATE_HIST_PRUNE 0x02 /* 0x02 -> prune record (pruning enabled; floor) */
#define STATE_HIST_STALE 0x03 /* 0x03 || be64(version) || be32(i) -> stale chunk i */
#define STATE_HIST_ROOT_KEY_BYTES 9
#define STATE_HIST_VALUE_KEY_BYTES (1 + 8 + STATE_HASH_BYTES)
#define STATE_HIST_STALE_KEY_BYTES (1 + 8 + 4)

typedef enum { SLOT_EMPTY = 0, SLOT_LEAF = 1, SLOT_NODE = 2 } state_slot_kind_t;

/* One subtree as its parent sees it. */
typedef struct {
  uint8_t kind;                    /* state_slot_kind_t */
  uint8_t hash[STATE_HASH_BYTES];  /* zero for SLOT_EMPTY */
  uint8_t path[STATE_HASH_BYTES];  /* SLOT_LEAF: the leaf's key path */
  uint64_t version;                /* SLOT_LEAF: version its value was set at;
                                      SLOT_NODE: version the child node was written at */
} state_slot_t;

/* A binary subtree inside a node during hashing: its hash and kind, and for
 * SLOT_LEAF which slot holds that single leaf. */
typedef struct {
  uint8_t kind;
  uint8_t leaf_slot;
  uint8_t hash[STATE_HASH_BYTES];
} state_bin_t;

#define STATE_NODE_PAIRS 8 /* binary subtrees three levels below a node */

/* A stored node: its 16 slots, plus the binary subtrees one and two levels below
 * the node (halves and quarters), kept so that a commit changing one slot
 * rehashes 5 pairs instead of all 15 (docs/state.md, "Storage layout").
 * In memory only (never stored): the subtrees three levels below (pairs of
 * slots) that are known, bit p of pairs_known for pair[p], so that a commit
 * changing one slot of a node whose pairs the cache kept rehashes 4. */
typedef struct {
  state_slot_t slot[STATE_NODE_SLOTS];
  state_bin_t half[2];
  state_bin_t quarter[4];
  state_bin_t pair[STATE_NODE_PAIRS];
  unsigned pairs_known;
} state_node_t;

/* Nibble i (0 = most significant) of a path. */
static inline unsigned state_nibble(const uint8_t path[STATE_HASH_BYTES], unsigned i) {
  uint8_t b = path[i / 2];
  return (i & 1) ? (b & 0x0f) : (b >> 4);
}

/* Bit i (0 = most significant) of a path. */
static inline unsigned state_bit(const uint8_t path[STATE_HASH_BYTES], unsigned i) {
  return (path[i / 8] >> (7 - (i % 8))) & 1;
}

/* ---- keys and varints (shared by state_tree.c and state_prune.c) ---- */

static inline size_t state_node_key(uint8_t out[STATE_NODE_KEY_BYTES_MAX], uint64_t version,
                                    const uint8_t path[STATE_HASH_BYTES], unsigned nibbles) {
  VE_ASSERT(nibbles < STATE_NIBBLES);
  ve_be64_put(out, version);
  uint8_t *n = out + 8;
  for (unsigned i = 0; i < nibbles / 2; i++) {
    *n++ = path[i] >> 4;
    *n++ = path[i] & 0x0f;
  }
  if (nibbles & 1) *n++ = path[nibbles / 2] >> 4;
  *n = 0xff; /* sorts after every child (nibbles are < 0x10) */
  return 9 + nibbles;
}

static inline void state_root_key(uint8_t out[STATE_HIST_ROOT_KEY_BYTES], uint64_t version) {
  out[0] = STATE_HIST_ROOT;
  ve_be64_put(out + 1, UINT64_MAX - version); /* newest first, so a seek finds <= v */
}

static inline void state_value_key(uint8_t out[STATE_HIST_VALUE_KEY_BYTES], uint64_t version,
                                   const uint8_t path[STATE_HASH_BYTES]) {
  out[0] = STATE_HIST_VALUE;
  ve_be64_put(out + 1, version);
  memcpy(out + 9, path, STATE_HASH_BYTES);
}

/* ---- hashing (state_proof.c) ---- */

void state_value_hash(uint8_t out[STATE_HASH_BYTES], ve_slice_t value);
void state_leaf_hash(uint8_t out[STATE_HASH_BYTES], const uint8_t path[STATE_HASH_BYTES],
                     const uint8_t vhash[STATE_HASH_BYTES]);
void state_node_hash(uint8_t out[STATE_HASH_BYTES], const uint8_t left[STATE_HASH_BYTES],
                     const uint8_t right[STATE_HASH_BYTES]);

/* The binary rule for joining two sibling subtrees: empty+empty is empty, a lone
 * leaf beside an empty subtree rises unchanged, anything else is
 * H("veche/state/node", left || right). */
void state_bin_join(state_bin_t *out, const state_bin_t *left, const state_bin_t *right);


/* ---- cache of the upper tree (state_cache.c) ---- */

#define STATE_CACHE_DEPTH_MAX 4                  /* nibble depths 0..4: 69,905 paths */
#define STATE_CACHE_BYTES_MAX ((size_t)96 << 20) /* encoded nodes kept, at most */

/* Takes the process-wide cache for one commit; empties it first unless it
 * describes history_before. false: busy or no memory (commit uncached). */
bool state_cache_acquire(const uint8_t history_before[STATE_HASH_BYTES]);
/* Gives it back: on ok it now describes history_after; otherwise it is emptied. */
void state_cache_release(const uint8_t history_after[STATE_HASH_BYTES], bool ok);
/* A node as the cache holds it: its stored encoding and the pairs of slots
 * it knows (state_node_t.pair, .pairs_known). */
typedef struct {
  ve_slice_t bytes;
  unsigned pairs_known;
  const state_bin_t *pairs; /* STATE_NODE_PAIRS */
} state_cache_node_t;

/* Holder only. The node at (path, nibbles) if the cache has it at exactly this
 * version and hash; what *out points to is valid until the next put or forget
 * of the same path. */
bool state_cache_get(const uint8_t path[STATE_HASH_BYTES], unsigned nibbles, uint64_t version,
                     const uint8_t hash[STATE_HASH_BYTES], state_cache_node_t *out);
/* Holder only. Records the node now at (path, nibbles): its encoding and the
 * pairs of slots known (pairs_known 0: none; pairs may then be NULL). */
void state_cache_put(const uint8_t path[STATE_HASH_BYTES], unsigned nibbles, uint64_t version,
                     const uint8_t hash[STATE_HASH_BYTES], ve_slice_t bytes, unsigned pairs_known,
                     const state_bin_t *pairs);
/* Holder only. Asks the CPU to start loading the entry of (path, nibbles), if
 * any, into its caches (a hint: no effect on results). */
void state_cache_prefetch(const uint8_t path[STATE_HASH_BYTES], unsigned nibbles);
/* Holder only. No node at (path, nibbles) any more. */
void state_cache_forget(const uint8_t path[STATE_HASH_BYTES], unsigned nibbles);

/* ---- pruning (state_prune.c) ---- */

#define STATE_PRUNE_FORMAT 1 /* first byte of the prune record */
#define STATE_STALE_FORMAT 1 /* first byte of a stale chunk */
/* A stale chunk holds whole entries up to this many bytes: about 600 node
 * entries (4-8 bytes each) or 100 value entries (37 bytes). Chunks rather than
 * one record per entry make the log one append per ~4 KB instead of one B-tree
 * insert per entry; 4,000 bytes fit one LMDB overflow page of 4 KiB. */
#define STATE_STALE_CHUNK_BYTES_MAX 4000
/* One entry: u8 tag (0..63: a node of that many nibbles; STATE_STALE_VALUE: a
 * value-history entry), uvarint version, then the node's nibbles packed two a
 * byte (ceil(L/2) bytes, unused low nibble 0) or the value's 32-byte path. */
#define STATE_STALE_VALUE 0x80
#define STATE_STALE_ENTRY_BYTES_MAX (1 + CODEC_UVARINT_BYTES_MAX + STATE_HASH_BYTES)

/* Reads the prune record: *enabled false (and *floor 0) if pruning was never
 * enabled; *floor is the oldest version that stays provable (0: nothing pruned).
 * Returns 0, VE_ERR_CORRUPT, store errors. */
int state_prune_record_get(store_txn_t *t, bool *enabled, uint64_t *floor);

/* The stale log a commit of a pruned store fills: entries are packed into a
 * chunk and each full chunk is appended as 0x03 || be64(version) || be32(i). */
typedef struct {
  store_txn_t *t;
  uint64_t version;  /* the commit's version */
  uint32_t chunks;   /* chunks appended so far */
  size_t len;        /* bytes in buf; 0: empty, else buf[0] is the format */
  uint8_t buf[STATE_STALE_CHUNK_BYTES_MAX];
} state_stale_log_t;

void state_stale_init(state_stale_log_t *log, store_txn_t *t, uint64_t version);
/* The node (version, first `nibbles` nibbles of path) left the latest tree. */
int state_stale_node(state_stale_log_t *log, uint64_t version, const uint8_t path[STATE_HASH_BYTES],
                     unsigned nibbles);
/* The value-history entry (version, path) left the latest tree. */
int state_stale_value(state_stale_log_t *log, uint64_t version, const uint8_t path[STATE_HASH_BYTES]);
/* Appends the partly filled chunk, if any. */
int state_stale_flush(state_stale_log_t *log);

/* ---- proofs (state_proof.c) ---- */

/* What a proof says about one path: the siblings from the root down (sibling i
 * is at binary depth i+1; all-zero means empty) and what ends the path. */
typedef struct {
  unsigned depth;                                     /* 0..STATE_PROOF_DEPTH_MAX */
  uint8_t sibling[STATE_PROOF_DEPTH_MAX][STATE_HASH_BYTES];
  bool leaf;                                          /* false: ends in an empty subtree */
  uint8_t leaf_path[STATE_HASH_BYTES];
  uint8_t leaf_vhash[STATE_HASH_BYTES];
} state_proof_t;

int state_proof_encode(const state_proof_t *p, ve_buf_t *out);
/* Strict decoder: VE_ERR_VERSION or VE_ERR_MALFORMED. */
int state_proof_decode(state_proof_t *p, ve_slice_t in);

#endif
