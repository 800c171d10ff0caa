/* documents.h — documents on the ledger: registration, versions, revocation,
 * encrypted off-ledger storage with key grants, erasure, and evidence renewal.
 *
 * The ledger never holds a document's bytes. A record holds the content digest,
 * who issued it, about whom (subject identity), its type, an optional validity
 * period, a digest of off-ledger metadata and, optionally, a reference to an
 * encrypted blob (content id and size) that nodes keep in a content-addressed
 * store beside the chain. The document key that opens the blob reaches readers
 * through grants: the key wrapped to a recipient identity's public key, posted
 * on the ledger by the issuer. docs/documents.md is the specification (payload
 * and state encodings, permissions, the renewal scheme, the limits of erasure).
 *
 * Record status machine (status and key are independent):
 *   status:  CURRENT --supersede--> SUPERSEDED
 *            CURRENT|SUPERSEDED --revoke--> REVOKED (terminal)
 *   key:     PRESENT --erase--> ERASED (terminal: every grant deleted)
 * Invariants: a (digest algorithm, digest) pair is registered at most once on the
 * whole chain ("docd/" index, never deleted or rewritten); a record's immutable
 * part (issuer .. registration time) and its renewals, once written, never change,
 * so every evidence digest stays recomputable from the latest record; a grant
 * exists only while the key is PRESENT and the status is not REVOKED when granted;
 * "docl/" lists exactly the identities that hold a "docg/" grant.
 *
 * Determinism: the app (documents_app) and every helper here are pure: no clock,
 * files or randomness. Client-side encryption takes its key, nonce and the key
 * wrapping's ephemeral seed as arguments; the caller draws them from the OS RNG.
 *
 * Ownership: the caller owns every buffer. ve_buf_t outputs are appended to.
 * Records decoded by documents_decode are self-contained copies.
 */
#ifndef VECHE_APPS_DOCUMENTS_H
#define VECHE_APPS_DOCUMENTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "base/bytes.h"
#include "ledger/ledger.h"

/* ---- transaction types (app range 0x0200..0x02ff; see ledger.h) ---- */
enum {
  TX_TYPE_DOCUMENT_REGISTER = 0x0201,
  TX_TYPE_DOCUMENT_SUPERSEDE = 0x0202,
  TX_TYPE_DOCUMENT_REVOKE = 0x0203,
  TX_TYPE_DOCUMENT_GRANT = 0x0204,
  TX_TYPE_DOCUMENT_GRANT_REVOKE = 0x0205,
  TX_TYPE_DOCUMENT_ERASE = 0x0206,
  TX_TYPE_DOCUMENT_RENEW = 0x0207,
};
#define DOCUMENTS_TX_TYPE_LO 0x0200
#define DOCUMENTS_TX_TYPE_HI 0x02ff

/* ---- limits ---- */
#define DOCUMENTS_TYPE_BYTES_MAX 32     /* document type: 1..32 of [a-z0-9_.-] */
#define DOCUMENTS_REASON_BYTES_MAX 256  /* revocation / erasure reason (opaque bytes) */
#define DOCUMENTS_DIGEST_BYTES_MAX 64   /* longest digest of any algorithm below */
#define DOCUMENTS_GRANTS_MAX 256        /* identities holding a grant on one document */
#define DOCUMENTS_RENEWALS_MAX 16       /* evidence renewals of one record */
#define DOCUMENTS_CONTENT_BYTES_MAX ((uint64_t)16 * 1024 * 1024) /* plaintext of a blob */
#define DOCUMENTS_KEY_BYTES 32          /* XChaCha20-Poly1305 document key */
#define DOCUMENTS_NONCE_BYTES 24
#define DOCUMENTS_BLOB_VERSION 1
/* Blob = version u8 || nonce[24] || AEAD ciphertext (plaintext + 16-byte tag). */
#define DOCUMENTS_BLOB_OVERHEAD_BYTES (1 + DOCUMENTS_NONCE_BYTES + 16)
#define DOCUMENTS_BLOB_BYTES_MAX (DOCUMENTS_CONTENT_BYTES_MAX + DOCUMENTS_BLOB_OVERHEAD_BYTES)
/* Wrapped key = a sealed box (X25519 ephemeral key || XSalsa20-Poly1305 box). */
#define DOCUMENTS_WRAPPED_KEY_BYTES (32 + 16 + DOCUMENTS_KEY_BYTES)
#define DOCUMENTS_WRAP_SEED_BYTES 32    /* seed of the wrap's ephemeral key pair */
/* A stored record is far below this (at most about 4.2 KiB, with 16 renewals). */
#define DOCUMENTS_RECORD_BYTES_MAX 8192

