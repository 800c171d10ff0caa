/* err.h — the one table of error codes shared by every veche module.
 *
 * Functions that can fail return int: 0 (VE_OK) on success, a negative VE_ERR_*
 * code otherwise. Operating errors (bad input from peers, clients or disk) are
 * returned, logged and survived; broken invariants are programmer errors and go
 * through VE_ASSERT, which stays on in release builds.
 *
 * Each code has a stable snake_case name (ve_err_name) used in JSON error bodies
 * and CLI messages, and a one-line human text (ve_strerror). Never renumber:
 * codes appear in persisted transaction results.
 */
#ifndef VECHE_BASE_ERR_H
#define VECHE_BASE_ERR_H

#include <stdio.h>
#include <stdlib.h>

#define VE_ERR_LIST(X)                                                              \
  X(VE_OK, 0, "ok", "success")                                                      \
  X(VE_ERR_NOMEM, -1, "out_of_memory", "out of memory")                             \
  X(VE_ERR_INVALID, -2, "invalid_argument", "invalid argument")                     \
  X(VE_ERR_MALFORMED, -3, "malformed", "malformed encoding")                        \
  X(VE_ERR_TOO_BIG, -4, "too_big", "size limit exceeded")                           \
  X(VE_ERR_NONCANONICAL, -5, "non_canonical", "non-canonical encoding")             \
  X(VE_ERR_TRAILING, -6, "trailing_bytes", "trailing bytes after value")            \
  X(VE_ERR_DEPTH, -7, "too_deep", "nesting too deep")                               \
  X(VE_ERR_VERSION, -8, "unknown_version", "unknown version")                       \
  X(VE_ERR_BAD_SIG, -9, "bad_signature", "signature verification failed")           \
  X(VE_ERR_BAD_KEY, -10, "bad_key", "invalid public key")                           \
  X(VE_ERR_WRONG_CHAIN, -11, "wrong_chain", "transaction is for another chain")     \
  X(VE_ERR_STALE_SEQ, -12, "stale_sequence", "sequence number already used")        \
  X(VE_ERR_EXPIRED, -13, "expired", "transaction expired")                          \
  X(VE_ERR_UNKNOWN_TYPE, -14, "unknown_type", "unknown transaction type")           \
  X(VE_ERR_PERMISSION, -15, "no_permission", "signer lacks the required role")      \
  X(VE_ERR_FULL, -16, "full", "queue or pool is full")                              \
  X(VE_ERR_DUPLICATE, -17, "duplicate", "already known")                            \
  X(VE_ERR_NOT_FOUND, -18, "not_found", "not found")                                \
  X(VE_ERR_EXISTS, -19, "already_exists", "already exists")                         \
  X(VE_ERR_UNKNOWN_SIGNER, -20, "unknown_signer", "signer is not a registered key") \
  X(VE_ERR_REVOKED, -21, "revoked", "identity or key is revoked")                   \
  X(VE_ERR_SUSPENDED, -22, "suspended", "identity is suspended")                    \
  X(VE_ERR_STATE, -23, "invalid_state", "operation not allowed in this state")      \
  X(VE_ERR_IO, -24, "io_error", "input/output error")                               \
  X(VE_ERR_STORE, -25, "store_error", "storage error")                              \
  X(VE_ERR_CORRUPT, -26, "corrupt", "stored data is corrupt")                       \
  X(VE_ERR_CONFIG, -27, "bad_config", "invalid configuration")                      \
  X(VE_ERR_CRYPTO, -28, "crypto_error", "cryptographic operation failed")           \
  X(VE_ERR_PROOF, -29, "bad_proof", "proof does not verify")                        \
  X(VE_ERR_HEIGHT, -30, "bad_height", "wrong height")                               \
  X(VE_ERR_HASH_MISMATCH, -31, "hash_mismatch", "hash does not match")              \
  X(VE_ERR_QUORUM, -32, "no_quorum", "not enough voting power")                     \
  X(VE_ERR_TIMEOUT, -33, "timeout", "timed out")                                    \
  X(VE_ERR_CLOSED, -34, "closed", "closed or shutting down")                        \
  X(VE_ERR_NOT_ELIGIBLE, -35, "not_eligible", "identity is not eligible")           \
  X(VE_ERR_TOO_EARLY, -36, "too_early", "not open yet")                             \
  X(VE_ERR_TOO_LATE, -37, "too_late", "already closed")                             \
  X(VE_ERR_WRONG_POLL, -38, "wrong_poll", "ballot is for another poll")             \
  X(VE_ERR_BAD_TIME, -39, "bad_time", "block time is not acceptable")               \
  X(VE_ERR_UNSUPPORTED, -40, "unsupported", "not supported")                        \
  X(VE_ERR_PEER, -41, "peer_misbehaved", "peer violated the protocol")              \
  X(VE_ERR_LIMIT, -42, "limit_exceeded", "count limit exceeded")                    \
  X(VE_ERR_BUSY, -43, "busy", "node is busy: more is waiting than it commits soon; retry later") \
  X(VE_ERR_PRUNED, -44, "pruned", "no longer kept by this node (pruned); ask an archive node") \
  X(VE_ERR_NEEDS_DECISION, -45, "needs_council_decision",                                     \
    "an admin action needs a council decision (veche gov)")

enum ve_err {
#define VE_ERR_ENUM(sym, val, name, text) sym = val,
  VE_ERR_LIST(VE_ERR_ENUM)
#undef VE_ERR_ENUM
};

#define VE_ERR_MIN (-45)

/* Stable snake_case name of an error code, e.g. "bad_signature". Never NULL. */
const char *ve_err_name(int err);
/* One-line human description of an error code. Never NULL. */
const char *ve_strerror(int err);

/* Invariant check that stays on in every build. A failure is a programmer error:
 * print where and abort. Never use for input validation. */
#define VE_ASSERT(cond)                                                                  \
  do {                                                                                   \
    if (!(cond)) ve_assert_fail(#cond, __FILE__, __LINE__);                              \
  } while (0)

_Noreturn void ve_assert_fail(const char *expr, const char *file, int line);

/* Propagate a failure: evaluates expr once; returns it if negative. */
#define VE_TRY(expr)                                                                     \
  do {                                                                                   \
    int ve_try_rc_ = (expr);                                                             \
    if (ve_try_rc_ < 0) return ve_try_rc_;                                               \
  } while (0)

#endif
