/* cmd_valset.c — `veche valset`: show the validator set, approve a change as
 * a current validator, and submit a change with enough approvals
 * (VALSET_CHANGE, src/apps/valset/valset.h; the procedure is in
 * docs/operations.md, "Adding or removing a validator"). Set files and
 * approvals are read and checked by cmd_valset_file.c; transactions are
 * signed and submitted with the helpers `veche poll` uses (cmd_poll_common.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cmd_poll_int.h"
#include "cli/cmd_valset_int.h"

static const char VALSET_USAGE[] =
    "usage: veche valset COMMAND [options]      (veche valset COMMAND --help for details)\n"
    "\n"
    "  show      the validator set (latest, or the one governing a height)\n"
    "  approve   as a current validator, sign an approval of a new set\n"
    "  change    submit a new set with approvals of more than 2/3 of the power\n"
    "\n"
    "A set file is JSON {\"validators\": [{\"pk\": \"<64 hex>\", \"power\": N, \"name\": \"optional\"}]},\n"
    "the shape of genesis.json's \"validators\"; the order is part of the set.\n";

/* ---- shared ---- */

/* The node's latest set and its epoch, from GET /v1/valset; dies unless the
 * set the node sent hashes to the hash it sent (both sides must encode sets
 * alike, or approvals would sign something else than the ledger checks). */
static uint64_t fetch_current(const cli_node_t *n, cons_valset_t *cur) {
  json_t *j = cli_get_json(n, "/v1/valset", "GET /v1/valset");
  char err[512];
  if (vsc_set_from_json(j, cur, err, sizeof err)) cli_die("the node sent a set that does not parse: %s", err);
  const json_t *e = json_object_get(j, "epoch");
  if (!json_is_integer(e) || json_integer_value(e) < 0) cli_die("the node sent no epoch");
  uint64_t epoch = (uint64_t)json_integer_value(e);
  uint8_t want[VCRYPTO_HASH_BYTES], got[VCRYPTO_HASH_BYTES];
  cons_valset_hash(want, cur);
  if (ve_hex_decode(got, sizeof got, cli_jstr(j, "hash")) || memcmp(want, got, sizeof got))
    cli_die("the node's set does not hash to the hash it sent: is this veche the node's version?");
  json_decref(j);
  return epoch;
}

static void set_load_or_die(const char *path, const char *what, cons_valset_t *vs) {
  if (!path) cli_die("%s FILE is required", what);
  char err[512];
  if (vsc_set_load(path, vs, err, sizeof err)) cli_die("%s", err);
}

/* ---- show ---- */

static const char SHOW_USAGE[] =
    "usage: veche valset show [--height H] [--node HOST:PORT]\n"
    "\n"
    "Prints the node's GET /v1/valset as JSON: the latest validator set (its epoch,\n"
    "the first height it governs, hash, total power, validators with index, pk and\n"
    "power), or with --height the set governing height H (H may be at most the\n"
    "node's height + 2). The output is a set file too (for --current).\n";

