/* cmd_property.c — `veche property`: the land registry from the command line
 * (src/apps/property/property.h, docs/property.md).
 *
 * A registrar records titles (register) and changes to them (transfer,
 * encumber, release); each change needs the parties' consents, which they
 * sign where they are, offline or not (consent), and send to the registrar as
 * small JSON files. Before a change is submitted every consent file is
 * checked here as the ledger will check it (same action, chain, current key,
 * active identity, exactly the required parties), so a mismatch is refused
 * with its reason instead of failing on the chain. Reading: show, history,
 * owned, proof. Transactions are signed and submitted with the helpers
 * `veche poll` uses (cmd_poll_common.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/documents/documents.h"
#include "apps/identity/identity.h"
#include "apps/property/property.h"
#include "base/err.h"
#include "cli/cmd_doc_int.h"
#include "cli/cmd_poll_int.h"

#define CONSENT_FORMAT "veche-property-consent"
#define CONSENT_FILES_MAX PROPERTY_CONSENTS_MAX

static const char PROPERTY_USAGE[] =
    "usage: veche property COMMAND [options]      (veche property COMMAND --help for details)\n"
    "\n"
    "  id        print the parcel id of a cadastral number (offline)\n"
    "  register  record an existing title on the ledger (land registrar)\n"
    "  consent   sign a party's consent to a transfer, encumbrance or release\n"
    "  transfer  change the owners (land registrar, with the parties' consents)\n"
    "  encumber  register a mortgage, easement, lease or arrest\n"
    "  release   lift an encumbrance\n"
    "  show      a parcel's title\n"
    "  history   a parcel's history: every version, with the owners after it\n"
    "  owned     the parcels an identity owns\n"
    "  proof     a proof bundle of a title or of one history event (check it\n"
    "            offline with `veche verify`)\n"
    "\n"
    "Parcels are named by --parcel ID (64 hex) or --cadastral NUMBER. Digests of\n"
    "plans, deeds and documents are SHA-256 of the file (--deed FILE), or given\n"
    "in hex (--deed-digest HEX); the files themselves stay off the ledger.\n";

/* ---- arguments shared by the commands ---- */

/* Everything an action command may be given. */
typedef struct {
  const char *parcel, *cadastral, *version, *chain_id, *identity;
  const char *owners[PROPERTY_OWNERS_MAX + 1];
  size_t n_owners;
  const char *digest_hex, *digest_file; /* deed or document */
  const char *plan_hex, *plan_file, *area, *district;
  const char *kind, *holder, *number;
  const char *consents[CONSENT_FILES_MAX];
  size_t n_consents;
  const char *out;
  bool force, as_json;
  const char *from, *limit, *after, *height;
  pc_txopts_t tx;
} args_t;

enum {
  O_PARCEL = 256, O_CADASTRAL, O_VERSION, O_CHAIN, O_IDENTITY, O_OWNER, O_DEED_HEX, O_DEED_FILE, O_DOC_HEX,
  O_DOC_FILE, O_PLAN_HEX, O_PLAN_FILE, O_AREA, O_DISTRICT, O_KIND, O_HOLDER, O_NUMBER, O_CONSENT, O_OUT,
  O_FORCE, O_JSON, O_FROM, O_LIMIT, O_AFTER, O_HEIGHT
};

static const struct option OPTS[] = {
    PC_TXOPTS_LONG,
    {"parcel", 1, 0, O_PARCEL},
    {"cadastral", 1, 0, O_CADASTRAL},
    {"version", 1, 0, O_VERSION},
    {"chain-id", 1, 0, O_CHAIN},
    {"identity", 1, 0, O_IDENTITY},
    {"owner", 1, 0, O_OWNER},
    {"deed-digest", 1, 0, O_DEED_HEX},
    {"deed", 1, 0, O_DEED_FILE},
    {"document-digest", 1, 0, O_DOC_HEX},
    {"document", 1, 0, O_DOC_FILE},
    {"plan-digest", 1, 0, O_PLAN_HEX},
    {"plan", 1, 0, O_PLAN_FILE},
    {"area", 1, 0, O_AREA},
    {"district", 1, 0, O_DISTRICT},
    {"kind", 1, 0, O_KIND},
    {"holder", 1, 0, O_HOLDER},
    {"number", 1, 0, O_NUMBER},
    {"consent", 1, 0, O_CONSENT},
    {"out", 1, 0, O_OUT},
    {"force", 0, 0, O_FORCE},
    {"json", 0, 0, O_JSON},
    {"from", 1, 0, O_FROM},
    {"limit", 1, 0, O_LIMIT},
    {"after", 1, 0, O_AFTER},
    {"height", 1, 0, O_HEIGHT},
    {0, 0, 0, 0},
};

/* Parses argv into a; `allowed` lists the long options (by name) this command
 * takes besides --help; anything else is a usage error. */
