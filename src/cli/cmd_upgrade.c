/* cmd_upgrade.c — `veche upgrade`: show the protocol version a chain runs and
 * any upgrade scheduled, approve an upgrade as a validator, and schedule one
 * with enough approvals (PROTOCOL_UPGRADE, src/apps/upgrade/upgrade.h).
 * Modelled on `veche valset`: approvals are read and checked by
 * cmd_upgrade_file.c, sets by cmd_valset_file.c, and transactions are signed
 * and submitted with the helpers `veche poll` uses (cmd_poll_common.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cmd_poll_int.h"
#include "cli/cmd_upgrade_int.h"
#include "cli/cmd_valset_int.h"

static const char UPGRADE_USAGE[] =
    "usage: veche upgrade COMMAND [options]      (veche upgrade COMMAND --help for details)\n"
    "\n"
    "  show      the protocol version in force and any upgrade scheduled\n"
    "  approve   as a validator, sign an approval of an upgrade\n"
    "  schedule  submit an upgrade with approvals of more than 2/3 of the power\n"
    "\n"
    "An upgrade switches every node to protocol P (the rules of a newer release)\n"
    "from height A. A node whose release does not implement P stops at height\n"
    "A - 1 until it is upgraded, so install the new release on every node first.\n";

/* ---- shared ---- */

/* A non-negative integer field of GET /v1/protocol; dies if it is missing. */
static uint64_t answer_u64(const json_t *j, const char *k) {
  const json_t *x = json_object_get(j, k);
  if (!json_is_integer(x) || json_integer_value(x) < 0) cli_die("the node's /v1/protocol answer has no \"%s\"", k);
  return (uint64_t)json_integer_value(x);
}

void upc_protocol_fetch(const cli_node_t *n, upc_protocol_t *p, json_t **raw) {
  json_t *j = cli_get_json(n, "/v1/protocol", "GET /v1/protocol");
  p->implemented = answer_u64(j, "implemented");
  p->height = answer_u64(j, "height");
  p->protocol = answer_u64(j, "protocol");
  p->decisions = answer_u64(j, "decisions");
  const json_t *next = json_object_get(j, "next");
  p->next_protocol = p->next_from = 0;
  if (next && !json_is_null(next)) {
    p->next_protocol = answer_u64(next, "protocol");
    p->next_from = answer_u64(next, "from_height");
  }
  if (raw) *raw = j;
  else json_decref(j);
}

/* The set governing height tip + 1, which approves a decision executed in
 * the next block; dies unless it hashes to the hash the node sent (both sides
 * must encode sets alike, or approvals would sign another hash than the
 * ledger checks). */
void upc_approving_set_fetch(const cli_node_t *n, uint64_t tip, cons_valset_t *set) {
  char path[64];
  snprintf(path, sizeof path, "/v1/valset?height=%llu", (unsigned long long)(tip + 1));
  json_t *j = cli_get_json(n, path, "GET /v1/valset");
  char err[512];
  if (vsc_set_from_json(j, set, err, sizeof err)) cli_die("the node sent a set that does not parse: %s", err);
  uint8_t want[VCRYPTO_HASH_BYTES], got[VCRYPTO_HASH_BYTES];
  cons_valset_hash(want, set);
  if (ve_hex_decode(got, sizeof got, cli_jstr(j, "hash")) || memcmp(want, got, sizeof got))
    cli_die("the node's set does not hash to the hash it sent: is this veche the node's version?");
  json_decref(j);
}

/* What the ledger will likely say about (P, A), said before anything is
 * signed or spent. Warnings only: the precise rules are the ledger's, and a
 * block may land between this look and the transaction. */
static void decision_warn(const upc_protocol_t *p, uint64_t protocol, uint64_t from) {
  uint64_t earliest = p->height + 1 + UPGRADE_DELAY_MIN; /* executed in the next block at the earliest */
  if (from < earliest) {
    fprintf(stderr,
            "veche: warning: height %llu is too soon: the node is at height %llu and a decision takes effect %d "
            "blocks after the block that executes it, so the ledger will refuse it; leave operators time to "
            "install the new release\n",
            (unsigned long long)from, (unsigned long long)p->height, UPGRADE_DELAY_MIN);
    return; /* what else might be wrong matters less */
  }
  if (protocol < p->protocol || (protocol == p->protocol && !p->next_from))
    fprintf(stderr,
            "veche: warning: protocol %llu is not above the protocol in force (%llu); the ledger will refuse it\n",
            (unsigned long long)protocol, (unsigned long long)p->protocol);
  else if (protocol == p->protocol)
    fprintf(stderr, "veche: note: protocol %llu is the one in force: this decision cancels the upgrade to protocol "
            "%llu scheduled from height %llu\n",
            (unsigned long long)protocol, (unsigned long long)p->next_protocol, (unsigned long long)p->next_from);
  if (protocol > p->implemented)
    fprintf(stderr, "veche: note: this node implements protocols 1..%llu; unless its release is upgraded, it will "
            "stop at height %llu\n",
            (unsigned long long)p->implemented, (unsigned long long)(from - 1));
}