/* ---- hashing domains (docs/crypto.md convention: H(tag, m)) ---- */
#define DOCUMENTS_TAG_ID "veche/doc/id"             /* document id */
#define DOCUMENTS_TAG_CONTENT "veche/doc/content"   /* content digest, algorithm 1 */
#define DOCUMENTS_TAG_BLOB "veche/doc/blob"         /* blob id; also the AEAD's data */
#define DOCUMENTS_TAG_EVIDENCE "veche/doc/evidence" /* evidence digests of renewals */

/* ---- digest algorithms ----
 * Content digests: algorithm 1 is veche's tagged hash H("veche/doc/content", m);
 * the others are the standard functions of the bytes as they are (so `sha256sum`
 * or `sha512sum` of a file gives the digest). Evidence digests under any
 * algorithm A are A(len(tag) || tag || message), tag "veche/doc/evidence". */
typedef enum {
  DOCUMENTS_ALG_BLAKE2B_256 = 1, /* 32 bytes, tagged (the default) */
  DOCUMENTS_ALG_SHA256 = 2,      /* 32 bytes, FIPS 180-4 */
  DOCUMENTS_ALG_SHA512 = 3,      /* 64 bytes, FIPS 180-4 */
  DOCUMENTS_ALG_BLAKE2B_512 = 4, /* 64 bytes, RFC 7693, unkeyed */
} documents_alg_t;
#define DOCUMENTS_ALG_MAX 4

/* Digest length of alg, or 0 if alg is not one of the above. */
size_t documents_alg_digest_bytes(unsigned alg);
/* "blake2b-256", "sha256", "sha512", "blake2b-512"; "unknown" otherwise. */
const char *documents_alg_name(unsigned alg);
/* The algorithm of a name above, or 0 if unknown. */
unsigned documents_alg_from_name(const char *name);

typedef struct {
  uint8_t alg;                                 /* documents_alg_t */
  uint8_t bytes[DOCUMENTS_DIGEST_BYTES_MAX];   /* documents_alg_digest_bytes(alg) used; rest 0 */
} documents_digest_t;

/* Incremental content digest, for files read in pieces. */
typedef struct {
  uint8_t opaque[384] __attribute__((aligned(64)));
  uint8_t alg;
} documents_hasher_t;
/* Returns 0 or VE_ERR_UNSUPPORTED for an unknown alg. */
int documents_hasher_init(documents_hasher_t *h, unsigned alg);
void documents_hasher_update(documents_hasher_t *h, const uint8_t *p, size_t n);
void documents_hasher_final(documents_hasher_t *h, documents_digest_t *out);
/* Content digest of bytes held in memory (the `veche doc verify FILE` digest).
 * Returns 0 or VE_ERR_UNSUPPORTED. */
int documents_digest_file_bytes(documents_digest_t *out, unsigned alg, const uint8_t *p, size_t n);

/* ---- records ---- */

typedef enum {
  DOCUMENTS_CURRENT = 0,
  DOCUMENTS_SUPERSEDED = 1,
  DOCUMENTS_REVOKED = 2,
} documents_status_t;
const char *documents_status_name(documents_status_t s);

