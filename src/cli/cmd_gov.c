/* cmd_gov.c — `veche gov`: the council (src/apps/gov, docs/governance.md).
 * Reads go to the node's /v1/gov endpoints; proposals, votes and council
 * sets are signed and submitted with the helpers `veche poll` uses
 * (cmd_poll_common.c); proposing and saying where a proposal stands is shared
 * with the admin commands that become proposals (cmd_gov_wrap.c); council
 * approval files are cmd_gov_file.c's. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cmd_gov_int.h"
#include "cli/cmd_upgrade_int.h"

static const char GOV_USAGE[] =
    "usage: veche gov COMMAND [options]      (veche gov COMMAND --help for details)\n"
    "\n"
    "From protocol 2 the admin role acts only through council decisions: a\n"
    "member proposes an action, and it runs once k of the n members approve.\n"
    "\n"
    "Reading:\n"
    "  council          the council in force: epoch, k of n, members\n"
    "  show ID          one proposal\n"
    "  list             proposals, newest first (--open: those still open)\n"
    "  proof            a proof bundle of the council or a proposal (offline:\n"
    "                   `veche verify`)\n"
    "Members:\n"
    "  propose          propose an action (tx type and payload)\n"
    "  approve ID       approve; the k-th approval runs the action\n"
    "  reject ID        object; enough objections close the proposal\n"
    "Validators (appointing the council):\n"
    "  council-approve  sign an approval of a council, offline, into a file\n"
    "  council-set      submit a council with approvals of more than 2/3 of the power\n"
    "\n"
    "`veche tx set-roles`, `veche tx suspend|restore|revoke` of an identity that\n"
    "holds a role, and `veche pharma jurisdiction` make proposals by themselves\n"
    "on such a chain.\n";

#define GOV_PATH_BYTES_MAX 256

/* ---- reading ---- */

typedef struct {
  const char *node, *height, *after, *out, *limit;
  bool json, open;
  int n_args;
  char **args;
} gov_read_t;

static void read_parse(int argc, char **argv, const char *usage, gov_read_t *r) {
  static const struct option opts[] = {{"node", 1, 0, 'n'},   {"json", 0, 0, 'j'},          {"open", 0, 0, 'o'},
                                       {"limit", 1, 0, 'l'},  {"height", 1, 0, 'H'},        {"out", 1, 0, 'O'},
                                       {"valsets-after", 1, 0, 'a'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  memset(r, 0, sizeof *r);
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
      case 'n': r->node = optarg; break;
      case 'j': r->json = true; break;
      case 'o': r->open = true; break;
      case 'l': r->limit = optarg; break;
      case 'H': r->height = optarg; break;
      case 'O': r->out = optarg; break;
      case 'a': r->after = optarg; break;
      case 'h': cli_help(usage);
      default: cli_usage(usage);
    }
  }
  r->n_args = argc - optind;
  r->args = argv + optind;
}

/* GET path; dies on anything but 200. */
static json_t *get_or_die(const cli_node_t *n, const char *path) {
  json_t *j = NULL;
  int st = cli_http_json(n, "GET", path, NULL, &j);
  if (st == 404 && j && !strcmp(cli_jstr(j, "error"), "not_found")) cli_die("%s", cli_jstr(j, "message"));
  if (st != 200 || !j) cli_die_answer(path, st, j);
  return j;
}

static void id_arg(const char *what, const char *s) {
  uint8_t b[32];
  cli_hex32(what, s, b);
}

static const char COUNCIL_USAGE[] =
    "usage: veche gov council [--json] [--node HOST:PORT]\n"
    "\n"
    "Prints the council in force: its epoch (1 = the first), k of n, and each\n"
    "member's identity, status and roles. Exit 1 if there is none (a chain at\n"
    "protocol 1, or upgraded and not yet appointed).\n";