static void args_parse(int argc, char **argv, const char *usage, const char *allowed, args_t *a) {
  memset(a, 0, sizeof *a);
  int o, idx;
  while ((o = getopt_long(argc, argv, "h", OPTS, &idx)) != -1) {
    if (o == 'h') cli_help(usage);
    if (o == '?' || o == ':') cli_usage(usage);
    const char *name = NULL;
    for (const struct option *p = OPTS; p->name; p++)
      if (p->val == o) name = p->name;
    char want[40];
    snprintf(want, sizeof want, " %s ", name ? name : "?");
    if (!strstr(allowed, want)) cli_die("--%s is not an option of this command (see --help)", name ? name : "?");
    if (pc_txopt(o, optarg, &a->tx)) continue;
    switch (o) {
      case O_PARCEL: a->parcel = optarg; break;
      case O_CADASTRAL: a->cadastral = optarg; break;
      case O_VERSION: a->version = optarg; break;
      case O_CHAIN: a->chain_id = optarg; break;
      case O_IDENTITY: a->identity = optarg; break;
      case O_OWNER:
        if (a->n_owners == PROPERTY_OWNERS_MAX) cli_die("at most %d --owner", PROPERTY_OWNERS_MAX);
        a->owners[a->n_owners++] = optarg;
        break;
      case O_DEED_HEX: case O_DOC_HEX: a->digest_hex = optarg; break;
      case O_DEED_FILE: case O_DOC_FILE: a->digest_file = optarg; break;
      case O_PLAN_HEX: a->plan_hex = optarg; break;
      case O_PLAN_FILE: a->plan_file = optarg; break;
      case O_AREA: a->area = optarg; break;
      case O_DISTRICT: a->district = optarg; break;
      case O_KIND: a->kind = optarg; break;
      case O_HOLDER: a->holder = optarg; break;
      case O_NUMBER: a->number = optarg; break;
      case O_CONSENT:
        if (a->n_consents == CONSENT_FILES_MAX) cli_die("at most %d --consent", CONSENT_FILES_MAX);
        a->consents[a->n_consents++] = optarg;
        break;
      case O_OUT: a->out = optarg; break;
      case O_FORCE: a->force = true; break;
      case O_JSON: a->as_json = true; break;
      case O_FROM: a->from = optarg; break;
      case O_LIMIT: a->limit = optarg; break;
      case O_AFTER: a->after = optarg; break;
      case O_HEIGHT: a->height = optarg; break;
      default: cli_usage(usage);
    }
  }
  if (optind != argc) cli_usage(usage);
}

/* SHA-256 of a file (what `sha256sum` prints), read in pieces by veche doc's reader. */
static void file_digest(const char *path, uint8_t out[32]) {
  documents_digest_t d[DOCUMENTS_ALG_MAX + 1];
  doc_file_digests(path, 1u << DOCUMENTS_ALG_SHA256, d);
  memcpy(out, d[DOCUMENTS_ALG_SHA256].bytes, 32);
}

/* --X-digest HEX or --X FILE, exactly one. */
static void digest_arg(const char *what, const char *hex, const char *file, uint8_t out[32]) {
  if (!!hex == !!file) cli_die("give exactly one of --%s-digest HEX and --%s FILE", what, what);
  if (hex) cli_hex32(what, hex, out);
  else file_digest(file, out);
}

/* The parcel id of --parcel or --cadastral (exactly one). */
static void parcel_arg(const args_t *a, uint8_t id[32]) {
  if (!!a->parcel == !!a->cadastral) cli_die("give exactly one of --parcel ID and --cadastral NUMBER");
  if (a->parcel) cli_hex32("parcel id", a->parcel, id);
  else if (property_parcel_id(id, a->cadastral))
    cli_die("--cadastral must be 1 to %d characters of A-Z a-z 0-9 : . / -", PROPERTY_CADASTRAL_BYTES_MAX);
}

static int cmp_owner(const void *x, const void *y) { return memcmp(x, y, 32); }

/* --owner ID[:PARTS]..., sorted, checked against the ledger's rules. */
static void owners_arg(const args_t *a, property_owner_t *o, size_t *n) {
  if (a->n_owners == 0) cli_die("give at least one --owner ID[:PARTS]");
  for (size_t i = 0; i < a->n_owners; i++) {
    const char *s = a->owners[i], *colon = strchr(s, ':');
    char hex[65];
    size_t hl = colon ? (size_t)(colon - s) : strlen(s);
    if (hl != 64) cli_die("--owner %s: the identity id is 64 hex characters", s);
    memcpy(hex, s, 64);
    hex[64] = 0;
    cli_hex32("owner identity id", hex, o[i].id);
    o[i].parts = colon ? cli_u64_arg("--owner PARTS", colon + 1) : 1;
  }
  *n = a->n_owners;
  qsort(o, *n, sizeof o[0], cmp_owner);
  switch (property_owners_check(o, *n)) {
    case VE_OK: return;
    case VE_ERR_INVALID: cli_die("every owner holds at least 1 part");
    case VE_ERR_TOO_BIG: cli_die("the parts add up to more than 2^32");
    default: break;
  }
  for (size_t i = 1; i < *n; i++)
    if (!memcmp(o[i - 1].id, o[i].id, 32)) cli_die("an owner is named twice");
  cli_die("write the shares in lowest terms (e.g. 1:1, not 2:2): their greatest common divisor must be 1");
}

/* ---- talking to the node ---- */

static uint64_t jint(const json_t *j, const char *k) {
  const json_t *x = json_object_get(j, k);
  if (!json_is_integer(x) || json_integer_value(x) < 0) cli_die("the node's answer has no \"%s\"", k);
  return (uint64_t)json_integer_value(x);
}

static void jhex32(const json_t *j, const char *k, uint8_t out[32]) {
  if (ve_hex_decode(out, 32, cli_jstr(j, k))) cli_die("the node's answer has no hex \"%s\"", k);
}

