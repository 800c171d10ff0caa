/* cmd_tx.c — `veche tx`: build, sign and submit identity transactions. From
 * protocol 2 an admin's action (set-roles; suspend, restore, revoke of an
 * identity holding a role) is a council decision: it goes as a proposal
 * (cmd_gov_wrap.c) unless --direct. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/identity/identity.h"
#include "base/err.h"
#include "cli/cli.h"
#include "cli/cmd_gov_int.h"

static const char TX_USAGE[] =
    "usage: veche tx KIND --key FILE [options]\n"
    "\n"
    "Kinds:\n"
    "  register   --pk HEX | --pk-of FILE  [--attr-digest HEX] [--attr KEY=VALUE]...\n"
    "             register an identity (signer needs the registrar role)\n"
    "  rotate     --new-key FILE            rotate the signer's own key\n"
    "  suspend | restore | revoke  --id HEX [--reason TEXT]\n"
    "  set-roles  --id HEX --roles a,b,...  (admin only; roles: admin, registrar,\n"
    "             notary, poll_organizer, trustee, regulator,\n"
    "             land_registrar; \"none\" clears)\n"
    "\n"
    "Options:\n"
    "  --node HOST:PORT   node to submit to (default $VECHE_NODE or " CLI_NODE_DEFAULT ")\n"
    "  --seq N            sequence number (default: the signer's last + 1, from the node)\n"
    "  --expiry N         last height the tx may execute at (default: height + 1000)\n"
    "  --wait             wait until the tx is committed or fails (exit 1 if it fails)\n"
    "  --print            print the signed tx hex instead of submitting\n"
    "\n"
    "Council decisions (chains at protocol 2 or later): set-roles, and suspend,\n"
    "restore or revoke of an identity that holds a role, are admin actions that\n"
    "only the council takes. The command then proposes the action instead\n"
    "(signer: a council member) and prints the proposal id, and with --wait\n"
    "\"executed\" (k = 1) or \"open, 1 of K approvals\"; the other members approve\n"
    "with `veche gov approve ID`.\n" GC_ADMIN_OPTS_HELP;

typedef struct {
  const char *kind, *key, *node, *pk, *pk_of, *digest, *new_key, *id, *reason, *roles;
  const char *attrs[IDENTITY_ATTRS_MAX];
  size_t n_attrs;
  uint64_t seq, expiry;
  bool wait, print;
  gc_admin_opts_t admin;
} tx_opts_t;

static uint32_t parse_roles(const char *s) {
  if (!strcmp(s, "none")) return 0;
  uint32_t roles = 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    uint32_t b = ledger_role_from_name(tok);
    if (!b) cli_die("unknown role \"%s\"", tok);
    roles |= b;
  }
  return roles;
}

static int attr_cmp(const void *a, const void *b) {
  return strcmp(((const identity_attr_t *)a)->key, ((const identity_attr_t *)b)->key);
}

static void build_payload(const tx_opts_t *o, const vcrypto_keypair_t *signer, ve_slice_t chain,
                          uint32_t *type, ve_buf_t *p) {
  int rc = VE_OK;
  uint8_t target[32];
  if (!strcmp(o->kind, "register")) {
    uint8_t pk[32], digest[32] = {0};
    vcrypto_keypair_t other;
    if (o->pk) cli_hex32("--pk", o->pk, pk);
    else if (o->pk_of) cli_load_key(o->pk_of, &other), memcpy(pk, other.pk, 32), vcrypto_keypair_wipe(&other);
    else cli_die("register needs --pk HEX or --pk-of FILE");
    if (o->digest) cli_hex32("--attr-digest", o->digest, digest);
    identity_attr_t attrs[IDENTITY_ATTRS_MAX];
    memset(attrs, 0, sizeof attrs);
    for (size_t i = 0; i < o->n_attrs; i++) {
      const char *eq = strchr(o->attrs[i], '=');
      if (!eq || eq == o->attrs[i] || (size_t)(eq - o->attrs[i]) > IDENTITY_ATTR_KEY_BYTES_MAX ||
          strlen(eq + 1) > IDENTITY_ATTR_VALUE_BYTES_MAX)
        cli_die("--attr wants KEY=VALUE (key ≤ %d chars [a-z0-9_], value ≤ %d chars)",
                IDENTITY_ATTR_KEY_BYTES_MAX, IDENTITY_ATTR_VALUE_BYTES_MAX);
      memcpy(attrs[i].key, o->attrs[i], (size_t)(eq - o->attrs[i]));
      strcpy(attrs[i].value, eq + 1);
    }
    qsort(attrs, o->n_attrs, sizeof attrs[0], attr_cmp);
    *type = TX_TYPE_IDENTITY_REGISTER;
    rc = identity_payload_register(p, pk, digest, attrs, o->n_attrs);
  } else if (!strcmp(o->kind, "rotate")) {
    vcrypto_keypair_t nk;
    cli_load_key(o->new_key, &nk);
    uint8_t id[32];
    identity_id_from_pk(id, signer->pk); /* the id is fixed by the first key; ask the node if rotated */
    if (o->id) cli_hex32("--id", o->id, id);
    *type = TX_TYPE_IDENTITY_ROTATE_KEY;
    rc = identity_payload_rotate(p, chain, id, &nk);
    vcrypto_keypair_wipe(&nk);
  } else if (!strcmp(o->kind, "suspend") || !strcmp(o->kind, "restore") || !strcmp(o->kind, "revoke")) {
    cli_hex32("--id", o->id, target);
    *type = o->kind[0] == 's' ? TX_TYPE_IDENTITY_SUSPEND
            : o->kind[2] == 's' ? TX_TYPE_IDENTITY_RESTORE : TX_TYPE_IDENTITY_REVOKE;
    if (o->reason && strlen(o->reason) > IDENTITY_REASON_BYTES_MAX) cli_die("--reason is too long");
    rc = identity_payload_status(p, target, o->reason ? o->reason : "");
  } else if (!strcmp(o->kind, "set-roles")) {
    cli_hex32("--id", o->id, target);
    if (!o->roles) cli_die("set-roles needs --roles");
    *type = TX_TYPE_IDENTITY_SET_ROLES;
    rc = identity_payload_set_roles(p, target, parse_roles(o->roles));
  } else {
    cli_usage(TX_USAGE);
  }
  if (rc) cli_die("cannot build payload: %s", ve_strerror(rc));
}