static int gov_council(int argc, char **argv) {
  gov_read_t r;
  read_parse(argc, argv, COUNCIL_USAGE, &r);
  if (r.n_args) cli_usage(COUNCIL_USAGE);
  cli_node_t n;
  cli_node_parse(&n, r.node);
  json_t *j = get_or_die(&n, "/v1/gov/council");
  if (r.json) {
    cli_print_json(j);
  } else {
    printf("council epoch %lld: %lld of %lld members decide (as of height %lld)\n",
           (long long)json_integer_value(json_object_get(j, "epoch")), (long long)json_integer_value(json_object_get(j, "k")),
           (long long)json_integer_value(json_object_get(j, "n")), (long long)json_integer_value(json_object_get(j, "height")));
    size_t i, k;
    json_t *m, *role;
    json_array_foreach(json_object_get(j, "members"), i, m) {
      printf("  %s  %s, roles:", cli_jstr(m, "id"), *cli_jstr(m, "status") ? cli_jstr(m, "status") : "unknown");
      json_t *roles = json_object_get(m, "roles");
      json_array_foreach(roles, k, role) printf(" %s", json_string_value(role));
      printf("%s\n", json_array_size(roles) ? "" : " none");
    }
  }
  json_decref(j);
  return 0;
}

static const char SHOW_USAGE[] =
    "usage: veche gov show ID [--node HOST:PORT]\n"
    "\n"
    "Prints the proposal as the node's JSON: status (open, executed, rejected,\n"
    "expired, stale), the action (type and payload), the note, who approved and\n"
    "who objected, the approvals needed and the height that decided it.\n";

static int gov_show(int argc, char **argv) {
  gov_read_t r;
  read_parse(argc, argv, SHOW_USAGE, &r);
  if (r.n_args != 1) cli_usage(SHOW_USAGE);
  id_arg("proposal id", r.args[0]);
  cli_node_t n;
  cli_node_parse(&n, r.node);
  char path[GOV_PATH_BYTES_MAX];
  snprintf(path, sizeof path, "/v1/gov/proposals/%s", r.args[0]);
  json_t *j = get_or_die(&n, path);
  cli_print_json(j);
  json_decref(j);
  return 0;
}

static const char LIST_USAGE[] =
    "usage: veche gov list [--open] [--limit N] [--json] [--node HOST:PORT]\n"
    "\n"
    "Lists proposals newest first, one a line: id, status, approvals of those\n"
    "needed, action type, created height. --open: only those still open for\n"
    "votes; --limit N: at most N (1..500, default 50).\n";

static int gov_list(int argc, char **argv) {
  gov_read_t r;
  read_parse(argc, argv, LIST_USAGE, &r);
  if (r.n_args) cli_usage(LIST_USAGE);
  char path[GOV_PATH_BYTES_MAX];
  snprintf(path, sizeof path, "/v1/gov/proposals?status=%s", r.open ? "open" : "all");
  if (r.limit) {
    uint64_t l = cli_u64_arg("--limit", r.limit);
    if (l < 1 || l > 500) cli_die("--limit must be 1..500");
    size_t len = strlen(path);
    snprintf(path + len, sizeof path - len, "&limit=%llu", (unsigned long long)l);
  }
  cli_node_t n;
  cli_node_parse(&n, r.node);
  json_t *j = get_or_die(&n, path);
  if (r.json) {
    cli_print_json(j);
    json_decref(j);
    return 0;
  }
  size_t i;
  json_t *p;
  json_t *list = json_object_get(j, "proposals");
  json_array_foreach(list, i, p) {
    json_t *needed = json_object_get(p, "needed"), *action = json_object_get(p, "action");
    char k[24] = "?";
    if (json_is_integer(needed)) snprintf(k, sizeof k, "%lld", (long long)json_integer_value(needed));
    printf("%s  %-8s  %lld of %s approvals, %lld objections  action %s (%s)  created at height %lld\n",
           cli_jstr(p, "id"), cli_jstr(p, "status"), (long long)json_integer_value(json_object_get(p, "approvals")), k,
           (long long)json_integer_value(json_object_get(p, "rejections")), cli_jstr(action, "type_hex"),
           *cli_jstr(action, "app") ? cli_jstr(action, "app") : "?",
           (long long)json_integer_value(json_object_get(p, "created")));
  }
  if (!json_array_size(list)) printf("no %sproposals\n", r.open ? "open " : "");
  if (!json_is_true(json_object_get(j, "complete"))) printf("(more: use --limit)\n");
  json_decref(j);
  return 0;
}