/* What the issuer states at registration (register and supersede payloads). */
typedef struct {
  char type[DOCUMENTS_TYPE_BYTES_MAX + 1];     /* NUL-terminated, [a-z0-9_.-]{1,32} */
  uint8_t subject[LEDGER_HASH_BYTES];          /* identity the document is about */
  documents_digest_t digest;                   /* content digest */
  bool has_validity;                           /* validity period, Unix ms */
  uint64_t not_before_ms;                      /* valid from (inclusive) */
  uint64_t not_after_ms;                       /* valid until (exclusive); > not_before_ms */
  uint8_t metadata_digest[LEDGER_HASH_BYTES];  /* digest of off-ledger metadata */
  bool has_blob;                               /* encrypted bytes are stored */
  uint8_t blob_id[LEDGER_HASH_BYTES];          /* documents_blob_id of the blob */
  uint64_t blob_bytes;                         /* blob size, OVERHEAD..BLOB_BYTES_MAX */
} documents_spec_t;

/* One evidence renewal (docs/documents.md, "Evidence renewal"). */
typedef struct {
  uint8_t alg;                                           /* algorithm of both digests */
  bool has_content;                                      /* false: evidence-only renewal */
  uint8_t content_digest[DOCUMENTS_DIGEST_BYTES_MAX];    /* alg(content) */
  uint64_t anchor_height;                                /* state version of the evidence covered */
  uint8_t anchor_root[LEDGER_HASH_BYTES];                /* state root after anchor_height */
  uint8_t evidence_digest[DOCUMENTS_DIGEST_BYTES_MAX];   /* computed by the ledger */
  uint64_t height;                                       /* block that made the renewal */
  uint64_t time_ms;                                      /* its block time */
  uint8_t renewer[LEDGER_HASH_BYTES];                    /* identity that signed it */
} documents_renewal_t;

typedef struct {
  uint8_t id[LEDGER_HASH_BYTES];
  /* immutable part (the evidence core) */
  uint8_t issuer[LEDGER_HASH_BYTES];
  documents_spec_t spec;
  bool has_prev;                               /* this record supersedes prev */
  uint8_t prev[LEDGER_HASH_BYTES];
  uint64_t registered_height;
  uint64_t registered_time_ms;
  /* append-only */
  size_t n_renewals;
  documents_renewal_t renewals[DOCUMENTS_RENEWALS_MAX];
  /* mutable */
  documents_status_t status;
  bool has_next;                               /* superseded by next */
  uint8_t next[LEDGER_HASH_BYTES];
  uint64_t status_height;                      /* last status change (registration at first) */
  size_t reason_len;                           /* revocation reason, when REVOKED */
  uint8_t reason[DOCUMENTS_REASON_BYTES_MAX];
  bool key_erased;
  uint64_t erased_height;                      /* when key_erased */
} documents_record_t;

typedef struct {
  uint8_t recipient[LEDGER_HASH_BYTES];        /* identity id */
  uint8_t recipient_pk[VCRYPTO_PK_BYTES];      /* the key it was wrapped to */
  uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES];
  uint8_t granter[LEDGER_HASH_BYTES];
  uint64_t height;
} documents_grant_t;

/* The app, for the ledger registry (after identity_app; needs identity state). */
extern const ledger_app_t documents_app;

/* Document id: H("veche/doc/id", issuer || alg u8 || digest). */
void documents_id(uint8_t out[LEDGER_HASH_BYTES], const uint8_t issuer[LEDGER_HASH_BYTES],
                  const documents_digest_t *digest);