static json_t *title_fetch(const cli_node_t *n, const uint8_t id[32]) {
  char hex[65], path[128];
  ve_hex_encode(hex, id, 32);
  snprintf(path, sizeof path, "/v1/property/parcels/%s", hex);
  return cli_get_json(n, path, "GET /v1/property/parcels");
}

/* An identity's record from the node (status, current key). */
static json_t *identity_fetch(const cli_node_t *n, const uint8_t id[32]) {
  char hex[65], path[128];
  ve_hex_encode(hex, id, 32);
  snprintf(path, sizeof path, "/v1/identities/%s", hex);
  return cli_get_json(n, path, "GET /v1/identities");
}

static void chain_fetch(const cli_node_t *n, char chain[VE_CHAIN_ID_BYTES_MAX + 1]) {
  json_t *j = cli_get_json(n, "/v1/status", "GET /v1/status");
  const char *c = cli_jstr(j, "chain_id");
  if (!*c || strlen(c) > VE_CHAIN_ID_BYTES_MAX) cli_die("the node sent a bad chain id");
  snprintf(chain, VE_CHAIN_ID_BYTES_MAX + 1, "%s", c);
  json_decref(j);
}

/* ---- actions ---- */

static uint32_t type_of(const char *name) {
  if (!strcmp(name, "transfer")) return TX_TYPE_PROPERTY_TRANSFER;
  if (!strcmp(name, "encumber")) return TX_TYPE_PROPERTY_ENCUMBER;
  if (!strcmp(name, "release")) return TX_TYPE_PROPERTY_RELEASE;
  return 0;
}

static const char *type_name(uint32_t type) {
  switch (type) {
    case TX_TYPE_PROPERTY_TRANSFER: return "transfer";
    case TX_TYPE_PROPERTY_ENCUMBER: return "encumber";
    case TX_TYPE_PROPERTY_RELEASE: return "release";
    default: return "register";
  }
}

/* The action of type from the arguments; the expected version is --version or
 * title's (title may be NULL offline). */
static void action_build(uint32_t type, const args_t *a, const json_t *title, property_action_t *act) {
  memset(act, 0, sizeof *act);
  act->type = type;
  parcel_arg(a, act->parcel);
  if (a->version) act->version = cli_u64_arg("--version", a->version);
  else if (title) act->version = jint(title, "version");
  else cli_die("offline, give --version V (the title version the change applies to)");
  if (type == TX_TYPE_PROPERTY_TRANSFER) {
    owners_arg(a, act->owners, &act->n_owners);
    digest_arg("deed", a->digest_hex, a->digest_file, act->digest);
    return;
  }
  digest_arg("document", a->digest_hex, a->digest_file, act->digest);
  if (type == TX_TYPE_PROPERTY_ENCUMBER) {
    act->kind = a->kind ? (uint8_t)property_enc_kind_from_name(a->kind) : 0;
    if (!act->kind) cli_die("--kind must be mortgage, easement, lease or arrest");
    if (!a->holder) cli_die("--holder ID is required");
    cli_hex32("holder identity id", a->holder, act->holder);
  } else {
    if (!a->number) cli_die("--number N (the encumbrance's number) is required");
    act->number = cli_u64_arg("--number", a->number);
  }
}

static json_t *owners_json(const property_owner_t *o, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    char hex[65];
    ve_hex_encode(hex, o[i].id, 32);
    json_array_append_new(arr, json_pack("{s:s, s:I}", "identity", hex, "parts", (json_int_t)o[i].parts));
  }
  return arr;
}

static json_t *hex_json(const uint8_t *p, size_t n) {
  char *h = malloc(2 * n + 1);
  if (!h) cli_die("out of memory");
  ve_hex_encode(h, p, n);
  json_t *s = json_string(h);
  free(h);
  return s;
}

/* The readable fields of an action, beside its bytes in a consent file. */
static void action_fields_json(json_t *o, const property_action_t *act) {
  json_object_set_new(o, "parcel", hex_json(act->parcel, 32));
  json_object_set_new(o, "title_version", json_integer((json_int_t)act->version));
  if (act->type == TX_TYPE_PROPERTY_TRANSFER) {
    json_object_set_new(o, "owners", owners_json(act->owners, act->n_owners));
    json_object_set_new(o, "deed_digest", hex_json(act->digest, 32));
    return;
  }
  if (act->type == TX_TYPE_PROPERTY_ENCUMBER) {
    json_object_set_new(o, "kind", json_string(property_enc_kind_name(act->kind)));
    json_object_set_new(o, "holder", hex_json(act->holder, 32));
  } else {
    json_object_set_new(o, "number", json_integer((json_int_t)act->number));
  }
  json_object_set_new(o, "document_digest", hex_json(act->digest, 32));
}

/* What differs between two actions of one type, for a consent that does not
 * match the change it is given for. */
static const char *action_diff(const property_action_t *x, const property_action_t *y) {
  if (memcmp(x->parcel, y->parcel, 32)) return "another parcel";
  if (x->version != y->version) return "another title version (the title changed since it was signed, or --version differs)";
  if (x->n_owners != y->n_owners || memcmp(x->owners, y->owners, x->n_owners * sizeof x->owners[0]))
    return "other new owners or shares";
  if (x->kind != y->kind) return "another kind";
  if (memcmp(x->holder, y->holder, 32)) return "another holder";
  if (x->number != y->number) return "another encumbrance number";
  if (memcmp(x->digest, y->digest, 32)) return "another deed or document digest";
  return NULL;
}