static const char PROOF_USAGE[] =
    "usage: veche gov proof (council | ID) [--height H] [--valsets-after K] [--out FILE] [--node HOST:PORT]\n"
    "\n"
    "Saves a proof bundle (docs/proofs.md) of the council (\"gov/council\") or of a\n"
    "proposal's record, present or proven absent, after height H (default: the\n"
    "latest certified). Check it offline with\n"
    "`veche verify --genesis GENESIS --bundle FILE`. Without --out, to stdout.\n";

static int gov_proof(int argc, char **argv) {
  gov_read_t r;
  read_parse(argc, argv, PROOF_USAGE, &r);
  if (r.n_args != 1) cli_usage(PROOF_USAGE);
  char path[GOV_PATH_BYTES_MAX];
  if (!strcmp(r.args[0], "council")) {
    snprintf(path, sizeof path, "/v1/proofs/gov/council");
  } else {
    id_arg("proposal id", r.args[0]);
    snprintf(path, sizeof path, "/v1/proofs/gov/proposals/%s", r.args[0]);
  }
  char sep = '?';
  if (r.height) {
    size_t l = strlen(path);
    snprintf(path + l, sizeof path - l, "%cheight=%llu", sep, (unsigned long long)cli_u64_arg("--height", r.height));
    sep = '&';
  }
  if (r.after) {
    size_t l = strlen(path);
    snprintf(path + l, sizeof path - l, "%cvalsets_after=%llu", sep,
             (unsigned long long)cli_u64_arg("--valsets-after", r.after));
  }
  cli_node_t n;
  cli_node_parse(&n, r.node);
  json_t *j = cli_get_json(&n, path, path);
  cli_json_write_new(j, r.out);
  if (r.out)
    printf("proof bundle of %s written to %s\n", strcmp(r.args[0], "council") ? "the proposal" : "the council", r.out);
  json_decref(j);
  return 0;
}

/* ---- members: propose, approve, reject ---- */

#define TXOPTS_HELP "\nOptions:\n  --key FILE         the signer's key\n" PC_TXOPTS_HELP

static const char PROPOSE_USAGE[] =
    "usage: veche gov propose --type T --payload-hex HEX [--open-for DUR] [--note TEXT] --key MEMBER_KEY [options]\n"
    "\n"
    "As a council member, proposes an action: a transaction type T (0x0106 or\n"
    "262; an application's, 0x0100 or above) and its payload in hex, exactly as\n"
    "the owning application takes it from a direct signer. It stays open for DUR\n"
    "of block time (90s, 30m, 12h, 7d; default 7d; 1m..90d). Prints the proposal\n"
    "id; with --wait, where it stands (executed at once when k = 1, else open).\n"
    "Your approval counts. The action runs as yours, with the admin role, when\n"
    "the k-th member approves; if it fails then, that approval fails and the\n"
    "proposal stays open.\n"
    "  --note TEXT        why (at most 512 bytes; a document's digest, say)\n" TXOPTS_HELP;

static uint32_t type_arg(const char *s) {
  if (!s) cli_die("--type T is required");
  char *end;
  unsigned long v = strtoul(s, &end, 0);
  if (s[0] < '0' || s[0] > '9' || *end || v > LEDGER_TX_TYPE_MAX)
    cli_die("--type must be a transaction type, decimal or 0x hex, up to 0xffff (not \"%s\")", s);
  return (uint32_t)v;
}