/* State keys (for reads and proof bundles). Each returns the key length. */
#define DOCUMENTS_STATE_KEY_BYTES (4 + LEDGER_HASH_BYTES)                 /* "doc/" || id */
#define DOCUMENTS_INDEX_KEY_BYTES_MAX (5 + 1 + DOCUMENTS_DIGEST_BYTES_MAX) /* "docd/" || alg || digest */
#define DOCUMENTS_GRANT_KEY_BYTES (5 + 2 * LEDGER_HASH_BYTES)             /* "docg/" || doc || identity */
#define DOCUMENTS_GRANTS_KEY_BYTES (5 + LEDGER_HASH_BYTES)                /* "docl/" || doc */
size_t documents_state_key(uint8_t out[DOCUMENTS_STATE_KEY_BYTES], const uint8_t id[LEDGER_HASH_BYTES]);
/* VE_ASSERTs a known algorithm. */
size_t documents_index_key(uint8_t out[DOCUMENTS_INDEX_KEY_BYTES_MAX], const documents_digest_t *d);
size_t documents_grant_key(uint8_t out[DOCUMENTS_GRANT_KEY_BYTES], const uint8_t doc[LEDGER_HASH_BYTES],
                           const uint8_t identity[LEDGER_HASH_BYTES]);
size_t documents_grants_key(uint8_t out[DOCUMENTS_GRANTS_KEY_BYTES], const uint8_t doc[LEDGER_HASH_BYTES]);

/* Strict decoders of state values (as found in state or a proof bundle).
 * Return 0, or VE_ERR_CORRUPT for bytes that are not a canonical value. */
int documents_decode(ve_slice_t value, const uint8_t id[LEDGER_HASH_BYTES], documents_record_t *out);
int documents_index_decode(ve_slice_t value, uint8_t doc_id[LEDGER_HASH_BYTES]);
int documents_grant_decode(ve_slice_t value, const uint8_t recipient[LEDGER_HASH_BYTES],
                           documents_grant_t *out);

/* Reads through the state (a store txn, e.g. a read txn in an API thread).
 * Return 0, VE_ERR_NOT_FOUND, VE_ERR_CORRUPT or store errors. */
int documents_get(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], documents_record_t *out);
int documents_get_by_digest(store_txn_t *t, const documents_digest_t *d, documents_record_t *out);
int documents_grant_get(store_txn_t *t, const uint8_t doc[LEDGER_HASH_BYTES],
                        const uint8_t recipient[LEDGER_HASH_BYTES], documents_grant_t *out);
/* Identities holding a grant, ascending. Out: ids[0..*n) (cap >= DOCUMENTS_GRANTS_MAX
 * is always enough; VE_ERR_LIMIT if cap is too small). No grants: 0 with *n = 0. */
int documents_grants_list(store_txn_t *t, const uint8_t doc[LEDGER_HASH_BYTES],
                          uint8_t (*ids)[LEDGER_HASH_BYTES], size_t cap, size_t *n);

/* What a holder of a record may conclude at time now_ms (e.g. the time of the
 * proof's header): revoked beats superseded beats the validity period. */
typedef enum {
  DOCUMENTS_VERDICT_VALID = 0,
  DOCUMENTS_VERDICT_NOT_YET_VALID,
  DOCUMENTS_VERDICT_EXPIRED,
  DOCUMENTS_VERDICT_SUPERSEDED,
  DOCUMENTS_VERDICT_REVOKED,
} documents_verdict_t;
documents_verdict_t documents_verdict(const documents_record_t *rec, uint64_t now_ms);
const char *documents_verdict_name(documents_verdict_t v);

/* What a documents transaction is about, for nodes that keep state of their own
 * beside the ledger (the blob store, src/node/node_blobs.c). Decodes the version,
 * the document id and, for register and supersede, the whole payload strictly, as
 * the app does; the rest of other payloads is not read.
 * Out: has_doc/doc: the document named in the payload (the old version for a
 * supersede; absent for a register); has_spec/spec: the new version's spec (register
 * and supersede), whose record is found by documents_get_by_digest(spec.digest).
 * Returns 0, VE_ERR_UNKNOWN_TYPE outside 0x0201..0x0207, or the decoding error. */
