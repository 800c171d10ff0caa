/* cmd_upgrade_int.h — the files of `veche upgrade` (cmd_upgrade.c: the
 * subcommands; cmd_upgrade_file.c: approvals of a protocol upgrade, as JSON,
 * and the checks they pass before going into a PROTOCOL_UPGRADE transaction).
 *
 * As with cmd_valset_file.c, cmd_upgrade_file.c does no I/O besides reading
 * the file it is given and never exits: each function returns a VE_ERR code
 * and writes the reason to err, so tests/unit/cli drives it directly. Set
 * files are read with cmd_valset_int.h's vsc_set_*. Not a public header. */
#ifndef VECHE_CLI_CMD_UPGRADE_INT_H
#define VECHE_CLI_CMD_UPGRADE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "apps/upgrade/upgrade.h"
#include "cli/cli.h"

/* An approval file: seven fields, about 450 bytes pretty-printed. */
#define UPC_APPROVAL_FILE_BYTES_MAX 4096
/* --approval files one `veche upgrade schedule` takes: one per validator. */
#define UPC_APPROVALS_MAX VE_VALIDATORS_MAX

/* One validator's approval of a decision, as `veche upgrade approve` writes
 * it: {"decision", "protocol", "from_height", "set_hash", "index", "pk",
 * "sig"}. */
typedef struct {
  uint64_t decision;                   /* decisions applied so far + 1 */
  uint64_t protocol;                   /* P: 1..UPGRADE_PROTOCOL_MAX */
  uint64_t from_height;                /* A: 1..UPGRADE_HEIGHT_MAX */
  uint8_t set_hash[VCRYPTO_HASH_BYTES]; /* cons_valset_hash of the approving set */
  uint32_t index;                      /* the approver's position in that set */
  uint8_t pk[VCRYPTO_PK_BYTES];        /* the approver's validator key */
  uint8_t sig[VCRYPTO_SIG_BYTES];      /* upgrade_approval_sign */
} upc_approval_t;

/* What a decision proposes, given on the command line: protocol 1 ..
 * UPGRADE_PROTOCOL_MAX, from height 1 .. UPGRADE_HEIGHT_MAX (a zero or a
 * value the ledger can never accept is refused before anything is signed).
 * Returns 0 or VE_ERR_INVALID with the option named in err. The rules that
 * depend on the chain (above the active protocol, far enough ahead) are the
 * ledger's. */
int upc_decision_args_check(uint64_t protocol, uint64_t from_height, char *err, size_t err_len);

/* The approval as JSON (a new reference). */
json_t *upc_approval_to_json(const upc_approval_t *a);
/* Strict: exactly the seven keys; decision at least 1, protocol and
 * from_height within upc_decision_args_check's ranges, index below
 * VE_VALIDATORS_MAX, hex of the right lengths. Returns 0 or VE_ERR_MALFORMED
 * with the field named in err. */
int upc_approval_from_json(const json_t *j, upc_approval_t *a, char *err, size_t err_len);
/* node_json_load (UPC_APPROVAL_FILE_BYTES_MAX) then upc_approval_from_json;
 * err names the file. */
int upc_approval_load(const char *path, upc_approval_t *a, char *err, size_t err_len);

/* Signs, for the validator with key kp, an approval of protocol `protocol`
 * from height `from_height` as decision number `decision` on chain chain_id,
 * with set the approving set (the one governing the block that will execute
 * the decision; kp's index in it is looked up). Returns 0, VE_ERR_INVALID
 * (upc_decision_args_check, or decision 0) or VE_ERR_NOT_FOUND (kp is not a
 * validator of set) with the reason in err. */
int upc_approval_make(upc_approval_t *a, const vcrypto_keypair_t *kp, const char *chain_id, uint64_t decision,
                      uint64_t protocol, uint64_t from_height, const cons_valset_t *set, char *err, size_t err_len);
/* Does a approve exactly this decision (number, protocol, height) on chain
 * chain_id with set as the approving set, by the validator at its index?
 * Checked in the order a person can act on: decision number, protocol,
 * height, set, index and key, signature. Returns 0, or VE_ERR_STATE (another
 * decision number or set: the chain moved on since it was signed, or the
 * approver was ahead), VE_ERR_INVALID (another protocol or height: approvers
 * and submitter disagree), VE_ERR_NOT_FOUND (index/key not in set),
 * VE_ERR_BAD_SIG, with the reason in err. */
int upc_approval_check(const upc_approval_t *a, const char *chain_id, uint64_t decision, uint64_t protocol,
                       uint64_t from_height, const cons_valset_t *set, char *err, size_t err_len);

/* Puts the approvals, sorted by index, into d->approvals (d->protocol and
 * d->from are left alone). Returns 0, VE_ERR_INVALID if there are none or more
 * than VE_VALIDATORS_MAX, or VE_ERR_DUPLICATE (two from one validator) with
 * the reason in err. */
int upc_decision_fill(upgrade_decision_t *d, const upc_approval_t *approvals, size_t n, char *err, size_t err_len);
/* Power of set's validators whose approvals d holds (indices must be below
 * set->count: check each approval first). */
uint64_t upc_decision_power(const upgrade_decision_t *d, const cons_valset_t *set);

/* What GET /v1/protocol answers. Unlike the file functions above, the reader
 * (cmd_upgrade.c; also `veche gov`'s, which asks whether admin actions are
 * council decisions) talks to a node and dies on a bad answer. */
typedef struct {
  uint64_t implemented; /* this node's release implements 1..implemented */
  uint64_t height;      /* the node's tip */
  uint64_t protocol;    /* governing height + 1 */
  uint64_t decisions;   /* decisions applied so far */
  uint64_t next_protocol, next_from; /* 0, 0: nothing scheduled */
} upc_protocol_t;
/* Fills p from node n; *raw (may be NULL) receives the JSON (caller decrefs). */
void upc_protocol_fetch(const cli_node_t *n, upc_protocol_t *p, json_t **raw);
/* The set governing height tip + 1, which approves a decision (an upgrade, a
 * council) executed in the node's next block; dies unless it hashes to the
 * hash the node sent. */
void upc_approving_set_fetch(const cli_node_t *n, uint64_t tip, cons_valset_t *set);

#endif