static int gov_propose(int argc, char **argv) {
  static const struct option opts[] = {
      PC_TXOPTS_LONG, {"type", 1, 0, 'T'}, {"payload-hex", 1, 0, 'P'}, GC_ADMIN_OPTS_LONG, {0, 0, 0, 0}};
  pc_txopts_t to = {0};
  gc_admin_opts_t ao = {0};
  const char *type_s = NULL, *payload_s = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &to) || (o != GC_OPT_DIRECT && gc_admin_opt(o, optarg, &ao))) continue;
    if (o == 'T') type_s = optarg;
    else if (o == 'P') payload_s = optarg;
    else if (o == 'h') cli_help(PROPOSE_USAGE);
    else cli_usage(PROPOSE_USAGE);
  }
  if (optind != argc) cli_usage(PROPOSE_USAGE);
  uint32_t type = type_arg(type_s);
  uint64_t open_ms = gc_duration_arg(ao.open_for);
  ve_buf_t payload;
  ve_buf_init(&payload, GOV_ACTION_BYTES_MAX);
  if (!payload_s || pc_hex_decode(payload_s, &payload, GOV_ACTION_BYTES_MAX))
    cli_die("--payload-hex must be an even number of hex digits, at most %d bytes", GOV_ACTION_BYTES_MAX);
  pc_signer_t s;
  pc_signer_open(&s, &to);
  int rc = gc_propose(&s, &to, open_ms, type, ve_buf_slice(&payload), ao.note);
  pc_signer_close(&s);
  ve_buf_free(&payload);
  return rc;
}

static const char APPROVE_USAGE[] =
    "usage: veche gov approve ID --key MEMBER_KEY [options]\n"
    "\n"
    "As a council member, approves the open proposal ID. The approval that\n"
    "brings approvals to k runs the action; if the action fails then, the\n"
    "approval fails with its error and the proposal stays open. With --wait,\n"
    "prints where the proposal stands after it (executed, or open: A of K).\n" TXOPTS_HELP;

static const char REJECT_USAGE[] =
    "usage: veche gov reject ID --key MEMBER_KEY [options]\n"
    "\n"
    "As a council member, objects to the open proposal ID. Once more than n - k\n"
    "members object, k approvals are out of reach and the proposal closes,\n"
    "rejected. With --wait, prints where the proposal stands after it.\n" TXOPTS_HELP;

static int vote(int argc, char **argv, const char *usage, uint32_t type) {
  static const struct option opts[] = {PC_TXOPTS_LONG, {0, 0, 0, 0}};
  pc_txopts_t to = {0};
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &to)) continue;
    if (o == 'h') cli_help(usage);
    cli_usage(usage);
  }
  if (optind != argc - 1) cli_usage(usage);
  const char *id_hex = argv[optind];
  uint8_t id[32];
  cli_hex32("proposal id", id_hex, id);
  ve_buf_t pl;
  ve_buf_init(&pl, GOV_PAYLOAD_BYTES_MAX);
  int rc = gov_payload_vote(&pl, id);
  if (rc) cli_die("cannot build the vote: %s", ve_strerror(rc));
  pc_signer_t s;
  pc_signer_open(&s, &to);
  rc = pc_submit(&s, &to, type, ve_buf_slice(&pl), NULL);
  if (rc == 0 && to.wait && !to.print) {
    char lower[65];
    ve_hex_encode(lower, id, 32);
    gc_proposal_say(&s.node, lower);
  }
  pc_signer_close(&s);
  ve_buf_free(&pl);
  return rc;
}

static int gov_approve(int argc, char **argv) { return vote(argc, argv, APPROVE_USAGE, TX_TYPE_GOV_APPROVE); }
static int gov_reject(int argc, char **argv) { return vote(argc, argv, REJECT_USAGE, TX_TYPE_GOV_REJECT); }

/* ---- validators: appointing a council ---- */

/* The chain id, the epoch the next council takes (current + 1; 1 if none)
 * and the set that approves a council set executed in the node's next block
 * (governing tip + 1); dies unless the set hashes to the hash the node sent. */
static void council_context(const cli_node_t *n, char chain[VE_CHAIN_ID_BYTES_MAX + 1], uint64_t *epoch,
                            cons_valset_t *set) {
  json_t *j = get_or_die(n, "/v1/status");
  const char *c = cli_jstr(j, "chain_id");
  if (!*c || strlen(c) > VE_CHAIN_ID_BYTES_MAX) cli_die("the node sent a bad chain id");
  snprintf(chain, VE_CHAIN_ID_BYTES_MAX + 1, "%s", c);
  json_decref(j);
  j = NULL;
  int st = cli_http_json(n, "GET", "/v1/gov/council", NULL, &j);
  if (st == 200) *epoch = (uint64_t)json_integer_value(json_object_get(j, "epoch")) + 1;
  else if (st == 404) *epoch = 1;
  else cli_die_answer("GET /v1/gov/council", st, j);
  json_decref(j);
  upc_protocol_t p;
  upc_protocol_fetch(n, &p, NULL);
  upc_approving_set_fetch(n, p.height, set);
}

