/* node_docs.h — the node's store of encrypted document blobs, for the HTTP API
 * (node_api_docs.c) and the network layer (replication between nodes).
 *
 * Blobs are the encrypted bytes of documents (docs/documents.md §6), kept beside
 * the chain, never in blocks. A node keeps a blob only while a committed record
 * whose key is not erased references it, and only if the bytes pass
 * documents_blob_check against that record (size, then content id). Erasure
 * deletes it in the block that commits the erase.
 *
 * Layout:
 *   STORE_T_BLOBS      blob id (32)                        -> blob bytes
 *   STORE_T_APP_INDEX  "blob/ref/"  || blob id || doc id   -> ""    a record, key not
 *                                                                  erased, names the blob
 *                      "blob/want/" || blob id             -> ""    referenced, not held
 *                      "blob/part/" || blob id             -> the bytes of an upload in
 *                                                                  parts received so far
 * Invariants, after every committed write transaction:
 *   - a held blob has at least one ref, and passed documents_blob_check against a
 *     record that had it (refs and the records they name only change in blocks);
 *   - "want" exists exactly when a ref exists and the blob is not held;
 *   - "part" exists only while "want" does, and is shorter than the blob.
 * The refs are maintained by node_docs_block_txn (node_int.h) inside every block's
 * write transaction: a register or supersede naming a blob adds its ref (and a
 * want unless held); an erase removes the record's ref, and the blob with its want
 * and part once no ref remains.
 *
 * Threads: every function here may run on any thread. Those that write open their
 * own short LMDB write transaction (LMDB serialises them with the loop thread's
 * block commits); hashing and copying happen before it, in a read transaction, and
 * the record is checked again inside it, so an erase that commits in between wins.
 *
 * Ownership: the caller owns every buffer; ve_buf_t outputs are appended to.
 */
#ifndef VECHE_NODE_NODE_DOCS_H
#define VECHE_NODE_NODE_DOCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "apps/documents/documents.h"
#include "node/node.h"

/* Largest piece of a blob in one HTTP request (upload or ranged download): the
 * API layer's body limit, below DOCUMENTS_BLOB_BYTES_MAX, so bigger blobs travel
 * in parts. */
#define NODE_DOCS_PART_BYTES_MAX API_BODY_BYTES_MAX
/* Records examined for one blob id when a blob arrives by id alone. */
#define NODE_DOCS_REFS_SCAN_MAX 64

/* Stores blob under id, if a committed record whose key is not erased references
 * id and documents_blob_check passes against it. Already held: 0, nothing written.
 * Returns 0; VE_ERR_TOO_BIG over DOCUMENTS_BLOB_BYTES_MAX (checked first);
 * VE_ERR_HASH_MISMATCH if blob's id is not id; VE_ERR_NOT_FOUND if no such record
 * references id; VE_ERR_INVALID if none of them has blob's size; store errors. */
int node_docs_blob_store(node_t *n, const uint8_t id[LEDGER_HASH_BYTES], ve_slice_t blob);

/* Appends the held blob id to out. Returns 0, VE_ERR_NOT_FOUND if not held,
 * VE_ERR_TOO_BIG if out's cap is too small, store errors. */
int node_docs_blob_load(node_t *n, const uint8_t id[LEDGER_HASH_BYTES], ve_buf_t *out);

/* Appends bytes [offset, offset + min(len_max, size - offset)) of the held blob
 * to out; *size_out gets the blob's size. Returns 0, VE_ERR_NOT_FOUND if not held,
 * VE_ERR_INVALID if offset >= size, VE_ERR_TOO_BIG if out's cap is too small. */
int node_docs_blob_read(node_t *n, const uint8_t id[LEDGER_HASH_BYTES], uint64_t offset, size_t len_max,
                        ve_buf_t *out, uint64_t *size_out);

/* Does this node hold blob id? (false also when the store cannot be read) */
bool node_docs_blob_held(node_t *n, const uint8_t id[LEDGER_HASH_BYTES]);

/* Ids of blobs referenced by committed records whose key is not erased that this
 * node does not hold, in id order: the first max of them (an index scan, no record
 * is read). Returns how many were written to ids (0 also on a store error). */
size_t node_docs_blobs_missing(node_t *n, uint8_t (*ids)[LEDGER_HASH_BYTES], size_t max);

/* An upload in parts, through document doc (the record names the blob).
 * part is bytes [offset, offset + part.len) of the blob; offset may be at most
 * what was received so far (0 starts again; an earlier offset repeats a part
 * whose answer was lost). When the parts reach the blob's size, the whole blob is
 * checked with documents_blob_check and stored, and the parts are dropped (also
 * when the check fails). Out: *up (always filled on return 0, and on
 * VE_ERR_INVALID with what was received). Returns 0; VE_ERR_NOT_FOUND (no such
 * document); VE_ERR_STATE (it names no blob, or its key was erased); VE_ERR_INVALID
 * (empty part, or offset past what was received); VE_ERR_TOO_BIG (past the blob's
 * size); VE_ERR_HASH_MISMATCH (complete, but not the blob); store errors. */
typedef struct {
  uint8_t blob_id[LEDGER_HASH_BYTES];
  uint64_t size;     /* the blob's size, from the record */
  uint64_t received; /* bytes held now (size once stored) */
  bool stored;       /* the node holds the whole blob */
  bool completed;    /* this call stored it */
} node_docs_upload_t;
int node_docs_blob_put_part(node_t *n, const uint8_t doc[LEDGER_HASH_BYTES], uint64_t offset, ve_slice_t part,
                            node_docs_upload_t *up);

#endif