/* ---- id ---- */

static const char ID_USAGE[] =
    "usage: veche property id --cadastral NUMBER\n"
    "\n"
    "Prints the parcel id of a cadastral number: H(\"veche/property/parcel\", NUMBER),\n"
    "64 hex characters. Offline: anyone computes the id of a number.\n";

static int property_id(int argc, char **argv) {
  args_t a;
  args_parse(argc, argv, ID_USAGE, " cadastral ", &a);
  if (!a.cadastral) cli_usage(ID_USAGE);
  uint8_t id[32];
  parcel_arg(&a, id);
  char hex[65];
  ve_hex_encode(hex, id, 32);
  puts(hex);
  return 0;
}

/* ---- register ---- */

static const char REGISTER_USAGE[] =
    "usage: veche property register --cadastral NUMBER --owner ID[:PARTS] [--owner ...]\n"
    "         (--plan-digest HEX | --plan FILE) --area M2 [--district CODE]\n"
    "         (--deed-digest HEX | --deed FILE) --key FILE [options]\n"
    "\n"
    "Records an existing title on the ledger for the first time (REGISTER). The\n"
    "signer must be an active identity holding the land_registrar role. No consents:\n"
    "the registrar transcribes a paper title whose deed digest the record keeps.\n"
    "Owners are identity ids with their parts (default 1): alice:1 bob:2 gives\n"
    "alice a third; parts in lowest terms, at most 16 owners, each an active\n"
    "identity. --area in square metres; --district 0..16 of a-z 0-9 _.\n"
    "Prints the parcel id, then {\"tx\": id, \"status\": ...}.\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP;

static int property_register(int argc, char **argv) {
  args_t a;
  args_parse(argc, argv, REGISTER_USAGE,
             " cadastral owner plan-digest plan area district deed-digest deed node key seq expiry wait print ", &a);
  property_action_t *act = calloc(1, sizeof *act);
  if (!act) cli_die("out of memory");
  act->type = TX_TYPE_PROPERTY_REGISTER;
  if (!a.cadastral) cli_die("--cadastral NUMBER is required");
  uint8_t id[32];
  parcel_arg(&a, id);
  snprintf(act->cadastral, sizeof act->cadastral, "%s", a.cadastral);
  owners_arg(&a, act->owners, &act->n_owners);
  digest_arg("plan", a.plan_hex, a.plan_file, act->plan_digest);
  digest_arg("deed", a.digest_hex, a.digest_file, act->digest);
  if (!a.area) cli_die("--area M2 is required");
  act->area_m2 = cli_u64_arg("--area", a.area);
  if (act->area_m2 == 0 || act->area_m2 > PROPERTY_AREA_M2_MAX)
    cli_die("--area must be from 1 to %llu square metres", (unsigned long long)PROPERTY_AREA_M2_MAX);
  if (a.district && !property_district_ok(a.district, strlen(a.district)))
    cli_die("--district must be 0 to %d characters of a-z 0-9 _", PROPERTY_DISTRICT_BYTES_MAX);
  snprintf(act->district, sizeof act->district, "%s", a.district ? a.district : "");
  ve_buf_t pl;
  ve_buf_init(&pl, PROPERTY_PAYLOAD_BYTES_MAX);
  int rc = property_payload_encode(&pl, act);
  if (rc) cli_die("cannot encode the registration: %s", ve_strerror(rc));
  char hex[65];
  ve_hex_encode(hex, id, 32);
  printf("parcel %s\n", hex);
  pc_signer_t s;
  pc_signer_open(&s, &a.tx);
  rc = pc_submit(&s, &a.tx, TX_TYPE_PROPERTY_REGISTER, ve_buf_slice(&pl), NULL);
  pc_signer_close(&s);
  ve_buf_free(&pl);
  free(act);
  return rc;
}

/* ---- consent ---- */

static const char CONSENT_USAGE[] =
    "usage: veche property consent transfer|encumber|release ACTION-OPTIONS --key FILE\n"
    "         [--out FILE] (--node HOST:PORT | --version V --chain-id ID [--identity ID])\n"
    "\n"
    "Signs, as a party (current owner, new owner, mortgage holder, holder of an\n"
    "encumbrance), a consent to exactly one change of one title, and writes it as\n"
    "JSON {\"identity\", \"signature\", \"action\" and the action's fields} to stdout\n"
    "or FILE (never over an existing file). Give it to the land registrar, who\n"
    "submits the change with every party's consent (`veche property transfer\n"
    "--consent FILE ...`). The consent names the title version: once the title\n"
    "changes, it is void.\n"
    "\n"
    "ACTION-OPTIONS, as the registrar will give them:\n"
    "  transfer  (--parcel ID | --cadastral N) --owner ID[:PARTS]... (--deed-digest HEX | --deed FILE)\n"
    "  encumber  (--parcel ID | --cadastral N) --kind K --holder ID (--document-digest HEX | --document FILE)\n"
    "  release   (--parcel ID | --cadastral N) --number N (--document-digest HEX | --document FILE)\n"
    "\n"
    "  --node HOST:PORT   learn the chain, the title version and your identity from\n"
    "                     a node (default $VECHE_NODE or " CLI_NODE_DEFAULT ")\n"
    "  --version V --chain-id ID [--identity ID]\n"
    "                     offline instead; --identity is needed if your key was\n"
    "                     rotated (default: the identity of this key as first key)\n";