typedef struct {
  bool has_doc;
  uint8_t doc[LEDGER_HASH_BYTES];
  bool has_spec;
  documents_spec_t spec;
} documents_tx_target_t;
int documents_tx_target(uint32_t type, ve_slice_t payload, documents_tx_target_t *out);

/* ---- payload builders for clients (CLI, tests). out is appended to. ----
 * Return 0, VE_ERR_INVALID for arguments every node would refuse (bad type
 * string, unknown algorithm, empty validity period), VE_ERR_TOO_BIG for a
 * reason or blob over its limit. */
int documents_payload_register(ve_buf_t *out, const documents_spec_t *spec);
int documents_payload_supersede(ve_buf_t *out, const uint8_t old_id[LEDGER_HASH_BYTES],
                                const documents_spec_t *spec);
int documents_payload_revoke(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES], const char *reason);
int documents_payload_grant(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES],
                            const uint8_t recipient[LEDGER_HASH_BYTES],
                            const uint8_t recipient_pk[VCRYPTO_PK_BYTES],
                            const uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES]);
int documents_payload_grant_revoke(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES],
                                   const uint8_t recipient[LEDGER_HASH_BYTES]);
int documents_payload_erase(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES], const char *reason);
/* content_digest may be NULL for an evidence-only renewal (content no longer at
 * hand); otherwise it is alg's digest of the content (documents_digest_file_bytes). */
int documents_payload_renew(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES], unsigned alg,
                            const uint8_t *content_digest, uint64_t anchor_height,
                            const uint8_t anchor_root[LEDGER_HASH_BYTES]);

/* ---- protected storage: client-side encryption ----
 * key: a fresh random DOCUMENTS_KEY_BYTES per document; nonce: fresh random
 * DOCUMENTS_NONCE_BYTES (both from the caller's RNG; never reuse a key+nonce).
 * documents_blob_encrypt appends the blob (len + DOCUMENTS_BLOB_OVERHEAD_BYTES
 * bytes) to blob_out and writes its id. VE_ERR_TOO_BIG if len exceeds
 * DOCUMENTS_CONTENT_BYTES_MAX (checked before anything is allocated). */
int documents_blob_encrypt(ve_buf_t *blob_out, uint8_t blob_id[LEDGER_HASH_BYTES], const uint8_t *plain,
                           size_t len, const uint8_t key[DOCUMENTS_KEY_BYTES],
                           const uint8_t nonce[DOCUMENTS_NONCE_BYTES]);
/* Blob id: H("veche/doc/blob", blob bytes). */
void documents_blob_id(uint8_t out[LEDGER_HASH_BYTES], const uint8_t *blob, size_t len);
/* Does blob match the reference in rec (size, then id)? 0; VE_ERR_STATE if rec
 * names no blob or its key was erased (nodes no longer keep it);
 * VE_ERR_TOO_BIG / VE_ERR_INVALID for a wrong size; VE_ERR_HASH_MISMATCH for
 * another id. Nodes call it before storing or serving a blob. */
int documents_blob_check(const documents_record_t *rec, const uint8_t *blob, size_t len);
/* Appends the plaintext to plain_out. VE_ERR_TOO_BIG over DOCUMENTS_BLOB_BYTES_MAX,
 * VE_ERR_MALFORMED if shorter than the overhead, VE_ERR_VERSION, VE_ERR_CRYPTO if
 * it does not authenticate under key (wrong key or altered bytes): nothing is
 * appended then. Check the plaintext with documents_content_check afterwards. */
int documents_blob_decrypt(ve_buf_t *plain_out, const uint8_t *blob, size_t len,
                           const uint8_t key[DOCUMENTS_KEY_BYTES]);
/* Does content have rec's content digest? 0 or VE_ERR_HASH_MISMATCH. */
int documents_content_check(const documents_record_t *rec, const uint8_t *content, size_t len);