/* Fills chain id, next seq and default expiry from the node. */
static void fetch_context(const cli_node_t *node, const vcrypto_keypair_t *kp, char *chain,
                          size_t chain_len, uint64_t *seq, uint64_t *height) {
  json_t *j = NULL;
  if (cli_http_json(node, "GET", "/v1/status", NULL, &j) != 200 || !j)
    cli_die("node status unavailable");
  snprintf(chain, chain_len, "%s", json_string_value(json_object_get(j, "chain_id")));
  *height = (uint64_t)json_integer_value(json_object_get(j, "height"));
  json_decref(j);
  char hex[65], path[128];
  ve_hex_encode(hex, kp->pk, 32);
  snprintf(path, sizeof path, "/v1/signers/%s", hex);
  j = NULL;
  int st = cli_http_json(node, "GET", path, NULL, &j);
  if (st != 200) {
    const char *e = j ? json_string_value(json_object_get(j, "message")) : NULL;
    cli_die("signer %s cannot sign: %s", hex, e ? e : "unknown");
  }
  if (!*seq) *seq = (uint64_t)json_integer_value(json_object_get(j, "next_seq"));
  json_decref(j);
}

/* Waits for the tx to be final and prints the node's answer; 0 iff committed. */
static int wait_for(const cli_node_t *node, const char *id) {
  json_t *j = cli_wait_final(node, id);
  cli_print_json(j);
  int rc = cli_tx_committed(j) ? 0 : 1;
  json_decref(j);
  return rc;
}

static bool is_admin_kind(const char *kind) {
  return !strcmp(kind, "set-roles") || !strcmp(kind, "suspend") || !strcmp(kind, "restore") || !strcmp(kind, "revoke");
}

/* The action as a council proposal (its status line after --wait). */
static int propose(const tx_opts_t *o, uint32_t type, ve_slice_t payload) {
  pc_txopts_t to = {.node = o->node, .key = o->key, .seq = o->seq, .expiry = o->expiry, .wait = o->wait,
                    .print = o->print};
  pc_signer_t s;
  pc_signer_open(&s, &to);
  int rc = gc_admin_submit(&s, &to, &o->admin, type, payload);
  pc_signer_close(&s);
  return rc;
}