static int valset_show(int argc, char **argv) {
  static const struct option opts[] = {{"node", 1, 0, 'n'}, {"height", 1, 0, 'H'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *node = NULL;
  uint64_t height = 0;
  bool have_height = false;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (o == 'n') node = optarg;
    else if (o == 'H') height = cli_u64_arg("--height", optarg), have_height = true;
    else if (o == 'h') cli_help(SHOW_USAGE);
    else cli_usage(SHOW_USAGE);
  }
  if (optind != argc) cli_usage(SHOW_USAGE);
  cli_node_t n;
  cli_node_parse(&n, node);
  char path[64] = "/v1/valset";
  if (have_height) snprintf(path, sizeof path, "/v1/valset?height=%llu", (unsigned long long)height);
  json_t *j = cli_get_json(&n, path, "GET /v1/valset");
  cli_print_json(j);
  json_decref(j);
  return 0;
}

/* ---- approve ---- */

static const char APPROVE_USAGE[] =
    "usage: veche valset approve --key VALIDATOR_KEY --set NEW_SET.json [--out FILE]\n"
    "         (--node HOST:PORT | --chain-id ID --epoch E --current CURRENT_SET.json)\n"
    "\n"
    "Signs, with the key of a validator of the current set, an approval of the\n"
    "change from the current set to NEW_SET.json, and writes it as JSON\n"
    "{\"epoch\", \"current_hash\", \"new_hash\", \"index\", \"pk\", \"sig\"} to stdout or\n"
    "FILE (never over an existing file). Give it to whoever submits the change\n"
    "(`veche valset change`). An approval is good for exactly this change: the\n"
    "next epoch (E + 1), this current set and this new set, on this chain.\n"
    "\n"
    "  --node HOST:PORT   learn chain id, epoch and current set from a node\n"
    "                     (default $VECHE_NODE or " CLI_NODE_DEFAULT ")\n"
    "  --chain-id ID --epoch E --current FILE\n"
    "                     offline instead: E is the current set's epoch (\"epoch\"\n"
    "                     in `veche valset show`; 0 before any change) and FILE the\n"
    "                     current set (a set file, genesis.json before any change,\n"
    "                     or the output of `veche valset show`)\n";

static void approval_write(const vsc_approval_t *a, const char *out) {
  json_t *j = vsc_approval_to_json(a);
  cli_json_write_new(j, out);
  json_decref(j);
  if (out) printf("approval of epoch %llu by validator %u written to %s\n", (unsigned long long)a->epoch, a->index, out);
}

static int valset_approve(int argc, char **argv) {
  static const struct option opts[] = {{"key", 1, 0, 'k'},     {"set", 1, 0, 's'},     {"out", 1, 0, 'o'},
                                       {"node", 1, 0, 'n'},    {"chain-id", 1, 0, 'c'}, {"epoch", 1, 0, 'e'},
                                       {"current", 1, 0, 'C'}, {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
  const char *key = NULL, *set = NULL, *out = NULL, *node = NULL, *chain = NULL, *epoch_s = NULL, *current = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
      case 'k': key = optarg; break;
      case 's': set = optarg; break;
      case 'o': out = optarg; break;
      case 'n': node = optarg; break;
      case 'c': chain = optarg; break;
      case 'e': epoch_s = optarg; break;
      case 'C': current = optarg; break;
      case 'h': cli_help(APPROVE_USAGE);
      default: cli_usage(APPROVE_USAGE);
    }
  }
  if (optind != argc) cli_usage(APPROVE_USAGE);
  bool offline = chain || epoch_s || current;
  if (offline && (node || !chain || !epoch_s || !current))
    cli_die("offline, give all of --chain-id, --epoch and --current (and no --node)");
  if (chain && (!*chain || strlen(chain) > VE_CHAIN_ID_BYTES_MAX))
    cli_die("--chain-id must be 1 to %d characters", VE_CHAIN_ID_BYTES_MAX);
  vcrypto_keypair_t kp;
  cli_load_key(key, &kp); /* first: a bad key file is reported before any network error */
  static cons_valset_t cur, next; /* 5 KiB each */
  set_load_or_die(set, "--set", &next);
  char chain_id[VE_CHAIN_ID_BYTES_MAX + 1];
  uint64_t epoch;
  if (offline) {
    snprintf(chain_id, sizeof chain_id, "%s", chain);
    epoch = cli_u64_arg("--epoch", epoch_s);
    set_load_or_die(current, "--current", &cur);
  } else {
    cli_node_t n;
    cli_node_parse(&n, node);
    json_t *j = cli_get_json(&n, "/v1/status", "GET /v1/status");
    const char *c = cli_jstr(j, "chain_id");
    if (!*c || strlen(c) > VE_CHAIN_ID_BYTES_MAX) cli_die("the node sent a bad chain id");
    snprintf(chain_id, sizeof chain_id, "%s", c);
    json_decref(j);
    epoch = fetch_current(&n, &cur);
  }
  vsc_approval_t a;
  char err[512];
  int rc = vsc_approval_make(&a, &kp, chain_id, epoch, &cur, &next, err, sizeof err);
  vcrypto_keypair_wipe(&kp);
  if (rc) cli_die("%s", err);
  approval_write(&a, out);
  return 0;
}

/* ---- change ---- */

static const char CHANGE_USAGE[] =
    "usage: veche valset change --key FILE --set NEW_SET.json --approval FILE\n"
    "         [--approval FILE]... [options]\n"
    "\n"
    "Submits a VALSET_CHANGE transaction: the new set with the approvals (from\n"
    "`veche valset approve`) of validators of the current set holding more than\n"
    "2/3 of its power. The signer (--key) is any active identity. Each approval is\n"
    "checked first against the node's current set, epoch and chain and against\n"
    "NEW_SET.json, and refused with the reason if it does not match. Prints\n"
    "{\"tx\": id, \"status\": ...}. A change committed in block h governs heights\n"
    "h + 2 and later.\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP;

static int valset_change(int argc, char **argv) {
  static const struct option opts[] = {PC_TXOPTS_LONG, {"set", 1, 0, 'S'}, {"approval", 1, 0, 'A'}, {0, 0, 0, 0}};
  pc_txopts_t to = {0};
  const char *set = NULL, *files[VSC_APPROVALS_MAX];
  size_t n_files = 0;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &to)) continue;
    if (o == 'S') set = optarg;
    else if (o == 'A' && n_files < VSC_APPROVALS_MAX) files[n_files++] = optarg;
    else if (o == 'A') cli_die("at most %d --approval files", VSC_APPROVALS_MAX);
    else if (o == 'h') cli_help(CHANGE_USAGE);
    else cli_usage(CHANGE_USAGE);
  }
  if (optind != argc) cli_usage(CHANGE_USAGE);
  if (n_files == 0) cli_die("give at least one --approval FILE");
  static cons_valset_t cur;
  static valset_change_t ch;
  static vsc_approval_t approvals[VSC_APPROVALS_MAX];
  set_load_or_die(set, "--set", &ch.set);
  char err[512];
  for (size_t i = 0; i < n_files; i++)
    if (vsc_approval_load(files[i], &approvals[i], err, sizeof err)) cli_die("%s", err);
  pc_signer_t s;
  pc_signer_open(&s, &to);
  uint64_t epoch = fetch_current(&s.node, &cur);
  for (size_t i = 0; i < n_files; i++)
    if (vsc_approval_check(&approvals[i], s.chain, epoch, &cur, &ch.set, err, sizeof err))
      cli_die("approval %s: %s", files[i], err);
  if (vsc_change_fill(&ch, approvals, n_files, err, sizeof err)) cli_die("%s", err);
  uint64_t have = vsc_change_power(&ch, &cur), total = cons_valset_total_power(&cur);
  if (!valset_power_enough(have, &cur))
    cli_die("the approvals hold %llu of the current set's power %llu; a change needs more than 2/3 (at least "
            "%llu)",
            (unsigned long long)have, (unsigned long long)total, (unsigned long long)(2 * total / 3 + 1));
  ve_buf_t pl;
  ve_buf_init(&pl, VALSET_PAYLOAD_BYTES_MAX);
  int rc = valset_change_encode(&pl, &ch);
  if (rc) cli_die("cannot encode the change: %s", ve_strerror(rc));
  rc = pc_submit(&s, &to, TX_TYPE_VALSET_CHANGE, ve_buf_slice(&pl), NULL);
  ve_buf_free(&pl);
  pc_signer_close(&s);
  return rc;
}

/* ---- dispatch ---- */

int cmd_valset(int argc, char **argv) {
  static const cli_cmd_t cmds[] = {{"show", valset_show}, {"approve", valset_approve}, {"change", valset_change}};
  return cli_subcommand("valset", VALSET_USAGE, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