/* Key wrapping to an identity: the Ed25519 key is converted to X25519
 * (crypto_sign_ed25519_pk_to_curve25519) and the key sealed to it. The output is
 * byte-compatible with libsodium's crypto_box_seal; the ephemeral key pair comes
 * from seed (32 fresh random bytes) so this function stays deterministic.
 * Returns 0 or VE_ERR_BAD_KEY if recipient_pk does not convert. */
int documents_key_wrap(uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES], const uint8_t key[DOCUMENTS_KEY_BYTES],
                       const uint8_t recipient_pk[VCRYPTO_PK_BYTES],
                       const uint8_t seed[DOCUMENTS_WRAP_SEED_BYTES]);
/* The recipient opens a wrapped key with its Ed25519 key pair (the one whose pk
 * the grant names). Returns 0, VE_ERR_BAD_KEY, or VE_ERR_CRYPTO if the box does
 * not open (wrapped to someone else, or altered); key is zeroed on failure. */
int documents_key_unwrap(uint8_t key[DOCUMENTS_KEY_BYTES], const uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES],
                         const vcrypto_keypair_t *kp);

/* ---- evidence renewal: offline verification ----
 * Layer 0 is the registration (spec.digest at registered_time_ms); layer k >= 1
 * is renewals[k-1]. A policy says from when each algorithm counts as weak. */
typedef struct {
  uint64_t weak_from_ms[DOCUMENTS_ALG_MAX + 1]; /* by alg; 0 = not considered weak */
  uint64_t now_ms;                              /* the verifier's time */
} documents_alg_policy_t;

typedef struct {
  size_t layers;        /* 1 + n_renewals */
  size_t content_layer; /* latest layer whose content digest binds the content */
  uint8_t content_alg;  /* its algorithm */
} documents_evidence_result_t;

/* Checks rec's evidence chain against the content digests the caller computed
 * (digests[alg] for every alg the chain uses; documents_evidence_verify computes
 * them from bytes): the registration digest and every renewal's content digest
 * match; every renewal's evidence digest recomputes over the record's evidence
 * core, the earlier renewals and its anchor; anchors and heights are ordered.
 * With a policy (may be NULL), also: each layer was covered by the next before
 * its algorithm became weak, the last layer's algorithm is not weak at now_ms,
 * and the content is bound by a layer whose algorithm is not weak at now_ms.
 * Anchor roots are checked against the chain separately
 * (documents_evidence_anchor_check with a proof bundle at the anchor height).
 * Returns 0; VE_ERR_HASH_MISMATCH if a digest does not recompute; VE_ERR_PROOF if
 * the chain is out of order or fails the policy; VE_ERR_UNSUPPORTED for an
 * unknown algorithm. reason (may be NULL) receives a one-line explanation. */
int documents_evidence_verify_digests(const documents_record_t *rec,
                                      const documents_digest_t digests[DOCUMENTS_ALG_MAX + 1],
                                      const documents_alg_policy_t *policy,
                                      documents_evidence_result_t *res, char *reason, size_t reason_len);
int documents_evidence_verify(const documents_record_t *rec, const uint8_t *content, size_t len,
                              const documents_alg_policy_t *policy, documents_evidence_result_t *res,
                              char *reason, size_t reason_len);
/* Renewal k's anchor: `anchored` is rec as proven at state version
 * anchored_height under anchored_root (the caller checked that proof bundle).
 * 0 if anchored_height and anchored_root are renewal k's anchor and anchored has
 * the same id, evidence core and exactly the first k renewals; VE_ERR_PROOF
 * otherwise; VE_ERR_INVALID if k >= rec->n_renewals. */
int documents_evidence_anchor_check(const documents_record_t *rec, size_t k,
                                    const documents_record_t *anchored, uint64_t anchored_height,
                                    const uint8_t anchored_root[LEDGER_HASH_BYTES]);

#endif
