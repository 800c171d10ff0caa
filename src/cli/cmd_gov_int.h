/* cmd_gov_int.h — what `veche gov` (cmd_gov.c) shares with the commands whose
 * action is an admin's (`veche tx set-roles|suspend|restore|revoke`, `veche
 * pharma jurisdiction`): from protocol 2 (LEDGER_PROTOCOL_COUNCIL) such an
 * action is a council decision, so these commands send it as a GOV_PROPOSE
 * (src/apps/gov/gov.h) and say where the proposal stands (cmd_gov_wrap.c).
 * Council approval files: cmd_gov_file.c. Not a public header. */
#ifndef VECHE_CLI_CMD_GOV_INT_H
#define VECHE_CLI_CMD_GOV_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "apps/gov/gov.h"
#include "cli/cmd_poll_int.h"

/* How long a proposal stays open when --open-for is not given: a week. */
#define GC_OPEN_MS_DEFAULT (UINT64_C(7) * 24 * 3600 * 1000)
/* A council approval file: eight fields and up to 64 member ids. */
#define GC_APPROVAL_FILE_BYTES_MAX 16384
#define GC_APPROVALS_MAX VE_VALIDATORS_MAX

/* --open-for DUR: a number and a unit, s, m, h or d ("90s", "30m", "12h",
 * "7d"); NULL gives GC_OPEN_MS_DEFAULT. Exits with status 2 and a message if
 * it does not parse or falls outside GOV_OPEN_MS_MIN..GOV_OPEN_MS_MAX. */
uint64_t gc_duration_arg(const char *s);

/* The options an admin command adds. */
typedef struct {
  const char *open_for; /* proposals: --open-for DUR */
  const char *note;     /* proposals: --note TEXT */
  bool direct;          /* --direct: send the action itself, as under protocol 1 */
} gc_admin_opts_t;
/* getopt values above any character, so they fit every command's table */
enum { GC_OPT_OPEN_FOR = 0x1001, GC_OPT_NOTE, GC_OPT_DIRECT };
#define GC_ADMIN_OPTS_LONG \
  {"open-for", 1, 0, GC_OPT_OPEN_FOR}, {"note", 1, 0, GC_OPT_NOTE}, {"direct", 0, 0, GC_OPT_DIRECT}
/* true if c was one of GC_ADMIN_OPTS_LONG. */
bool gc_admin_opt(int c, const char *arg, gc_admin_opts_t *o);
#define GC_ADMIN_OPTS_HELP                                                                  \
  "  --open-for DUR     from protocol 2 the action is a council proposal, open\n"        \
  "                     this long (90s, 30m, 12h, 7d; default 7d, 1m..90d)\n"            \
  "  --note TEXT        why, for the council (at most 512 bytes)\n"                      \
  "  --direct           send the action itself even from protocol 2 (the ledger\n"       \
  "                     refuses it: needs_council_decision; for tests and\n"             \
  "                     protocol-1 chains)\n"

/* Does this action go to the council? Asks the node (GET /v1/protocol): yes
 * when the protocol governing its next block is >= LEDGER_PROTOCOL_COUNCIL
 * and --direct was not given, and, for an action on an identity (target not
 * NULL: suspend, restore, revoke), when that identity holds a role (registrars
 * keep managing citizens directly). */
bool gc_admin_wrap(const cli_node_t *n, const gc_admin_opts_t *o, const uint8_t *target);

/* Proposes (type, payload) to the council as s: checks the council exists and
 * s is a member (else dies saying what to do), then signs and submits a
 * GOV_PROPOSE as gc_propose does. Returns the exit status. */
int gc_admin_submit(pc_signer_t *s, const pc_txopts_t *to, const gc_admin_opts_t *o, uint32_t type,
                    ve_slice_t payload);

/* Signs and submits a GOV_PROPOSE of (type, payload) with note, open for
 * open_ms, and prints the proposal id (known before submitting) and, after
 * --wait, where the proposal stands (gc_proposal_say). Returns the exit
 * status. */
int gc_propose(pc_signer_t *s, const pc_txopts_t *to, uint64_t open_ms, uint32_t type, ve_slice_t payload,
               const char *note);

/* Prints one line on where the proposal stands now ("proposal ID: executed at
 * height H", "... open, A of K approvals; ...", "... rejected ..."); dies if
 * the node does not know it. */
void gc_proposal_say(const cli_node_t *n, const char *id_hex);

/* One validator's approval of a council, as `veche gov council-approve`
 * writes it: {"chain_id", "epoch", "k", "members", "set_hash", "index", "pk",
 * "sig"}. */
typedef struct {
  char chain_id[VE_CHAIN_ID_BYTES_MAX + 1];
  gov_council_t council;                /* epoch: the one being appointed */
  uint8_t set_hash[VCRYPTO_HASH_BYTES]; /* cons_valset_hash of the approving set */
  uint32_t index;                       /* the approver's position in that set */
  uint8_t pk[VCRYPTO_PK_BYTES];
  uint8_t sig[VCRYPTO_SIG_BYTES];       /* gov_council_approval_sign */
} gc_approval_t;

/* --members ID,ID,... and --k K as a council (sorted; epoch left 0). Returns 0
 * or VE_ERR_INVALID with the reason in err: a bad id, a repeated one, more than
 * GOV_COUNCIL_MAX, none, or k outside n/2 < k <= n. */
int gc_council_args(const char *members, const char *k, gov_council_t *c, char *err, size_t err_len);
json_t *gc_approval_to_json(const gc_approval_t *a);
/* Strict: exactly the eight keys, hex of the right lengths, a council
 * gc_council_args would accept. Returns 0 or VE_ERR_MALFORMED with the field
 * named in err. */
int gc_approval_from_json(const json_t *j, gc_approval_t *a, char *err, size_t err_len);
int gc_approval_load(const char *path, gc_approval_t *a, char *err, size_t err_len);
/* Does a approve exactly council c (with c->epoch the one appointed) on chain
 * chain_id by the set's validator at its index, with set approving? Checked in
 * the order a person can act on: chain, epoch, members and k, set, index and
 * key, signature. Returns 0, VE_ERR_STATE (another epoch or set: the chain
 * moved on), VE_ERR_INVALID (another chain or council), VE_ERR_NOT_FOUND, or
 * VE_ERR_BAD_SIG, with the reason in err. */
int gc_approval_check(const gc_approval_t *a, const char *chain_id, const gov_council_t *c, const cons_valset_t *set,
                      char *err, size_t err_len);

#endif