#define ACTION_OPTS " parcel cadastral version owner deed-digest deed document-digest document kind holder number "

static int property_consent(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    if (argc >= 2) cli_help(CONSENT_USAGE);
    cli_usage(CONSENT_USAGE);
  }
  uint32_t type = type_of(argv[1]);
  if (!type) cli_die("consent to what? transfer, encumber or release (not \"%s\")", argv[1]);
  args_t a;
  args_parse(argc - 1, argv + 1, CONSENT_USAGE, ACTION_OPTS "key out node chain-id identity ", &a);
  bool offline = a.chain_id || a.identity;
  if (offline && (a.tx.node || !a.version || !a.chain_id))
    cli_die("offline, give --version and --chain-id (and no --node)");
  if (a.chain_id && (!*a.chain_id || strlen(a.chain_id) > VE_CHAIN_ID_BYTES_MAX))
    cli_die("--chain-id must be 1 to %d characters", VE_CHAIN_ID_BYTES_MAX);
  vcrypto_keypair_t kp;
  cli_load_key(a.tx.key, &kp);
  property_action_t *act = calloc(1, sizeof *act);
  if (!act) cli_die("out of memory");
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  uint8_t who[32];
  if (offline) {
    snprintf(chain, sizeof chain, "%s", a.chain_id);
    action_build(type, &a, NULL, act);
    if (a.identity) cli_hex32("--identity", a.identity, who);
    else identity_id_from_pk(who, kp.pk);
  } else {
    cli_node_t n;
    cli_node_parse(&n, a.tx.node);
    chain_fetch(&n, chain);
    uint8_t pid[32];
    parcel_arg(&a, pid);
    json_t *title = a.version ? NULL : title_fetch(&n, pid);
    action_build(type, &a, title, act);
    json_decref(title);
    char pk[65], path[128];
    ve_hex_encode(pk, kp.pk, 32);
    snprintf(path, sizeof path, "/v1/keys/%s", pk);
    json_t *k = cli_get_json(&n, path, "GET /v1/keys (is this key registered?)");
    if (!json_is_true(json_object_get(k, "key_is_current")))
      cli_die("this key was rotated away: sign with the identity's current key");
    if (strcmp(cli_jstr(k, "status"), "active"))
      cli_die("this identity is %s: its consent would be refused", cli_jstr(k, "status"));
    jhex32(k, "id", who);
    json_decref(k);
  }
  uint8_t sig[64];
  int rc = property_consent_sign(sig, &kp, ve_slice(chain, strlen(chain)), act);
  vcrypto_keypair_wipe(&kp);
  if (rc) cli_die("cannot sign: %s", ve_strerror(rc));
  ve_buf_t ab;
  ve_buf_init(&ab, PROPERTY_PAYLOAD_BYTES_MAX);
  if (property_action_bytes(&ab, act)) cli_die("cannot encode the action");
  json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:o, s:o, s:o}", "format", CONSENT_FORMAT, "version", 1, "chain_id",
                        chain, "type", type_name(type), "identity", hex_json(who, 32), "signature",
                        hex_json(sig, 64), "action", hex_json(ab.ptr, ab.len));
  action_fields_json(o, act);
  cli_json_write_new(o, a.out);
  if (a.out) {
    char hex[65];
    ve_hex_encode(hex, who, 32);
    fprintf(stderr, "consent of %s to this %s at title version %llu written to %s\n", hex, type_name(type),
            (unsigned long long)act->version, a.out);
  }
  json_decref(o);
  ve_buf_free(&ab);
  free(act);
  return 0;
}

/* ---- transfer, encumber, release ---- */

/* One consent file, checked against act (this chain) and the node: its
 * signer's current key and status. Adds it to act. */
static void consent_take(const cli_node_t *n, const char *chain, property_action_t *act, const char *path) {
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) cli_die("%s: not JSON: %s", path, je.text);
  if (strcmp(cli_jstr(j, "format"), CONSENT_FORMAT)) cli_die("%s: not a property consent", path);
  if (strcmp(cli_jstr(j, "chain_id"), chain)) cli_die("%s: a consent for chain \"%s\", not this chain \"%s\"", path, cli_jstr(j, "chain_id"), chain);
  if (type_of(cli_jstr(j, "type")) != act->type)
    cli_die("%s: a consent to a %s, not to a %s", path, cli_jstr(j, "type"), type_name(act->type));
  uint8_t who[32], sig[64];
  if (ve_hex_decode(who, 32, cli_jstr(j, "identity")) || ve_hex_decode(sig, 64, cli_jstr(j, "signature")))
    cli_die("%s: bad \"identity\" or \"signature\"", path);
  ve_buf_t ab;
  ve_buf_init(&ab, PROPERTY_PAYLOAD_BYTES_MAX);
  property_action_t *theirs = malloc(sizeof *theirs);
  if (!theirs) cli_die("out of memory");
  if (pc_hex_decode(cli_jstr(j, "action"), &ab, PROPERTY_PAYLOAD_BYTES_MAX) ||
      property_payload_decode(act->type, ve_buf_slice(&ab), theirs) || theirs->n_consents)
    cli_die("%s: bad \"action\"", path);
  const char *diff = action_diff(theirs, act);
  if (diff) cli_die("%s: this consent is to a different change: %s", path, diff);
  json_t *id = identity_fetch(n, who);
  if (strcmp(cli_jstr(id, "status"), "active"))
    cli_die("%s: the consenting identity is %s: the ledger refuses its consent", path, cli_jstr(id, "status"));
  uint8_t pk[32];
  jhex32(id, "pk", pk);
  json_decref(id);
  if (property_consent_verify(sig, pk, ve_slice(chain, strlen(chain)), act))
    cli_die("%s: the signature does not verify under the identity's current key (signed with a rotated-away "
            "key, or altered)", path);
  if (property_consent_add(act, who, sig)) cli_die("too many consents");
  free(theirs);
  ve_buf_free(&ab);
  json_decref(j);
}

