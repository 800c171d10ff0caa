/* cmd_valset_int.h — the files of `veche valset` (cmd_valset.c: the
 * subcommands; cmd_valset_file.c: set files and approvals, as JSON).
 *
 * cmd_valset_file.c does no I/O besides reading the file it is given and
 * never exits: each function returns a VE_ERR code and writes the reason to
 * err, so tests/unit/cli drives it directly and the subcommands decide how to
 * report. Not a public header. */
#ifndef VECHE_CLI_CMD_VALSET_INT_H
#define VECHE_CLI_CMD_VALSET_INT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "apps/valset/valset.h"

/* A set file: 128 entries of a 64-hex key, a 64-character name and a power
 * take about 25 KiB even pretty-printed; a genesis.json (also accepted) adds
 * at most 256 authorities of about the same size. */
#define VSC_SET_FILE_BYTES_MAX (256 * 1024)
/* An approval file: six fields, about 400 bytes. */
#define VSC_APPROVAL_FILE_BYTES_MAX 4096
/* --approval files one `veche valset change` takes: one per current validator. */
#define VSC_APPROVALS_MAX VE_VALIDATORS_MAX

/* One validator's approval of a change, as `veche valset approve` writes it:
 * {"epoch", "current_hash", "new_hash", "index", "pk", "sig"}. */
typedef struct {
  uint64_t epoch;                              /* the epoch the change makes: current + 1 */
  uint8_t current_hash[VCRYPTO_HASH_BYTES];    /* cons_valset_hash of the set it changes */
  uint8_t new_hash[VCRYPTO_HASH_BYTES];        /* ... and of the set it makes */
  uint32_t index;                              /* the approver's position in the current set */
  uint8_t pk[VCRYPTO_PK_BYTES];                /* the approver's validator key */
  uint8_t sig[VCRYPTO_SIG_BYTES];              /* valset_approval_sign */
} vsc_approval_t;


/* A validator set from the JSON of a set file: an object whose "validators"
 * is an array of 1..VE_VALIDATORS_MAX objects {"pk": 64 hex, "power":
 * 1..CONS_POWER_MAX, "name": optional string of at most VE_NAME_BYTES_MAX
 * bytes (ignored), "index": optional, its position}. Other top-level keys are
 * ignored, so a genesis.json and the answer of GET /v1/valset are set files
 * too; other keys inside an entry are refused (a typo must not pass). Keys
 * must be valid (vcrypto_pk_valid) and distinct. The order is kept: it is
 * part of the set. Returns 0, or VE_ERR_MALFORMED / VE_ERR_INVALID /
 * VE_ERR_TOO_BIG / VE_ERR_DUPLICATE / VE_ERR_BAD_KEY with the entry named in err. */
int vsc_set_from_json(const json_t *j, cons_valset_t *out, char *err, size_t err_len);
/* node_json_load (VSC_SET_FILE_BYTES_MAX) then vsc_set_from_json. */
int vsc_set_load(const char *path, cons_valset_t *out, char *err, size_t err_len);

/* Pieces of the approval files, shared with `veche upgrade`'s
 * (cmd_upgrade_file.c): a hex string of p[n] (n up to a signature's length);
 * the n bytes of hex field k of j; 0 if j's keys are all among keys[n_keys]
 * (a typo must not pass), else VE_ERR_MALFORMED naming the first other one
 * and what (e.g. "an approval"). */
json_t *vsc_hex_json(const uint8_t *p, size_t n);
int vsc_hex_field(const json_t *j, const char *k, uint8_t *out, size_t n, char *err, size_t err_len);
int vsc_keys_only(const json_t *j, const char *const *keys, size_t n_keys, const char *what, char *err,
                  size_t err_len);
/* Writes the message into err[err_len] and returns rc: how the file readers
 * of valset, upgrade and gov say what is wrong. */
__attribute__((format(printf, 4, 5))) int vsc_fail(char *err, size_t err_len, int rc, const char *fmt, ...);
/* Integer field k of j, from lo to hi (hi at most INT64_MAX, what JSON
 * integers hold here); VE_ERR_MALFORMED naming k otherwise. */
int vsc_int_field(const json_t *j, const char *k, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
                  size_t err_len);

/* The approval as JSON (a new reference). */
json_t *vsc_approval_to_json(const vsc_approval_t *a);
/* Strict: exactly the six keys, epoch 1..2^53, index below
 * VE_VALIDATORS_MAX, hex of the right lengths. Returns 0 or
 * VE_ERR_MALFORMED with the field named in err. */
int vsc_approval_from_json(const json_t *j, vsc_approval_t *a, char *err, size_t err_len);
/* node_json_load (VSC_APPROVAL_FILE_BYTES_MAX) then vsc_approval_from_json. */
int vsc_approval_load(const char *path, vsc_approval_t *a, char *err, size_t err_len);

/* Signs an approval of next for the validator with key kp, which must be in
 * cur (its index is looked up). Returns 0, or VE_ERR_NOT_FOUND (kp is not a
 * validator of cur) with the reason in err. */
int vsc_approval_make(vsc_approval_t *a, const vcrypto_keypair_t *kp, const char *chain_id, uint64_t cur_epoch,
                      const cons_valset_t *cur, const cons_valset_t *next, char *err, size_t err_len);
/* Does a approve exactly the change from cur (at epoch cur_epoch) to next on
 * chain chain_id, by the validator at its index? Checked in the order a
 * person can act on: epoch, current set, new set, index and key, signature.
 * Returns 0, or VE_ERR_STATE (epoch or current set differ: the set changed
 * since it was signed), VE_ERR_HASH_MISMATCH (another new set),
 * VE_ERR_NOT_FOUND (index/key not in cur), VE_ERR_BAD_SIG, with the reason in
 * err. */
int vsc_approval_check(const vsc_approval_t *a, const char *chain_id, uint64_t cur_epoch, const cons_valset_t *cur,
                       const cons_valset_t *next, char *err, size_t err_len);

/* Sorts approvals by index into c->approvals (c->set is left alone). Returns
 * 0, VE_ERR_INVALID if there are none or more than cur has validators, or
 * VE_ERR_DUPLICATE (two from one validator) with the reason in err. */
int vsc_change_fill(valset_change_t *c, const vsc_approval_t *approvals, size_t n, char *err, size_t err_len);
/* Power of cur's validators whose approvals c holds. */
uint64_t vsc_change_power(const valset_change_t *c, const cons_valset_t *cur);

#endif