/* Parses --protocol and --from-height and refuses values no ledger accepts. */
static void decision_args(const char *protocol_s, const char *from_s, uint64_t *protocol, uint64_t *from) {
  if (!protocol_s || !from_s) cli_die("--protocol P and --from-height A are required");
  *protocol = cli_u64_arg("--protocol", protocol_s);
  *from = cli_u64_arg("--from-height", from_s);
  char err[256];
  if (upc_decision_args_check(*protocol, *from, err, sizeof err)) cli_die("%s", err);
}

/* ---- show ---- */

static const char SHOW_USAGE[] =
    "usage: veche upgrade show [--json] [--node HOST:PORT]\n"
    "\n"
    "Prints the protocol version governing the node's next block, the versions\n"
    "the node's release implements, how many upgrade decisions the chain has\n"
    "applied and the upgrade scheduled, if any. --json prints the node's\n"
    "GET /v1/protocol answer instead.\n"
    "\n"
    "  --node HOST:PORT   node to ask (default $VECHE_NODE or " CLI_NODE_DEFAULT ")\n";

static int upgrade_show(int argc, char **argv) {
  static const struct option opts[] = {{"node", 1, 0, 'n'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *node = NULL;
  bool as_json = false;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (o == 'n') node = optarg;
    else if (o == 'j') as_json = true;
    else if (o == 'h') cli_help(SHOW_USAGE);
    else cli_usage(SHOW_USAGE);
  }
  if (optind != argc) cli_usage(SHOW_USAGE);
  cli_node_t n;
  cli_node_parse(&n, node);
  upc_protocol_t p;
  json_t *raw;
  upc_protocol_fetch(&n, &p, &raw);
  if (as_json) cli_print_json(raw);
  json_decref(raw);
  if (as_json) return 0;
  printf("protocol %llu (this node implements 1..%llu%s), %llu decision%s; ", (unsigned long long)p.protocol,
         (unsigned long long)p.implemented, p.protocol > p.implemented ? ": it has stopped" : "",
         (unsigned long long)p.decisions, p.decisions == 1 ? "" : "s");
  if (!p.next_from) {
    puts("no upgrade scheduled");
    return 0;
  }
  printf("upgrade to protocol %llu scheduled from height %llu", (unsigned long long)p.next_protocol,
         (unsigned long long)p.next_from);
  if (p.next_protocol <= p.implemented) puts(" (this node implements it)");
  else
    printf(" (this node does NOT implement it: it will stop at height %llu)\n", (unsigned long long)(p.next_from - 1));
  return 0;
}

/* ---- approve ---- */

static const char APPROVE_USAGE[] =
    "usage: veche upgrade approve --protocol P --from-height A --key VALIDATOR_KEY [--out FILE]\n"
    "         (--node HOST:PORT | --decision K --set SET.json --chain-id ID)\n"
    "\n"
    "Signs, with the key of a validator of the set governing the next block, an\n"
    "approval of switching to protocol P from height A, and writes it as JSON\n"
    "{\"decision\", \"protocol\", \"from_height\", \"set_hash\", \"index\", \"pk\", \"sig\"}\n"
    "to stdout or FILE (never over an existing file). Give it to whoever submits\n"
    "the upgrade (`veche upgrade schedule`). An approval is good for exactly this\n"
    "decision: the next decision number, this P and A, this approving set, on\n"
    "this chain. P and A must be the same in every approval.\n"
    "\n"
    "  --node HOST:PORT   learn chain id, decision number and approving set from a\n"
    "                     node (default $VECHE_NODE or " CLI_NODE_DEFAULT ")\n"
    "  --decision K --set FILE --chain-id ID\n"
    "                     offline instead: K is the number of this decision (the\n"
    "                     decisions applied so far, as `veche upgrade show` prints\n"
    "                     them, + 1) and FILE the set governing the block that will\n"
    "                     execute it (`veche valset show --height H`; a set file)\n";

static void approval_write(const upc_approval_t *a, const char *out) {
  json_t *j = upc_approval_to_json(a);
  cli_json_write_new(j, out); /* ranges: upc_decision_args_check */
  json_decref(j);
  if (out)
    printf("approval of decision %llu (protocol %llu from height %llu) by validator %u written to %s\n",
           (unsigned long long)a->decision, (unsigned long long)a->protocol, (unsigned long long)a->from_height,
           a->index, out);
}

static int upgrade_approve(int argc, char **argv) {
  static const struct option opts[] = {{"protocol", 1, 0, 'P'}, {"from-height", 1, 0, 'F'}, {"key", 1, 0, 'k'},
                                       {"out", 1, 0, 'o'},      {"node", 1, 0, 'n'},        {"decision", 1, 0, 'd'},
                                       {"set", 1, 0, 's'},      {"chain-id", 1, 0, 'c'},    {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *protocol_s = NULL, *from_s = NULL, *key = NULL, *out = NULL, *node = NULL, *decision_s = NULL,
             *set = NULL, *chain = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
      case 'P': protocol_s = optarg; break;
      case 'F': from_s = optarg; break;
      case 'k': key = optarg; break;
      case 'o': out = optarg; break;
      case 'n': node = optarg; break;
      case 'd': decision_s = optarg; break;
      case 's': set = optarg; break;
      case 'c': chain = optarg; break;
      case 'h': cli_help(APPROVE_USAGE);
      default: cli_usage(APPROVE_USAGE);
    }
  }
  if (optind != argc) cli_usage(APPROVE_USAGE);
  uint64_t protocol, from;
  decision_args(protocol_s, from_s, &protocol, &from);
  bool offline = decision_s || set || chain;
  if (offline && (node || !decision_s || !set || !chain))
    cli_die("offline, give all of --decision, --set and --chain-id (and no --node)");
  if (chain && (!*chain || strlen(chain) > VE_CHAIN_ID_BYTES_MAX))
    cli_die("--chain-id must be 1 to %d characters", VE_CHAIN_ID_BYTES_MAX);
  vcrypto_keypair_t kp;
  cli_load_key(key, &kp); /* first: a bad key file is reported before any network error */
  static cons_valset_t vs; /* 5 KiB */
  char chain_id[VE_CHAIN_ID_BYTES_MAX + 1], err[512];
  uint64_t decision;
  upc_protocol_t p = {0}; /* online only */
  bool have_info = false;
  if (offline) {
    snprintf(chain_id, sizeof chain_id, "%s", chain);
    decision = cli_u64_arg("--decision", decision_s);
    if (vsc_set_load(set, &vs, err, sizeof err)) cli_die("%s", err);
  } else {
    cli_node_t n;
    cli_node_parse(&n, node);
    json_t *j = cli_get_json(&n, "/v1/status", "GET /v1/status");
    const char *c = cli_jstr(j, "chain_id");
    if (!*c || strlen(c) > VE_CHAIN_ID_BYTES_MAX) cli_die("the node sent a bad chain id");
    snprintf(chain_id, sizeof chain_id, "%s", c);
    json_decref(j);
    /* Tip and decisions from one answer (one read on the node), then the set
     * governing the block after that tip. */
    upc_protocol_fetch(&n, &p, NULL);
    decision = p.decisions + 1;
    upc_approving_set_fetch(&n, p.height, &vs);
    have_info = true;
  }
  upc_approval_t a;
  int rc = upc_approval_make(&a, &kp, chain_id, decision, protocol, from, &vs, err, sizeof err);
  vcrypto_keypair_wipe(&kp);
  if (rc) cli_die("%s", err);
  if (have_info) decision_warn(&p, protocol, from);
  approval_write(&a, out);
  return 0;
}

/* ---- schedule ---- */

static const char SCHEDULE_USAGE[] =
    "usage: veche upgrade schedule --protocol P --from-height A --approval FILE\n"
    "         [--approval FILE]... --key SIGNER_KEY [options]\n"
    "\n"
    "Submits a PROTOCOL_UPGRADE transaction: protocol P from height A, with the\n"
    "approvals (from `veche upgrade approve`) of validators of the set governing\n"
    "the next block holding more than 2/3 of its power. The signer (--key) is any\n"
    "active identity. Each approval is checked first against the node's chain,\n"
    "decision count and set, and against P and A, and refused with the reason if\n"
    "it does not match. Prints {\"tx\": id, \"status\": ...}; with --wait, then the\n"
    "block that committed it (or why it failed). A decision executed in block h\n"
    "can take effect from height h + 2 at the earliest; giving P equal to the\n"
    "protocol in force cancels a scheduled upgrade.\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP;

_Static_assert(UPGRADE_DELAY_MIN == 2, "SCHEDULE_USAGE says h + 2");

/* Waits for the submitted decision and reports where it landed. */
static int schedule_wait(const cli_node_t *n, const char *id, uint64_t protocol, uint64_t from) {
  json_t *j = cli_wait_final(n, id);
  int rc = cli_tx_committed(j) ? 0 : 1;
  if (rc == 0)
    printf("committed in block %lld: protocol %llu from height %llu\n",
           (long long)json_integer_value(json_object_get(j, "height")), (unsigned long long)protocol,
           (unsigned long long)from);
  else
    fprintf(stderr, "veche: transaction %s %s: %s: %s\n", id, cli_jstr(j, "status"), cli_jstr(j, "error"), cli_jstr(j, "message"));
  json_decref(j);
  return rc;
}

static int upgrade_schedule(int argc, char **argv) {
  static const struct option opts[] = {
      PC_TXOPTS_LONG, {"protocol", 1, 0, 'P'}, {"from-height", 1, 0, 'F'}, {"approval", 1, 0, 'A'}, {0, 0, 0, 0}};
  pc_txopts_t to = {0};
  const char *protocol_s = NULL, *from_s = NULL, *files[UPC_APPROVALS_MAX];
  size_t n_files = 0;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &to)) continue;
    if (o == 'P') protocol_s = optarg;
    else if (o == 'F') from_s = optarg;
    else if (o == 'A' && n_files < UPC_APPROVALS_MAX) files[n_files++] = optarg;
    else if (o == 'A') cli_die("at most %d --approval files", UPC_APPROVALS_MAX);
    else if (o == 'h') cli_help(SCHEDULE_USAGE);
    else cli_usage(SCHEDULE_USAGE);
  }
  if (optind != argc) cli_usage(SCHEDULE_USAGE);
  uint64_t protocol, from;
  decision_args(protocol_s, from_s, &protocol, &from);
  if (n_files == 0) cli_die("give at least one --approval FILE");
  static upc_approval_t approvals[UPC_APPROVALS_MAX];
  static upgrade_decision_t d;
  static cons_valset_t vs;
  char err[512];
  for (size_t i = 0; i < n_files; i++)
    if (upc_approval_load(files[i], &approvals[i], err, sizeof err)) cli_die("%s", err);
  pc_signer_t s;
  pc_signer_open(&s, &to);
  upc_protocol_t p;
  upc_protocol_fetch(&s.node, &p, NULL);
  upc_approving_set_fetch(&s.node, p.height, &vs);
  for (size_t i = 0; i < n_files; i++)
    if (upc_approval_check(&approvals[i], s.chain, p.decisions + 1, protocol, from, &vs, err, sizeof err))
      cli_die("approval %s: %s", files[i], err);
  if (upc_decision_fill(&d, approvals, n_files, err, sizeof err)) cli_die("%s", err);
  uint64_t have = upc_decision_power(&d, &vs), total = cons_valset_total_power(&vs);
  if (!valset_power_enough(have, &vs))
    cli_die("the approvals hold power %llu of the approving set's %llu; an upgrade needs more than 2/3 (at least "
            "%llu)",
            (unsigned long long)have, (unsigned long long)total, (unsigned long long)(2 * total / 3 + 1));
  decision_warn(&p, protocol, from);
  d.protocol = protocol;
  d.from = from;
  ve_buf_t pl;
  ve_buf_init(&pl, UPGRADE_PAYLOAD_BYTES_MAX);
  int rc = upgrade_decision_encode(&pl, &d);
  if (rc) cli_die("cannot encode the decision: %s", ve_strerror(rc));
  /* pc_submit's --wait reports only "committed"; the block is what an
   * operator wants to know here, so this command waits itself. */
  bool wait = to.wait && !to.print;
  to.wait = false;
  char id[65];
  rc = pc_submit(&s, &to, TX_TYPE_PROTOCOL_UPGRADE, ve_buf_slice(&pl), id);
  ve_buf_free(&pl);
  if (rc == 0 && wait) rc = schedule_wait(&s.node, id, protocol, from);
  pc_signer_close(&s);
  return rc;
}

/* ---- dispatch ---- */

int cmd_upgrade(int argc, char **argv) {
  static const cli_cmd_t cmds[] = {
      {"show", upgrade_show}, {"approve", upgrade_approve}, {"schedule", upgrade_schedule}};
  return cli_subcommand("upgrade", UPGRADE_USAGE, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
