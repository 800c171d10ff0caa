/* cmd_property.c — `veche property`: the land registry from the command line
 * (src/apps/property/property.h, docs/property.md).
 *
 * A registrar records titles (register) and changes to them (transfer,
 * encumber, release; from protocol 3 subdivide, merge and replace-holder);
 * each change needs the parties' consents, which they
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
    "  subdivide split a parcel into 2..16 new ones (the parent is retired)\n"
    "  merge     join 2..16 parcels with the same owners into a new one\n"
    "  replace-holder  give an encumbrance a new holder (a bank's successor, a\n"
    "            mortgage sold; a revoked holder need not consent)\n"
    "  show      a parcel's title (with its status, parents and children)\n"
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
/* A parcel as named on the command line (--parcel ID or --cadastral N). */
typedef struct {
  const char *name;
  bool is_id;
} parcel_name_t;

typedef struct {
  const char *parcel, *cadastral, *version, *chain_id, *identity;
  /* Every --parcel/--cadastral and --version in order: several for merge. */
  parcel_name_t parcels[PROPERTY_LINEAGE_MAX];
  size_t n_parcels;
  const char *versions[PROPERTY_LINEAGE_MAX];
  size_t n_versions;
  /* subdivide: --child / --child-digest specs; merge: --into NUMBER */
  const char *children[PROPERTY_LINEAGE_MAX];
  bool child_is_digest[PROPERTY_LINEAGE_MAX];
  size_t n_children;
  const char *into;
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
  O_FORCE, O_JSON, O_FROM, O_LIMIT, O_AFTER, O_HEIGHT, O_CHILD, O_CHILD_HEX, O_INTO
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
    {"child", 1, 0, O_CHILD},
    {"child-digest", 1, 0, O_CHILD_HEX},
    {"into", 1, 0, O_INTO},
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
      case O_PARCEL:
      case O_CADASTRAL:
        if (a->n_parcels == PROPERTY_LINEAGE_MAX) cli_die("at most %d parcels", PROPERTY_LINEAGE_MAX);
        a->parcels[a->n_parcels++] = (parcel_name_t){optarg, o == O_PARCEL};
        if (o == O_PARCEL) a->parcel = optarg;
        else a->cadastral = optarg;
        break;
      case O_VERSION:
        if (a->n_versions == PROPERTY_LINEAGE_MAX) cli_die("at most %d --version", PROPERTY_LINEAGE_MAX);
        a->versions[a->n_versions++] = a->version = optarg;
        break;
      case O_CHILD:
      case O_CHILD_HEX:
        if (a->n_children == PROPERTY_LINEAGE_MAX) cli_die("at most %d children", PROPERTY_LINEAGE_MAX);
        a->child_is_digest[a->n_children] = o == O_CHILD_HEX;
        a->children[a->n_children++] = optarg;
        break;
      case O_INTO: a->into = optarg; break;
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

static void parcel_name_id(const parcel_name_t *p, uint8_t id[32]) {
  if (p->is_id) cli_hex32("parcel id", p->name, id);
  else if (property_parcel_id(id, p->name))
    cli_die("--cadastral must be 1 to %d characters of A-Z a-z 0-9 : . / -", PROPERTY_CADASTRAL_BYTES_MAX);
}

/* The parcel id of --parcel or --cadastral (exactly one). */
static void parcel_arg(const args_t *a, uint8_t id[32]) {
  if (a->n_parcels != 1) cli_die("give exactly one of --parcel ID and --cadastral NUMBER (several only for merge)");
  parcel_name_id(&a->parcels[0], id);
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
  if (!strcmp(name, "subdivide")) return TX_TYPE_PROPERTY_SUBDIVIDE;
  if (!strcmp(name, "merge")) return TX_TYPE_PROPERTY_MERGE;
  if (!strcmp(name, "replace-holder")) return TX_TYPE_PROPERTY_HOLDER_REPLACE;
  return 0;
}

static const char *type_name(uint32_t type) {
  switch (type) {
    case TX_TYPE_PROPERTY_TRANSFER: return "transfer";
    case TX_TYPE_PROPERTY_ENCUMBER: return "encumber";
    case TX_TYPE_PROPERTY_RELEASE: return "release";
    case TX_TYPE_PROPERTY_SUBDIVIDE: return "subdivide";
    case TX_TYPE_PROPERTY_MERGE: return "merge";
    case TX_TYPE_PROPERTY_HOLDER_REPLACE: return "replace-holder";
    default: return "register";
  }
}

/* The titles a change of type reads: each merger parent's, in the order
 * given, or the one parcel's. A JSON array the caller decrefs. */
static json_t *titles_fetch(const cli_node_t *n, uint32_t type, const args_t *a) {
  json_t *arr = json_array();
  if (type != TX_TYPE_PROPERTY_MERGE) {
    uint8_t id[32];
    parcel_arg(a, id);
    json_array_append_new(arr, title_fetch(n, id));
    return arr;
  }
  for (size_t i = 0; i < a->n_parcels; i++) {
    uint8_t id[32];
    parcel_name_id(&a->parcels[i], id);
    json_array_append_new(arr, title_fetch(n, id));
  }
  return arr;
}

/* A land description: --area, --district, and the plan (--plan/--plan-digest). */
static void land_arg(const char *what, const char *cad, const char *area, const char *district, char *cad_out,
                     uint64_t *area_out, char *district_out) {
  if (!property_cadastral_ok(cad, strlen(cad)))
    cli_die("%s: the cadastral number \"%s\" must be 1 to %d characters of A-Z a-z 0-9 : . / -", what, cad,
            PROPERTY_CADASTRAL_BYTES_MAX);
  snprintf(cad_out, PROPERTY_CADASTRAL_BYTES_MAX + 1, "%s", cad);
  *area_out = cli_u64_arg("area", area);
  if (*area_out == 0 || *area_out > PROPERTY_AREA_M2_MAX)
    cli_die("%s: the area must be from 1 to %llu square metres", what, (unsigned long long)PROPERTY_AREA_M2_MAX);
  if (district && !property_district_ok(district, strlen(district)))
    cli_die("%s: the district must be 0 to %d characters of a-z 0-9 _", what, PROPERTY_DISTRICT_BYTES_MAX);
  snprintf(district_out, PROPERTY_DISTRICT_BYTES_MAX + 1, "%s", district ? district : "");
}

static bool all_digits(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return false;
  return true;
}

/* --child NUM:PLANFILE:AREA[:DISTRICT] or --child-digest NUM:HEX:AREA[:DISTRICT].
 * A cadastral number has colons of its own, so the fields are read from the
 * right: the last is the district unless it is all digits and the one before
 * is not (then it is the area; a plan file named by digits alone is written
 * ./NAME); the field before the area is the plan (a file name without ':', or
 * 64 hex); what is left is the number. */
static void child_arg(const char *spec, bool is_digest, property_piece_t *p) {
  char buf[512];
  if (strlen(spec) >= sizeof buf) cli_die("--child %s: too long", spec);
  snprintf(buf, sizeof buf, "%s", spec);
  char *f[3]; /* f[0] the last field, f[1] the one before, ... */
  size_t n = 0;
  for (char *c; n < 3 && (c = strrchr(buf, ':'));) {
    *c = 0;
    f[n++] = c + 1;
  }
  /* n == 3 and buf empty: there was no room for a district. */
  bool district = n == 3 && *buf && (!all_digits(f[0]) || all_digits(f[1]));
  if (n < 2 || (n == 2 && !*buf) || (!district && n == 3 && !all_digits(f[0])))
    cli_die("--child %s: write NUMBER:%s:AREA[:DISTRICT]", spec, is_digest ? "HEX" : "PLANFILE");
  if (!district && n == 3) { /* f[2] belongs to the number: put its colon back */
    f[2][-1] = ':';
    n = 2;
  }
  const char *dist = district ? f[0] : NULL, *area = f[district], *plan = f[district + 1];
  if (!*buf) cli_die("--child %s: no cadastral number", spec);
  if (!all_digits(area)) cli_die("--child %s: the area \"%s\" is not a number of square metres", spec, area);
  land_arg("--child", buf, area, dist, p->cadastral, &p->area_m2, p->district);
  if (is_digest) cli_hex32("--child-digest plan digest", plan, p->plan_digest);
  else file_digest(plan, p->plan_digest);
  if (property_parcel_id(p->id, p->cadastral)) cli_die("--child %s: bad cadastral number", spec);
}

static int cmp_piece(const void *x, const void *y) { return memcmp(x, y, 32); } /* id first */

/* MERGE: the parents (--cadastral/--parcel, 2..16) with their versions
 * (--version, one per parent in the same order, or the titles'), sorted by
 * id; the new parcel (--into, --plan, --area, --district). */
static void merge_build(const args_t *a, const json_t *titles, property_action_t *act) {
  if (a->n_parcels < 2) cli_die("merge: name 2 to %d parcels (--cadastral or --parcel each)", PROPERTY_LINEAGE_MAX);
  if (a->n_versions && a->n_versions != a->n_parcels)
    cli_die("merge: give one --version per parcel, in the same order (or none: the node's)");
  if (!a->n_versions && !titles) cli_die("offline, give --version V for each parcel, in the same order");
  for (size_t i = 0; i < a->n_parcels; i++) {
    parcel_name_id(&a->parcels[i], act->pieces[i].id);
    act->pieces[i].version = a->n_versions ? cli_u64_arg("--version", a->versions[i])
                                           : jint(json_array_get(titles, i), "version");
  }
  act->n_pieces = a->n_parcels;
  qsort(act->pieces, act->n_pieces, sizeof act->pieces[0], cmp_piece);
  for (size_t i = 1; i < act->n_pieces; i++)
    if (!memcmp(act->pieces[i - 1].id, act->pieces[i].id, 32)) cli_die("merge: a parcel is named twice");
  if (!a->into) cli_die("merge: --into NUMBER (the new parcel's cadastral number) is required");
  if (!a->area) cli_die("merge: --area M2 (the new parcel's) is required");
  land_arg("--into", a->into, a->area, a->district, act->cadastral, &act->area_m2, act->district);
  digest_arg("plan", a->plan_hex, a->plan_file, act->plan_digest);
  digest_arg("deed", a->digest_hex, a->digest_file, act->digest);
}

/* SUBDIVIDE: the children (--child/--child-digest, 2..16), sorted by id. */
static void subdivide_build(const args_t *a, property_action_t *act) {
  if (a->n_children < 2) cli_die("subdivide: give 2 to %d --child NUMBER:PLANFILE:AREA[:DISTRICT]", PROPERTY_LINEAGE_MAX);
  for (size_t i = 0; i < a->n_children; i++) child_arg(a->children[i], a->child_is_digest[i], &act->pieces[i]);
  act->n_pieces = a->n_children;
  qsort(act->pieces, act->n_pieces, sizeof act->pieces[0], cmp_piece);
  for (size_t i = 1; i < act->n_pieces; i++)
    if (!memcmp(act->pieces[i - 1].id, act->pieces[i].id, 32)) cli_die("subdivide: a child is named twice");
  digest_arg("deed", a->digest_hex, a->digest_file, act->digest);
}

/* The action of type from the arguments; the expected version is --version or
 * the title's (titles: a JSON array as titles_fetch gives, or NULL offline). */
static void action_build(uint32_t type, const args_t *a, const json_t *titles, property_action_t *act) {
  memset(act, 0, sizeof *act);
  act->type = type;
  if (type == TX_TYPE_PROPERTY_MERGE) {
    merge_build(a, titles, act);
    return;
  }
  parcel_arg(a, act->parcel);
  if (a->n_versions > 1) cli_die("one --version (several only for merge)");
  if (a->version) act->version = cli_u64_arg("--version", a->version);
  else if (titles) act->version = jint(json_array_get(titles, 0), "version");
  else cli_die("offline, give --version V (the title version the change applies to)");
  if (type == TX_TYPE_PROPERTY_SUBDIVIDE) {
    subdivide_build(a, act);
    return;
  }
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
    if (type == TX_TYPE_PROPERTY_HOLDER_REPLACE) {
      if (!a->holder) cli_die("--holder ID (the new holder) is required");
      cli_hex32("holder identity id", a->holder, act->holder);
    }
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
static json_t *land_json(const char *cad, const uint8_t plan[32], uint64_t area_m2, const char *district) {
  return json_pack("{s:s, s:o, s:I, s:s}", "cadastral", cad, "plan_digest", hex_json(plan, 32), "area_m2",
                   (json_int_t)area_m2, "district", district);
}

static void action_fields_json(json_t *o, const property_action_t *act) {
  if (act->type == TX_TYPE_PROPERTY_MERGE) {
    json_t *ps = json_array();
    for (size_t i = 0; i < act->n_pieces; i++)
      json_array_append_new(ps, json_pack("{s:o, s:I}", "parcel", hex_json(act->pieces[i].id, 32), "title_version",
                                          (json_int_t)act->pieces[i].version));
    json_object_set_new(o, "parents", ps);
    json_object_set_new(o, "into", land_json(act->cadastral, act->plan_digest, act->area_m2, act->district));
    json_object_set_new(o, "deed_digest", hex_json(act->digest, 32));
    return;
  }
  json_object_set_new(o, "parcel", hex_json(act->parcel, 32));
  json_object_set_new(o, "title_version", json_integer((json_int_t)act->version));
  if (act->type == TX_TYPE_PROPERTY_SUBDIVIDE) {
    json_t *cs = json_array();
    for (size_t i = 0; i < act->n_pieces; i++) {
      const property_piece_t *p = &act->pieces[i];
      json_t *c = land_json(p->cadastral, p->plan_digest, p->area_m2, p->district);
      json_object_set_new(c, "parcel", hex_json(p->id, 32));
      json_array_append_new(cs, c);
    }
    json_object_set_new(o, "children", cs);
    json_object_set_new(o, "deed_digest", hex_json(act->digest, 32));
    return;
  }
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
    if (act->type == TX_TYPE_PROPERTY_HOLDER_REPLACE) json_object_set_new(o, "new_holder", hex_json(act->holder, 32));
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
  if (x->n_pieces != y->n_pieces) return "another number of children or parents";
  for (size_t i = 0; i < x->n_pieces; i++) {
    const property_piece_t *p = &x->pieces[i], *q = &y->pieces[i];
    if (memcmp(p->id, q->id, 32)) return "other children or parents";
    if (p->version != q->version) return "another version of a parent (it changed since this was signed)";
    if (strcmp(p->cadastral, q->cadastral) || memcmp(p->plan_digest, q->plan_digest, 32) || p->area_m2 != q->area_m2 ||
        strcmp(p->district, q->district))
      return "another plan, area or district of a child";
  }
  if (strcmp(x->cadastral, y->cadastral) || memcmp(x->plan_digest, y->plan_digest, 32) || x->area_m2 != y->area_m2 ||
      strcmp(x->district, y->district))
    return "another new parcel (number, plan, area or district)";
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
    "usage: veche property consent CHANGE ACTION-OPTIONS --key FILE\n"
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
    "  subdivide (--parcel ID | --cadastral N) --child NUM:PLANFILE:AREA[:DISTRICT]... (or\n"
    "            --child-digest NUM:HEX:AREA[:DISTRICT]) (--deed-digest HEX | --deed FILE)\n"
    "  merge     --cadastral A --cadastral B... --into NUM (--plan FILE | --plan-digest HEX)\n"
    "            --area M2 [--district D] (--deed-digest HEX | --deed FILE)\n"
    "  replace-holder (--parcel ID | --cadastral N) --number N --holder NEW-ID\n"
    "            (--document-digest HEX | --document FILE)\n"
    "\n"
    "  --node HOST:PORT   learn the chain, the title version(s) and your identity from\n"
    "                     a node (default $VECHE_NODE or " CLI_NODE_DEFAULT ")\n"
    "  --version V --chain-id ID [--identity ID]\n"
    "                     offline instead (merge: one --version per parcel, in the\n"
    "                     order of the --cadastral); --identity is needed if your key\n"
    "                     was rotated (default: the identity of this key as first key)\n";

#define ACTION_OPTS                                                                                          \
  " parcel cadastral version owner deed-digest deed document-digest document kind holder number child child-digest " \
  "into plan plan-digest area district "

static int property_consent(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    if (argc >= 2) cli_help(CONSENT_USAGE);
    cli_usage(CONSENT_USAGE);
  }
  uint32_t type = type_of(argv[1]);
  if (!type)
    cli_die("consent to what? transfer, encumber, release, subdivide, merge or replace-holder (not \"%s\")", argv[1]);
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
    json_t *titles = a.version ? NULL : titles_fetch(&n, type, &a);
    action_build(type, &a, titles, act);
    json_decref(titles);
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
    if (type == TX_TYPE_PROPERTY_MERGE)
      fprintf(stderr, "consent of %s to this merge of %zu parcels written to %s\n", hex, act->n_pieces, a.out);
    else
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

static bool identity_revoked(const cli_node_t *n, const uint8_t id[32]) {
  json_t *rec = identity_fetch(n, id);
  bool revoked = !strcmp(cli_jstr(rec, "status"), "revoked");
  json_decref(rec);
  return revoked;
}

/* The title's owners that are not revoked (a revoked one is excused:
 * docs/property.md), then its mortgage holders. */
static void required_owners(const cli_node_t *n, const json_t *title, required_t *r) {
  size_t i;
  const json_t *x;
  json_array_foreach(json_object_get(title, "owners"), i, x) {
    uint8_t id[32];
    jhex32(x, "identity", id);
    if (!identity_revoked(n, id)) required_add(r, id, "current owner");
  }
}

static void required_mortgagees(const json_t *title, required_t *r) {
  size_t i;
  const json_t *x;
  json_array_foreach(json_object_get(title, "encumbrances"), i, x) {
    if (strcmp(cli_jstr(x, "kind"), "mortgage")) continue;
    uint8_t id[32];
    jhex32(x, "holder", id);
    required_add(r, id, "mortgage holder");
  }
}

/* The parties whose consent the ledger will want (property.h), from the
 * titles as the node shows them (titles_fetch). */
static void required_of(const cli_node_t *n, const json_t *titles, const property_action_t *act, required_t *r) {
  r->n = 0;
  const json_t *title = json_array_get(titles, 0);
  const json_t *owners = json_object_get(title, "owners"), *encs = json_object_get(title, "encumbrances");
  size_t i;
  const json_t *x;
  if (act->type == TX_TYPE_PROPERTY_TRANSFER) {
    required_owners(n, title, r);
    for (size_t k = 0; k < act->n_owners; k++) required_add(r, act->owners[k].id, "new owner");
    required_mortgagees(title, r);
  } else if (act->type == TX_TYPE_PROPERTY_SUBDIVIDE || act->type == TX_TYPE_PROPERTY_MERGE) {
    /* A merger's parents have one owner list (else the ledger refuses it). */
    required_owners(n, title, r);
    json_array_foreach(titles, i, x) required_mortgagees(x, r);
  } else if (act->type == TX_TYPE_PROPERTY_HOLDER_REPLACE) {
    required_add(r, act->holder, "new holder");
    bool found = false;
    json_array_foreach(encs, i, x) {
      if (jint(x, "number") != act->number) continue;
      uint8_t id[32];
      jhex32(x, "holder", id);
      found = true;
      if (!identity_revoked(n, id)) required_add(r, id, "current holder");
    }
    if (!found) cli_die("the title has no encumbrance number %llu", (unsigned long long)act->number);
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
    "       veche property subdivide (--parcel ID | --cadastral N)\n"
    "         --child NUMBER:PLANFILE:AREA[:DISTRICT]... (or --child-digest NUMBER:HEX:AREA[:DISTRICT])\n"
    "         (--deed-digest HEX | --deed FILE) [--consent FILE]... --key FILE [options]\n"
    "       veche property merge --cadastral A --cadastral B... --into NUMBER\n"
    "         (--plan FILE | --plan-digest HEX) --area M2 [--district D]\n"
    "         (--deed-digest HEX | --deed FILE) [--consent FILE]... --key FILE [options]\n"
    "       veche property replace-holder (--parcel ID | --cadastral N) --number N --holder NEW-ID\n"
    "         (--document-digest HEX | --document FILE) [--consent FILE]... --key FILE [options]\n"
    "\n"
    "Submits a change of a title, signed by a land registrar (--key), with the\n"
    "parties' consents (`veche property consent`). The consents must be exactly:\n"
    "  transfer  every current owner (a revoked one is excused: inheritance), every\n"
    "            new owner and every mortgage holder; refused while an arrest holds;\n"
    "  encumber  kind mortgage, easement or lease: every owner and the holder;\n"
    "            kind arrest (a court order; --holder the court): none;\n"
    "  release   the holder of encumbrance N;\n"
    "  subdivide every owner (a revoked one is excused) and every mortgage holder;\n"
    "            each child gets the owners and a copy of every encumbrance (same\n"
    "            numbers); the parent is retired; 2..16 children, new numbers only;\n"
    "  merge     the same, over parcels that have the same owners and shares (a\n"
    "            bank holding mortgages on several consents once); encumbrances\n"
    "            are renumbered 1..m; the parents are retired;\n"
    "  replace-holder  the new holder, and the current holder of encumbrance N\n"
    "            unless its identity is revoked (then the document names the court\n"
    "            decision or the successor's act).\n"
    "Subdivide, merge and replace-holder exist from protocol 3.\n"
    "Each consent is checked here first (same change, this chain, the title's\n"
    "current version, the signer's current key, an active identity) and the set\n"
    "against the title; what is missing or extra is listed and nothing is sent\n"
    "(--force sends anyway, to see the ledger refuse it). The title version is\n"
    "the node's unless --version V is given (merge: one per parcel, in order).\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP
    "  --force            submit even if the local checks of the consents fail\n";

static int property_change(uint32_t type, int argc, char **argv) {
  args_t a;
  args_parse(argc, argv, CHANGE_USAGE, ACTION_OPTS "consent force node key seq expiry wait print ", &a);
  bool replace = type == TX_TYPE_PROPERTY_HOLDER_REPLACE, merge = type == TX_TYPE_PROPERTY_MERGE;
  if (type != TX_TYPE_PROPERTY_TRANSFER && a.n_owners) cli_die("--owner is for transfer");
  if (type != TX_TYPE_PROPERTY_ENCUMBER && a.kind) cli_die("--kind is for encumber");
  if (type != TX_TYPE_PROPERTY_ENCUMBER && !replace && a.holder) cli_die("--holder is for encumber and replace-holder");
  if (type != TX_TYPE_PROPERTY_RELEASE && !replace && a.number) cli_die("--number is for release and replace-holder");
  if (type != TX_TYPE_PROPERTY_SUBDIVIDE && a.n_children) cli_die("--child is for subdivide");
  if (!merge && (a.into || a.plan_hex || a.plan_file || a.area || a.district))
    cli_die("--into, --plan, --area and --district are for merge");
  pc_signer_t s;
  pc_signer_open(&s, &a.tx);
  json_t *titles = titles_fetch(&s.node, type, &a);
  property_action_t *act = calloc(1, sizeof *act);
  required_t *req = malloc(sizeof *req);
  if (!act || !req) cli_die("out of memory");
  action_build(type, &a, titles, act);
  size_t i;
  const json_t *title;
  json_array_foreach(titles, i, title) {
    uint64_t want = merge ? 0 : act->version, have = jint(title, "version");
    if (merge) { /* the piece of this title (pieces are sorted by id) */
      uint8_t id[32];
      jhex32(title, "id", id);
      for (size_t k = 0; k < act->n_pieces; k++)
        if (!memcmp(act->pieces[k].id, id, 32)) want = act->pieces[k].version;
    }
    if (want != have)
      fprintf(stderr, "veche: warning: %s is at version %llu, not %llu: the ledger will refuse this\n",
              cli_jstr(title, "cadastral"), (unsigned long long)have, (unsigned long long)want);
    if (strcmp(cli_jstr(title, "status"), "active"))
      fprintf(stderr, "veche: warning: %s is %s: the ledger refuses every change of it\n", cli_jstr(title, "cadastral"),
              cli_jstr(title, "status"));
    bool blocked = type == TX_TYPE_PROPERTY_TRANSFER || type == TX_TYPE_PROPERTY_SUBDIVIDE || merge;
    if (blocked && json_is_true(json_object_get(title, "arrested")))
      fprintf(stderr, "veche: warning: %s is under arrest: the ledger refuses a %s until it is released\n",
              cli_jstr(title, "cadastral"), type_name(type));
  }
  for (size_t k = 0; k < a.n_consents; k++) consent_take(&s.node, s.chain, act, a.consents[k]);
  required_of(&s.node, titles, act, req);
  json_decref(titles);
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
static int property_subdivide(int argc, char **argv) { return property_change(TX_TYPE_PROPERTY_SUBDIVIDE, argc, argv); }
static int property_merge(int argc, char **argv) { return property_change(TX_TYPE_PROPERTY_MERGE, argc, argv); }
static int property_replace_holder(int argc, char **argv) {
  return property_change(TX_TYPE_PROPERTY_HOLDER_REPLACE, argc, argv);
}

/* ---- reading ---- */

static const char SHOW_USAGE[] =
    "usage: veche property show (--parcel ID | --cadastral N) [--node HOST:PORT]\n"
    "\n"
    "Prints the title as the node holds it (GET /v1/property/parcels/ID): the\n"
    "cadastral number, version, status (active or retired), parents (the parcels\n"
    "it came from) and children (where a retired parcel's land went), owners with\n"
    "their shares, encumbrances, digests.\n";

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
    if (json_object_get(e, "new_holder")) printf(" -> %s", cli_jstr(e, "new_holder"));
  }
  /* origin: where it came from; subdivide, merge: where the land went. */
  const char *lists[] = {"parents", "from", "children", "into"};
  for (size_t l = 0; l < 4; l += 2) {
    const json_t *ids = json_object_get(e, lists[l]);
    if (!json_array_size(ids)) continue;
    printf(" %s", lists[l + 1]);
    json_array_foreach(ids, i, o) printf(" %s", json_string_value(o));
  }
  json_array_foreach(json_object_get(e, "encumbrance_origins"), i, o)
    printf(" #%lld=%s#%lld", (long long)jint(o, "number"), cli_jstr(o, "parent"), (long long)jint(o, "parent_number"));
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
      {"subdivide", property_subdivide}, {"merge", property_merge}, {"replace-holder", property_replace_holder},
      {"show", property_show},       {"history", property_history},   {"owned", property_owned},
      {"proof", property_proof},
  };
  return cli_subcommand("property", PROPERTY_USAGE, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