typedef struct {
  size_t n;
  uint8_t ids[PROPERTY_CONSENTS_MAX][32];
  const char *why[PROPERTY_CONSENTS_MAX];
} required_t;

static void required_add(required_t *r, const uint8_t id[32], const char *why) {
  for (size_t i = 0; i < r->n; i++)
    if (!memcmp(r->ids[i], id, 32)) return;
  if (r->n == PROPERTY_CONSENTS_MAX) cli_die("too many parties");
  memcpy(r->ids[r->n], id, 32);
  r->why[r->n++] = why;
}

/* The parties whose consent the ledger will want (property.h), from the
 * title as the node shows it. */
static void required_of(const cli_node_t *n, const json_t *title, const property_action_t *act, required_t *r) {
  r->n = 0;
  const json_t *owners = json_object_get(title, "owners"), *encs = json_object_get(title, "encumbrances");
  size_t i;
  const json_t *x;
  if (act->type == TX_TYPE_PROPERTY_TRANSFER) {
    json_array_foreach(owners, i, x) {
      uint8_t id[32];
      jhex32(x, "identity", id);
      json_t *rec = identity_fetch(n, id);
      bool revoked = !strcmp(cli_jstr(rec, "status"), "revoked"); /* excused: docs/property.md */
      json_decref(rec);
      if (!revoked) required_add(r, id, "current owner");
    }
    for (size_t k = 0; k < act->n_owners; k++) required_add(r, act->owners[k].id, "new owner");
    json_array_foreach(encs, i, x) {
      if (strcmp(cli_jstr(x, "kind"), "mortgage")) continue;
      uint8_t id[32];
      jhex32(x, "holder", id);
      required_add(r, id, "mortgage holder");
    }
  } else if (act->type == TX_TYPE_PROPERTY_ENCUMBER) {
    if (act->kind == PROPERTY_ARREST) return;
    json_array_foreach(owners, i, x) {
      uint8_t id[32];
      jhex32(x, "identity", id);
      required_add(r, id, "owner");
    }
    required_add(r, act->holder, "holder");
  } else {
    json_array_foreach(encs, i, x) {
      if (jint(x, "number") != act->number) continue;
      uint8_t id[32];
      jhex32(x, "holder", id);
      required_add(r, id, "holder of the encumbrance");
    }
    if (r->n == 0) cli_die("the title has no encumbrance number %llu", (unsigned long long)act->number);
  }
}

/* Exactly the required consents, or a list of what is wrong. */
static bool consents_match(const required_t *r, const property_action_t *act) {
  bool ok = true;
  char hex[65];
  for (size_t i = 0; i < r->n; i++) {
    bool have = false;
    for (size_t k = 0; k < act->n_consents; k++) have |= !memcmp(act->consents[k].id, r->ids[i], 32);
    if (!have) {
      ve_hex_encode(hex, r->ids[i], 32);
      fprintf(stderr, "veche: missing the consent of %s (%s)\n", hex, r->why[i]);
      ok = false;
    }
  }
  for (size_t k = 0; k < act->n_consents; k++) {
    bool wanted = false;
    for (size_t i = 0; i < r->n; i++) wanted |= !memcmp(act->consents[k].id, r->ids[i], 32);
    if (!wanted) {
      ve_hex_encode(hex, act->consents[k].id, 32);
      fprintf(stderr, "veche: the consent of %s is not one the ledger wants (not a party to this change)\n", hex);
      ok = false;
    }
  }
  return ok;
}

static const char CHANGE_USAGE[] =
    "usage: veche property transfer (--parcel ID | --cadastral N) --owner ID[:PARTS]...\n"
    "         (--deed-digest HEX | --deed FILE) [--consent FILE]... --key FILE [options]\n"
    "       veche property encumber (--parcel ID | --cadastral N) --kind K --holder ID\n"
    "         (--document-digest HEX | --document FILE) [--consent FILE]... --key FILE [options]\n"
    "       veche property release (--parcel ID | --cadastral N) --number N\n"
    "         (--document-digest HEX | --document FILE) [--consent FILE]... --key FILE [options]\n"
    "\n"
    "Submits a change of a title, signed by a land registrar (--key), with the\n"
    "parties' consents (`veche property consent`). The consents must be exactly:\n"
    "  transfer  every current owner (a revoked one is excused: inheritance), every\n"
    "            new owner and every mortgage holder; refused while an arrest holds;\n"
    "  encumber  kind mortgage, easement or lease: every owner and the holder;\n"
    "            kind arrest (a court order; --holder the court): none;\n"
    "  release   the holder of encumbrance N.\n"
    "Each consent is checked here first (same change, this chain, the title's\n"
    "current version, the signer's current key, an active identity) and the set\n"
    "against the title; what is missing or extra is listed and nothing is sent\n"
    "(--force sends anyway, to see the ledger refuse it). The title version is\n"
    "the node's unless --version V is given.\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP
    "  --force            submit even if the local checks of the consents fail\n";