static const char COUNCIL_APPROVE_USAGE[] =
    "usage: veche gov council-approve --members ID,ID,... --k K --key VALIDATOR_KEY [--out FILE] [--node HOST:PORT]\n"
    "\n"
    "As a validator of the set governing the node's next block, signs an approval\n"
    "of the council of these members (identity ids) with threshold K (a strict\n"
    "majority: n/2 < K <= n), as the chain's next council epoch, and writes it as\n"
    "JSON {\"chain_id\", \"epoch\", \"k\", \"members\", \"set_hash\", \"index\", \"pk\",\n"
    "\"sig\"} to stdout or FILE (never over an existing file). Chain id, epoch and\n"
    "set come from the node. Give the file to whoever submits the council\n"
    "(`veche gov council-set`); validators holding more than 2/3 of the power\n"
    "must approve. An approval is good for exactly this council, epoch and set.\n";

static int gov_council_approve(int argc, char **argv) {
  static const struct option opts[] = {{"members", 1, 0, 'm'}, {"k", 1, 0, 'K'}, {"key", 1, 0, 'k'},
                                       {"out", 1, 0, 'o'},     {"node", 1, 0, 'n'}, {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *members = NULL, *k = NULL, *key = NULL, *out = NULL, *node = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
      case 'm': members = optarg; break;
      case 'K': k = optarg; break;
      case 'k': key = optarg; break;
      case 'o': out = optarg; break;
      case 'n': node = optarg; break;
      case 'h': cli_help(COUNCIL_APPROVE_USAGE);
      default: cli_usage(COUNCIL_APPROVE_USAGE);
    }
  }
  if (optind != argc) cli_usage(COUNCIL_APPROVE_USAGE);
  static gc_approval_t a;
  char err[512];
  if (gc_council_args(members, k, &a.council, err, sizeof err)) cli_die("%s", err);
  vcrypto_keypair_t kp;
  cli_load_key(key, &kp);
  cli_node_t n;
  cli_node_parse(&n, node);
  static cons_valset_t set;
  council_context(&n, a.chain_id, &a.council.epoch, &set);
  bool found = false;
  for (uint32_t i = 0; i < set.count && !found; i++)
    if (!memcmp(set.v[i].pk, kp.pk, VCRYPTO_PK_BYTES)) a.index = i, found = true;
  if (!found) {
    vcrypto_keypair_wipe(&kp);
    cli_die("this key is not a validator of the set governing the node's next block: only its validators appoint "
            "the council");
  }
  cons_valset_hash(a.set_hash, &set);
  memcpy(a.pk, kp.pk, VCRYPTO_PK_BYTES);
  gov_council_approval_sign(a.sig, &kp, a.chain_id, &a.council, &set);
  vcrypto_keypair_wipe(&kp);
  json_t *j = gc_approval_to_json(&a);
  cli_json_write_new(j, out);
  json_decref(j);
  if (out)
    printf("approval of council epoch %llu (%u of %u) by validator %u written to %s\n",
           (unsigned long long)a.council.epoch, a.council.k, a.council.n, a.index, out);
  return 0;
}

static const char COUNCIL_SET_USAGE[] =
    "usage: veche gov council-set --members ID,ID,... --k K --approval FILE [--approval FILE]...\n"
    "         --key SIGNER_KEY [options]\n"
    "\n"
    "Submits a GOV_COUNCIL_SET: the council of these members with threshold K, as\n"
    "the next epoch, with approvals (`veche gov council-approve`) of validators\n"
    "holding more than 2/3 of the power of the set governing the next block. The\n"
    "signer is any active identity. Each file is checked first against the\n"
    "node's chain, epoch and set and against --members and --k, and refused with\n"
    "the reason if it does not match. Members must be registered identities,\n"
    "not revoked. Open proposals of the old council become stale.\n" TXOPTS_HELP;

