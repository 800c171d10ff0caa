/* cmd_doc_int.h — what the files of `veche doc` share (cmd_doc.c: dispatch and
 * the transactions; cmd_doc_read.c: fetch, show, proof, verify; cmd_doc_util.c:
 * node context, transactions, files, blobs). Every function that meets bad
 * input or a refusing node prints "veche: ..." to stderr and exits non-zero
 * (cli_die), so callers read as the happy path. */
#ifndef VECHE_CLI_CMD_DOC_INT_H
#define VECHE_CLI_CMD_DOC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/documents/documents.h"
#include "cli/cli.h"

#define DOC_BUNDLES_MAX 8 /* --bundle files given to `doc verify` */
#define DOC_ARGS_MAX 2    /* positional arguments after the subcommand */

typedef struct {
  const char *sub; /* the subcommand */
  const char *key, *node, *type, *subject, *alg, *metadata, *to, *reason, *file, *out, *height, *genesis;
  const char *valid_from, *valid_until;
  const char *bundles[DOC_BUNDLES_MAX];
  size_t n_bundles;
  bool encrypt;
  const char *args[DOC_ARGS_MAX];
  size_t n_args;
} doc_opts_t;

/* A signer (or reader) talking to one node. */
typedef struct {
  cli_node_t node;
  vcrypto_keypair_t kp;
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  uint64_t height;                 /* the node's height when opened */
  uint64_t seq;                    /* next sequence number to sign with */
  uint8_t me[LEDGER_HASH_BYTES];   /* the key's identity */
} doc_ctx_t;

/* Loads --key, finds the node and the key's identity; signing: also the chain
 * id and the next sequence number (the identity must be able to sign). */
void doc_ctx_open(doc_ctx_t *c, const doc_opts_t *o, bool signing);
void doc_ctx_close(doc_ctx_t *c);
/* Signs, submits and waits for one transaction; dies if it is rejected or
 * fails, naming the node's error. Returns the height it committed at. */
uint64_t doc_submit(doc_ctx_t *c, uint32_t type, const ve_buf_t *payload, const char *what);

/* The record of id from the node (decoded from its raw state value). */
void doc_record_get(const cli_node_t *node, const uint8_t id[LEDGER_HASH_BYTES], documents_record_t *rec);
/* Returns 0, or VE_ERR_NOT_FOUND when no document has digest d. */
int doc_record_by_digest(const cli_node_t *node, const documents_digest_t *d, documents_record_t *rec);
/* The document key from the signer's own grant (dies without one). */
void doc_grant_key(doc_ctx_t *c, const uint8_t doc[LEDGER_HASH_BYTES], uint8_t key[DOCUMENTS_KEY_BYTES]);

/* --alg NAME|1..4 (NULL: blake2b-256); dies if unknown. */
unsigned doc_alg_parse(const char *s);
/* Digests of FILE under every algorithm whose bit (1 << alg) is in mask, in one
 * streaming pass; out[alg] is filled for those. */
void doc_file_digests(const char *path, unsigned mask, documents_digest_t out[DOCUMENTS_ALG_MAX + 1]);
/* Reads FILE whole, refusing (before reading) one over max bytes. */
void doc_file_read(const char *path, uint64_t max, ve_buf_t *out);
/* Uploads a blob through document doc, in parts the API accepts. */
void doc_blob_upload(const cli_node_t *node, const uint8_t doc[LEDGER_HASH_BYTES], ve_slice_t blob);
/* Downloads the size bytes of doc's blob, in parts, into out. */
void doc_blob_download(const cli_node_t *node, const uint8_t doc[LEDGER_HASH_BYTES], uint64_t size, ve_buf_t *out);

/* Lower-case hex of p[0..n) into out (2n+1 bytes); returns out. */
const char *doc_hex(char *out, const uint8_t *p, size_t n);

/* cmd_doc_read.c */
int doc_cmd_fetch(const doc_opts_t *o);
int doc_cmd_show(const doc_opts_t *o);
int doc_cmd_proof(const doc_opts_t *o);
int doc_cmd_verify(const doc_opts_t *o);

#endif