static int property_change(uint32_t type, int argc, char **argv) {
  args_t a;
  args_parse(argc, argv, CHANGE_USAGE, ACTION_OPTS "consent force node key seq expiry wait print ", &a);
  if (type != TX_TYPE_PROPERTY_TRANSFER && a.n_owners) cli_die("--owner is for transfer");
  if (type != TX_TYPE_PROPERTY_ENCUMBER && (a.kind || a.holder)) cli_die("--kind and --holder are for encumber");
  if (type != TX_TYPE_PROPERTY_RELEASE && a.number) cli_die("--number is for release");
  pc_signer_t s;
  pc_signer_open(&s, &a.tx);
  uint8_t pid[32];
  parcel_arg(&a, pid);
  json_t *title = title_fetch(&s.node, pid);
  property_action_t *act = calloc(1, sizeof *act);
  required_t *req = malloc(sizeof *req);
  if (!act || !req) cli_die("out of memory");
  action_build(type, &a, title, act);
  if (a.version && act->version != jint(title, "version"))
    fprintf(stderr, "veche: warning: the title is at version %llu, not %llu: the ledger will refuse this\n",
            (unsigned long long)jint(title, "version"), (unsigned long long)act->version);
  if (type == TX_TYPE_PROPERTY_TRANSFER && json_is_true(json_object_get(title, "arrested")))
    fprintf(stderr, "veche: warning: this parcel is under arrest: the ledger refuses a transfer until it is released\n");
  for (size_t i = 0; i < a.n_consents; i++) consent_take(&s.node, s.chain, act, a.consents[i]);
  required_of(&s.node, title, act, req);
  json_decref(title);
  if (!consents_match(req, act)) {
    if (!a.force) cli_die("the consents do not match the parties to this change; nothing was sent");
    fprintf(stderr, "veche: --force: submitting anyway\n");
  }
  ve_buf_t pl;
  ve_buf_init(&pl, PROPERTY_PAYLOAD_BYTES_MAX);
  int rc = property_payload_encode(&pl, act);
  if (rc) cli_die("cannot encode: %s", ve_strerror(rc));
  rc = pc_submit(&s, &a.tx, type, ve_buf_slice(&pl), NULL);
  ve_buf_free(&pl);
  pc_signer_close(&s);
  free(act);
  free(req);
  return rc;
}

static int property_transfer(int argc, char **argv) { return property_change(TX_TYPE_PROPERTY_TRANSFER, argc, argv); }
static int property_encumber(int argc, char **argv) { return property_change(TX_TYPE_PROPERTY_ENCUMBER, argc, argv); }
static int property_release(int argc, char **argv) { return property_change(TX_TYPE_PROPERTY_RELEASE, argc, argv); }

/* ---- reading ---- */

static const char SHOW_USAGE[] =
    "usage: veche property show (--parcel ID | --cadastral N) [--node HOST:PORT]\n"
    "\n"
    "Prints the title as the node holds it (GET /v1/property/parcels/ID): the\n"
    "cadastral number, version, owners with their shares, encumbrances, digests.\n";

static int property_show(int argc, char **argv) {
  args_t a;
  args_parse(argc, argv, SHOW_USAGE, " parcel cadastral node ", &a);
  uint8_t id[32];
  parcel_arg(&a, id);
  cli_node_t n;
  cli_node_parse(&n, a.tx.node);
  json_t *t = title_fetch(&n, id);
  cli_print_json(t);
  json_decref(t);
  return 0;
}

static const char HISTORY_USAGE[] =
    "usage: veche property history (--parcel ID | --cadastral N) [--from V] [--limit N] [--json]\n"
    "         [--node HOST:PORT]\n"
    "\n"
    "Lists the title's versions from V (default 1), at most N (default all, pages\n"
    "of 256): what changed, at which height, by which registrar, under which\n"
    "deed or document, and the owners after each registration and transfer.\n"
    "--json prints the node's answers instead.\n";

static void print_event(const json_t *e) {
  printf("v%lld %s height %lld", (long long)jint(e, "version"), cli_jstr(e, "kind"), (long long)jint(e, "height"));
  const json_t *owners = json_object_get(e, "owners"), *enc = json_object_get(e, "encumbrance");
  size_t i;
  const json_t *o;
  if (owners) {
    printf(" owners");
    json_array_foreach(owners, i, o) printf(" %s(%s)", cli_jstr(o, "identity"), cli_jstr(o, "share"));
  } else if (enc) {
    printf(" %s #%lld holder %s", cli_jstr(enc, "kind"), (long long)jint(enc, "number"), cli_jstr(enc, "holder"));
  }
  printf(" digest %s\n", cli_jstr(e, "digest"));
}