static int approval_index_cmp(const void *a, const void *b) {
  uint32_t x = ((const valset_approval_t *)a)->index, y = ((const valset_approval_t *)b)->index;
  return x < y ? -1 : x > y;
}

static int gov_council_set(int argc, char **argv) {
  static const struct option opts[] = {
      PC_TXOPTS_LONG, {"members", 1, 0, 'm'}, {"k", 1, 0, 'K'}, {"approval", 1, 0, 'A'}, {0, 0, 0, 0}};
  pc_txopts_t to = {0};
  const char *members = NULL, *k = NULL, *files[GC_APPROVALS_MAX];
  size_t n_files = 0;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &to)) continue;
    if (o == 'm') members = optarg;
    else if (o == 'K') k = optarg;
    else if (o == 'A' && n_files < GC_APPROVALS_MAX) files[n_files++] = optarg;
    else if (o == 'A') cli_die("at most %d --approval files", GC_APPROVALS_MAX);
    else if (o == 'h') cli_help(COUNCIL_SET_USAGE);
    else cli_usage(COUNCIL_SET_USAGE);
  }
  if (optind != argc) cli_usage(COUNCIL_SET_USAGE);
  gov_council_set_t *cs = calloc(1, sizeof *cs);
  gc_approval_t *a = calloc(1, sizeof *a);
  static cons_valset_t set;
  if (!cs || !a) cli_die("out of memory");
  char err[512];
  if (gc_council_args(members, k, &cs->council, err, sizeof err)) cli_die("%s", err);
  if (n_files == 0) cli_die("give at least one --approval FILE");
  pc_signer_t s;
  pc_signer_open(&s, &to);
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  council_context(&s.node, chain, &cs->council.epoch, &set);
  uint64_t power = 0;
  for (size_t i = 0; i < n_files; i++) {
    if (gc_approval_load(files[i], a, err, sizeof err)) cli_die("%s", err);
    if (gc_approval_check(a, chain, &cs->council, &set, err, sizeof err)) cli_die("approval %s: %s", files[i], err);
    for (uint32_t j = 0; j < cs->n_approvals; j++)
      if (cs->approvals[j].index == a->index) cli_die("approval %s: validator %u approved twice", files[i], a->index);
    cs->approvals[cs->n_approvals].index = a->index;
    memcpy(cs->approvals[cs->n_approvals++].sig, a->sig, VCRYPTO_SIG_BYTES);
    power += set.v[a->index].power;
  }
  if (!valset_power_enough(power, &set)) {
    uint64_t total = cons_valset_total_power(&set);
    cli_die("the approvals hold power %llu of the approving set's %llu; a council needs more than 2/3 (at least %llu)",
            (unsigned long long)power, (unsigned long long)total, (unsigned long long)(2 * total / 3 + 1));
  }
  qsort(cs->approvals, cs->n_approvals, sizeof cs->approvals[0], approval_index_cmp);
  ve_buf_t pl;
  ve_buf_init(&pl, GOV_COUNCIL_SET_BYTES_MAX);
  int rc = gov_council_set_encode(&pl, cs);
  if (rc) cli_die("cannot encode the council: %s", ve_strerror(rc));
  rc = pc_submit(&s, &to, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&pl), NULL);
  if (rc == 0 && to.wait && !to.print)
    printf("council epoch %llu appointed: %u of %u members decide\n", (unsigned long long)cs->council.epoch,
           cs->council.k, cs->council.n);
  ve_buf_free(&pl);
  pc_signer_close(&s);
  free(cs);
  free(a);
  return rc;
}

/* ---- dispatch ---- */

int cmd_gov(int argc, char **argv) {
  static const cli_cmd_t cmds[] = {
      {"council", gov_council},       {"show", gov_show},     {"list", gov_list},
      {"proof", gov_proof},           {"propose", gov_propose}, {"approve", gov_approve},
      {"reject", gov_reject},         {"council-approve", gov_council_approve},
      {"council-set", gov_council_set},
  };
  return cli_subcommand("gov", GOV_USAGE, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