int cmd_tx(int argc, char **argv) {
  static const struct option opts[] = {
      {"key", 1, 0, 'k'}, {"node", 1, 0, 'n'}, {"pk", 1, 0, 'P'}, {"pk-of", 1, 0, 'F'},
      {"attr-digest", 1, 0, 'D'}, {"attr", 1, 0, 'a'}, {"new-key", 1, 0, 'N'}, {"id", 1, 0, 'i'},
      {"reason", 1, 0, 'r'}, {"roles", 1, 0, 'R'}, {"seq", 1, 0, 's'}, {"expiry", 1, 0, 'e'},
      {"wait", 0, 0, 'w'}, {"print", 0, 0, 'p'}, {"help", 0, 0, 'h'}, GC_ADMIN_OPTS_LONG, {0, 0, 0, 0}};
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) cli_help(TX_USAGE);
  if (argc < 2 || argv[1][0] == '-') cli_usage(TX_USAGE);
  tx_opts_t o;
  memset(&o, 0, sizeof o);
  o.kind = argv[1];
  int c;
  optind = 2;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (gc_admin_opt(c, optarg, &o.admin)) continue;
    switch (c) {
      case 'k': o.key = optarg; break;
      case 'n': o.node = optarg; break;
      case 'P': o.pk = optarg; break;
      case 'F': o.pk_of = optarg; break;
      case 'D': o.digest = optarg; break;
      case 'a':
        if (o.n_attrs == IDENTITY_ATTRS_MAX) cli_die("at most %d --attr", IDENTITY_ATTRS_MAX);
        o.attrs[o.n_attrs++] = optarg;
        break;
      case 'N': o.new_key = optarg; break;
      case 'i': o.id = optarg; break;
      case 'r': o.reason = optarg; break;
      case 'R': o.roles = optarg; break;
      case 's': o.seq = strtoull(optarg, NULL, 10); break;
      case 'e': o.expiry = strtoull(optarg, NULL, 10); break;
      case 'w': o.wait = true; break;
      case 'p': o.print = true; break;
      case 'h': cli_help(TX_USAGE);
      default: cli_usage(TX_USAGE);
    }
  }
  if (optind != argc) cli_usage(TX_USAGE);
  vcrypto_keypair_t kp;
  cli_load_key(o.key, &kp);
  cli_node_t node;
  cli_node_parse(&node, o.node);
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  uint64_t height;
  fetch_context(&node, &kp, chain, sizeof chain, &o.seq, &height);
  ve_buf_t payload, enc;
  ve_buf_init(&payload, VE_TX_PAYLOAD_BYTES_MAX);
  ve_buf_init(&enc, VE_TX_BYTES_MAX);
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(chain, strlen(chain)),
                    .seq = o.seq, .expiry = o.expiry ? o.expiry : height + 1000};
  build_payload(&o, &kp, tx.chain_id, &tx.type, &payload);
  tx.payload = ve_buf_slice(&payload);
  if (is_admin_kind(o.kind)) {
    uint8_t target[32];
    cli_hex32("--id", o.id, target);
    if (gc_admin_wrap(&node, &o.admin, tx.type == TX_TYPE_IDENTITY_SET_ROLES ? NULL : target)) {
      vcrypto_keypair_wipe(&kp);
      int rc = propose(&o, tx.type, tx.payload);
      ve_buf_free(&payload);
      ve_buf_free(&enc);
      return rc;
    }
  }
  if (ledger_tx_sign(&tx, &kp) || ledger_tx_encode(&tx, &enc)) cli_die("cannot sign the transaction");
  vcrypto_keypair_wipe(&kp);
  char *hex = malloc(2 * enc.len + 1);
  if (!hex) cli_die("out of memory");
  ve_hex_encode(hex, enc.ptr, enc.len);
  if (o.print) {
    puts(hex);
    return 0;
  }
  json_t *res = NULL;
  json_t *body = json_pack("{s:s}", "tx", hex);
  int st = cli_http_json(&node, "POST", "/v1/txs", body, &res);
  json_decref(body); /* cli_http_json borrows the body */
  free(hex);
  ve_buf_free(&payload);
  ve_buf_free(&enc);
  if (!res) cli_die("node answered %d without a body", st);
  if (st != 202) {
    fprintf(stderr, "veche: rejected (%d): %s: %s\n", st, json_string_value(json_object_get(res, "error")),
            json_string_value(json_object_get(res, "message")));
    json_decref(res);
    return 1;
  }
  int rc = 0;
  if (o.wait) {
    char id[65];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
    rc = wait_for(&node, id);
  } else {
    cli_print_json(res);
  }
  json_decref(res);
  return rc;
}