static int property_history(int argc, char **argv) {
  args_t a;
  args_parse(argc, argv, HISTORY_USAGE, " parcel cadastral from limit json node ", &a);
  uint8_t id[32];
  parcel_arg(&a, id);
  uint64_t from = a.from ? cli_u64_arg("--from", a.from) : 1, left = a.limit ? cli_u64_arg("--limit", a.limit) : UINT64_MAX;
  if (from == 0 || left == 0) cli_die("--from and --limit start at 1");
  cli_node_t n;
  cli_node_parse(&n, a.tx.node);
  char hex[65];
  ve_hex_encode(hex, id, 32);
  while (left) {
    char path[200];
    uint64_t page = left < PROPERTY_HISTORY_PAGE_MAX ? left : PROPERTY_HISTORY_PAGE_MAX;
    snprintf(path, sizeof path, "/v1/property/parcels/%s/history?from=%llu&limit=%llu", hex,
             (unsigned long long)from, (unsigned long long)page);
    json_t *j = cli_get_json(&n, path, "GET /v1/property/parcels/ID/history");
    const json_t *events = json_object_get(j, "events"), *e;
    size_t i;
    if (a.as_json) cli_print_json(j);
    else json_array_foreach(events, i, e) print_event(e);
    left -= json_array_size(events) < left ? json_array_size(events) : left;
    const json_t *next = json_object_get(j, "next");
    bool more = json_is_integer(next);
    if (more) from = (uint64_t)json_integer_value(next);
    json_decref(j);
    if (!more) break;
  }
  return 0;
}

static const char OWNED_USAGE[] =
    "usage: veche property owned --identity ID [--after PARCEL] [--limit N] [--json] [--node HOST:PORT]\n"
    "\n"
    "Lists the parcels the identity owns now, in parcel-id order, with its share\n"
    "of each: at most N (default 100, at most 256); continue with --after the\n"
    "last parcel id printed. --json prints the node's answer instead.\n";

static int property_owned(int argc, char **argv) {
  args_t a;
  args_parse(argc, argv, OWNED_USAGE, " identity after limit json node ", &a);
  uint8_t who[32], after[32];
  if (!a.identity) cli_die("--identity ID is required");
  cli_hex32("--identity", a.identity, who);
  if (a.after) cli_hex32("--after", a.after, after);
  uint64_t limit = a.limit ? cli_u64_arg("--limit", a.limit) : 100;
  if (limit == 0 || limit > PROPERTY_OWNED_PAGE_MAX) cli_die("--limit must be 1..%d", PROPERTY_OWNED_PAGE_MAX);
  cli_node_t n;
  cli_node_parse(&n, a.tx.node);
  char path[256];
  snprintf(path, sizeof path, "/v1/property/owners/%s?limit=%llu%s%s", a.identity, (unsigned long long)limit,
           a.after ? "&after=" : "", a.after ? a.after : "");
  json_t *j = cli_get_json(&n, path, "GET /v1/property/owners");
  if (a.as_json) {
    cli_print_json(j);
  } else {
    const json_t *p;
    size_t i;
    json_array_foreach(json_object_get(j, "parcels"), i, p)
      printf("%s %s share %s version %lld%s\n", cli_jstr(p, "id"), cli_jstr(p, "cadastral"), cli_jstr(p, "share"),
             (long long)jint(p, "version"), json_is_true(json_object_get(p, "encumbered")) ? " encumbered" : "");
    if (json_is_string(json_object_get(j, "next"))) printf("more: --after %s\n", cli_jstr(j, "next"));
  }
  json_decref(j);
  return 0;
}

static const char PROOF_USAGE[] =
    "usage: veche property proof (--parcel ID | --cadastral N) [--version V] [--height H]\n"
    "         [--out FILE] [--node HOST:PORT]\n"
    "\n"
    "Fetches a proof bundle of the title (or, with --version V, of the history\n"
    "event that made title version V: the owners at that version) as of height H\n"
    "(default: the latest certified), to stdout or FILE (never over a file).\n"
    "Check it offline, against the genesis alone: veche verify --genesis G --bundle FILE.\n";

static int property_proof(int argc, char **argv) {
  args_t a;
  args_parse(argc, argv, PROOF_USAGE, " parcel cadastral version height out node ", &a);
  uint8_t id[32];
  parcel_arg(&a, id);
  char hex[65], path[256];
  ve_hex_encode(hex, id, 32);
  int l = snprintf(path, sizeof path, "/v1/proofs/property/%s", hex);
  const char *sep = "?";
  if (a.version) {
    l += snprintf(path + l, sizeof path - (size_t)l, "%sversion=%llu", sep,
                  (unsigned long long)cli_u64_arg("--version", a.version));
    sep = "&";
  }
  if (a.height)
    snprintf(path + l, sizeof path - (size_t)l, "%sheight=%llu", sep, (unsigned long long)cli_u64_arg("--height", a.height));
  cli_node_t n;
  cli_node_parse(&n, a.tx.node);
  json_t *j = cli_get_json(&n, path, "GET /v1/proofs/property");
  cli_json_write_new(j, a.out);
  json_decref(j);
  if (a.out) fprintf(stderr, "proof bundle written to %s; check it with veche verify --genesis GENESIS --bundle %s\n", a.out, a.out);
  return 0;
}

/* ---- dispatch ---- */

int cmd_property(int argc, char **argv) {
  static const cli_cmd_t cmds[] = {
      {"id", property_id},           {"register", property_register}, {"consent", property_consent},
      {"transfer", property_transfer}, {"encumber", property_encumber}, {"release", property_release},
      {"show", property_show},       {"history", property_history},   {"owned", property_owned},
      {"proof", property_proof},
  };
  return cli_subcommand("property", PROPERTY_USAGE, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
