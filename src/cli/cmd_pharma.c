/* cmd_pharma.c — `veche pharma`: pharmaceutical track-and-trace
 * (src/apps/pharma, docs/pharma.md). Transactions are built with the app's
 * payload builders (so a payload every node refuses is refused here first)
 * and signed and submitted with the helpers `veche poll` uses
 * (cmd_poll_common.c); reads go to the node's /v1/pharma endpoints, with
 * serials and batches percent-encoded in the path. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/pharma/pharma.h"
#include "base/err.h"
#include "cli/cmd_gov_int.h"
#include "cli/cmd_poll_int.h"

/* Longest line of a serials file (a serial is at most 20 characters). */
#define PH_LINE_BYTES_MAX 256
#define PH_PATH_BYTES_MAX 512

static const char PHARMA_USAGE[] =
    "usage: veche pharma COMMAND [options]      (veche pharma COMMAND --help for details)\n"
    "\n"
    "Set-up (regulators and the admin):\n"
    "  jurisdiction   the admin names the country a regulator speaks for\n"
    "  license        a regulator licenses a party in its country\n"
    "  product        register (manufacturer) | authorise (regulator) a product\n"
    "Packs:\n"
    "  commission     a manufacturer serialises packs of a batch\n"
    "  ship           the custodian sends packs to a licensed recipient\n"
    "  receive        the recipient takes custody\n"
    "  dispense       a pharmacy or hospital dispenses packs\n"
    "  decommission   destroyed, stolen, sample or exported\n"
    "  recall         a regulator recalls a batch in its country; the\n"
    "                 manufacturer recalls it everywhere\n"
    "Containers (GS1 SSCC cases and pallets, protocol 3):\n"
    "  aggregate           the custodian packs packs into a container\n"
    "  disaggregate        the custodian opens it (for good)\n"
    "  ship-containers     the custodian sends containers to a licensed recipient\n"
    "  receive-containers  the recipient takes custody of them\n"
    "Checks:\n"
    "  verify         the verdict on one pack (exit 0 only for GENUINE_ACTIVE)\n"
    "  show           a pack, batch, product, licence or jurisdiction as JSON\n"
    "  proof          a proof bundle for `veche verify` (offline)\n"
    "\n"
    "Identifiers: GTIN 14 digits with a GS1 check digit; serial and batch 1-20\n"
    "characters of GS1 CSET 82; country two upper-case letters; parties and\n"
    "regulators are identity ids (64 hex).\n";

/* ---- options shared by the transaction commands ---- */

typedef struct {
  pc_txopts_t to;
  gc_admin_opts_t admin; /* jurisdiction only */
  const char *country, *id, *kinds, *status, *gtin, *batch, *expiry, *digest, *reason;
  bool withdraw;
  char **serials; /* owned strings, from --serial and --serials-file */
  size_t n_serials;
  const char *ssccs[PHARMA_TX_CONTAINERS_MAX]; /* --sscc, borrowed from argv */
  size_t n_ssccs;
} ph_opts_t;

static void serial_add(ph_opts_t *o, const char *s) {
  if (o->n_serials == PHARMA_TX_PACKS_MAX) cli_die("at most %d serials in one transaction", PHARMA_TX_PACKS_MAX);
  if (!o->serials && !(o->serials = calloc(PHARMA_TX_PACKS_MAX, sizeof *o->serials))) cli_die("out of memory");
  if (!(o->serials[o->n_serials++] = strdup(s))) cli_die("out of memory");
}

/* One serial per line; blank lines and a trailing CR are ignored. */
static void serials_file(ph_opts_t *o, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) cli_die("%s: cannot open", path);
  char line[PH_LINE_BYTES_MAX];
  unsigned no = 0;
  while (fgets(line, sizeof line, f)) {
    no++;
    size_t n = strlen(line);
    if (n && line[n - 1] != '\n' && !feof(f)) cli_die("%s:%u: line too long", path, no);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    if (n) serial_add(o, line);
  }
  fclose(f);
}

static void opts_free(ph_opts_t *o) {
  for (size_t i = 0; i < o->n_serials; i++) free(o->serials[i]);
  free(o->serials);
}

/* Parses argv with the options of every transaction command; positional
 * arguments are refused. */
static void opts_parse(int argc, char **argv, const char *usage, ph_opts_t *o) {
  static const struct option opts[] = {
      PC_TXOPTS_LONG,         {"country", 1, 0, 'C'}, {"regulator", 1, 0, 'R'},  {"party", 1, 0, 'P'},
      {"to", 1, 0, 'T'},      {"kinds", 1, 0, 'K'},   {"status", 1, 0, 'S'},     {"gtin", 1, 0, 'G'},
      {"batch", 1, 0, 'B'},   {"expires", 1, 0, 'X'},  {"data-digest", 1, 0, 'D'}, {"reason-digest", 1, 0, 'D'},
      {"reason", 1, 0, 'r'},  {"serial", 1, 0, 'l'},  {"serials-file", 1, 0, 'f'}, {"withdraw", 0, 0, 'W'},
      {"sscc", 1, 0, 'Z'},    GC_ADMIN_OPTS_LONG,     {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h') cli_help(usage);
    if (pc_txopt(c, optarg, &o->to)) continue;
    if (gc_admin_opt(c, optarg, &o->admin)) continue; /* submit refuses them but for jurisdiction */
    switch (c) {
      case 'C': o->country = optarg; break;
      case 'R': case 'P': case 'T': o->id = optarg; break;
      case 'K': o->kinds = optarg; break;
      case 'S': o->status = optarg; break;
      case 'G': o->gtin = optarg; break;
      case 'B': o->batch = optarg; break;
      case 'X': o->expiry = optarg; break;
      case 'D': o->digest = optarg; break;
      case 'r': o->reason = optarg; break;
      case 'l': serial_add(o, optarg); break;
      case 'f': serials_file(o, optarg); break;
      case 'W': o->withdraw = true; break;
      case 'Z':
        if (o->n_ssccs == PHARMA_TX_CONTAINERS_MAX)
          cli_die("at most %d --sscc in one transaction", PHARMA_TX_CONTAINERS_MAX);
        o->ssccs[o->n_ssccs++] = optarg;
        break;
      default: cli_usage(usage);
    }
  }
  if (optind != argc) cli_usage(usage);
}

static const char *need(const char *v, const char *what) {
  if (!v) cli_die("%s is required (see --help)", what);
  return v;
}

static const char *country_arg(const char *c) {
  if (!pharma_country_ok(need(c, "--country CC"))) cli_die("--country must be two upper-case letters, not \"%s\"", c);
  return c;
}

static const char *gtin_arg(const char *g) {
  if (!pharma_gtin_ok(need(g, "--gtin GTIN")))
    cli_die("--gtin must be 14 digits with a valid GS1 check digit, not \"%s\"", g);
  return g;
}

static const char *code_arg(const char *s, const char *what, size_t max) {
  if (!pharma_cset82_ok((const uint8_t *)s, strlen(s), max))
    cli_die("%s \"%s\" is not 1-%zu characters of GS1 CSET 82 (printable ASCII without space, #, $, @, ...)", what, s,
            max);
  return s;
}

/* --gtin with the serials: pack references (caller frees). */
static pharma_pack_ref_t *packs_arg(const ph_opts_t *o) {
  const char *gtin = gtin_arg(o->gtin);
  if (!o->n_serials) cli_die("name the packs with --serial S (repeatable) or --serials-file FILE");
  pharma_pack_ref_t *r = calloc(o->n_serials, sizeof *r);
  if (!r) cli_die("out of memory");
  for (size_t i = 0; i < o->n_serials; i++) {
    code_arg(o->serials[i], "serial", PHARMA_SERIAL_BYTES_MAX);
    VE_ASSERT(pharma_pack_ref_set(&r[i], gtin, o->serials[i]) == VE_OK);
  }
  return r;
}

/* Signs and submits one pharma transaction; returns the exit status. */
static int submit(ph_opts_t *o, uint32_t type, ve_buf_t *pl, int built) {
  if (built == VE_ERR_INVALID) cli_die("the transaction would be refused: a serial is repeated, or a value is out of range");
  if (built) cli_die("cannot build the transaction: %s", ve_strerror(built));
  bool admin = type == TX_TYPE_PHARMA_JURISDICTION_SET;
  if (!admin && (o->admin.open_for || o->admin.note || o->admin.direct))
    cli_die("--open-for, --note and --direct are for `veche pharma jurisdiction` (an admin action) only");
  pc_signer_t s;
  pc_signer_open(&s, &o->to);
  int rc = admin && gc_admin_wrap(&s.node, &o->admin, NULL)
               ? gc_admin_submit(&s, &o->to, &o->admin, type, ve_buf_slice(pl))
               : pc_submit(&s, &o->to, type, ve_buf_slice(pl), NULL);
  pc_signer_close(&s);
  ve_buf_free(pl);
  opts_free(o);
  return rc;
}

#define TXOPTS_HELP "\nOptions:\n  --key FILE         the signer's key\n" PC_TXOPTS_HELP

/* ---- set-up ---- */

static const char JURISDICTION_USAGE[] =
    "usage: veche pharma jurisdiction --regulator ID --country CC --key ADMIN_KEY [options]\n"
    "\n"
    "As an admin, names the country a regulator identity (role \"regulator\",\n"
    "`veche tx set-roles`) speaks for. Several regulators may share a country;\n"
    "setting another country moves the regulator.\n"
    "\n"
    "From protocol 2 this is a council decision: the command proposes it (--key:\n"
    "a council member) and prints the proposal id, with --wait \"executed\" (k = 1)\n"
    "or \"open, 1 of K approvals\"; other members approve with `veche gov approve`.\n"
    TXOPTS_HELP GC_ADMIN_OPTS_HELP;

static int ph_jurisdiction(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, JURISDICTION_USAGE, &o);
  uint8_t reg[32];
  cli_hex32("--regulator", need(o.id, "--regulator ID"), reg);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  return submit(&o, TX_TYPE_PHARMA_JURISDICTION_SET, &pl, pharma_payload_jurisdiction(&pl, reg, country_arg(o.country)));
}

static const char LICENSE_USAGE[] =
    "usage: veche pharma license --country CC --party ID --kinds K[,K...] [--status S] --key REGULATOR_KEY [options]\n"
    "\n"
    "As the regulator of CC, sets a party's licence there. Kinds: manufacturer,\n"
    "wholesaler, dispenser (pharmacy or hospital). Status: active (default),\n"
    "suspended, revoked (final: a revoked licence is never changed again).\n" TXOPTS_HELP;

static int ph_license(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, LICENSE_USAGE, &o);
  uint8_t party[32];
  cli_hex32("--party", need(o.id, "--party ID"), party);
  uint32_t kinds = pharma_kinds_from_names(need(o.kinds, "--kinds"));
  if (!kinds) cli_die("--kinds is a comma-separated list of manufacturer, wholesaler, dispenser");
  int st = o.status ? pharma_licence_status_from_name(o.status) : PHARMA_LICENCE_ACTIVE;
  if (st < 0) cli_die("--status is active, suspended or revoked");
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  return submit(&o, TX_TYPE_PHARMA_LICENSE_SET, &pl,
                pharma_payload_license(&pl, country_arg(o.country), party, kinds, (pharma_licence_status_t)st));
}

static const char PRODUCT_USAGE[] =
    "usage: veche pharma product register --gtin GTIN --country CC --data-digest HEX --key MANUFACTURER_KEY [options]\n"
    "       veche pharma product authorise --gtin GTIN --country CC [--withdraw] --key REGULATOR_KEY [options]\n"
    "\n"
    "register: a manufacturer licensed in CC registers a product; HEX (64) is\n"
    "  the digest of its off-chain data (SmPC, label).\n"
    "authorise: the regulator of CC grants (or, with --withdraw, withdraws) the\n"
    "  product's marketing authorisation in CC. Packs enter CC only while it\n"
    "  is authorised there.\n" TXOPTS_HELP;

static int ph_product_register(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, PRODUCT_USAGE, &o);
  uint8_t digest[32];
  cli_hex32("--data-digest", need(o.digest, "--data-digest HEX"), digest);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  return submit(&o, TX_TYPE_PHARMA_PRODUCT_REGISTER, &pl,
                pharma_payload_product_register(&pl, gtin_arg(o.gtin), country_arg(o.country), digest));
}

static int ph_product_authorise(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, PRODUCT_USAGE, &o);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  return submit(&o, TX_TYPE_PHARMA_PRODUCT_AUTHORISE, &pl,
                pharma_payload_product_authorise(&pl, gtin_arg(o.gtin), country_arg(o.country),
                                                 o.withdraw ? PHARMA_WITHDRAWN : PHARMA_AUTHORISED));
}

static int ph_product(int argc, char **argv) {
  static const cli_cmd_t cmds[] = {{"register", ph_product_register}, {"authorise", ph_product_authorise}};
  return cli_subcommand("pharma product", PRODUCT_USAGE, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}

/* ---- packs ---- */

#define PACKS_HELP                                                                         \
  "Packs: --gtin GTIN with --serial S (repeatable) and/or --serials-file FILE\n"           \
  "(one serial per line), 1 to 1000 in one all-or-nothing transaction.\n"

static const char COMMISSION_USAGE[] =
    "usage: veche pharma commission --gtin GTIN --batch B --expires YYYYMMDD PACKS --key MANUFACTURER_KEY [options]\n"
    "\n"
    "The product's manufacturer serialises new packs of batch B, held by itself\n"
    "in its licensing country. The batch's expiry is fixed by its first\n"
    "commission (day 00 = end of the month). An existing serial fails the whole\n"
    "transaction.\n" PACKS_HELP TXOPTS_HELP;

static int ph_commission(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, COMMISSION_USAGE, &o);
  const char *batch = code_arg(need(o.batch, "--batch B"), "batch", PHARMA_BATCH_BYTES_MAX);
  uint64_t expiry = cli_u64_arg("--expires", need(o.expiry, "--expires YYYYMMDD"));
  if (!pharma_date_ok(expiry)) cli_die("--expires %llu is not a date YYYYMMDD", (unsigned long long)expiry);
  pharma_pack_ref_t *r = packs_arg(&o);
  free(r); /* checked the serials */
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  int built = pharma_payload_commission(&pl, o.gtin, batch, expiry, (const char *const *)o.serials, o.n_serials);
  return submit(&o, TX_TYPE_PHARMA_COMMISSION, &pl, built);
}

static const char SHIP_USAGE[] =
    "usage: veche pharma ship --to ID --country CC PACKS --key CUSTODIAN_KEY [options]\n"
    "\n"
    "The custodian sends packs to identity ID in country CC. ID must hold an\n"
    "active wholesaler or dispenser licence in CC (or be the product's\n"
    "manufacturer: a return); the product must be authorised in CC and the batch\n"
    "neither recalled there nor expired (returns to the manufacturer excepted).\n" PACKS_HELP TXOPTS_HELP;

static int ph_ship(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, SHIP_USAGE, &o);
  uint8_t to[32];
  cli_hex32("--to", need(o.id, "--to ID"), to);
  const char *country = country_arg(o.country);
  pharma_pack_ref_t *r = packs_arg(&o);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  int built = pharma_payload_ship(&pl, to, country, r, o.n_serials);
  free(r);
  return submit(&o, TX_TYPE_PHARMA_SHIP, &pl, built);
}

static const char RECEIVE_USAGE[] =
    "usage: veche pharma receive PACKS --key RECIPIENT_KEY [options]\n"
    "\n"
    "The recipient named by the shipment takes custody of packs in transit to\n"
    "it (its licence in the destination must still be active).\n" PACKS_HELP TXOPTS_HELP;

static const char DISPENSE_USAGE[] =
    "usage: veche pharma dispense PACKS --key DISPENSER_KEY [options]\n"
    "\n"
    "A custodian with an active dispenser licence where the packs are dispenses\n"
    "them: not recalled there, not expired, authorised there. Final.\n" PACKS_HELP TXOPTS_HELP;

static int packs_cmd(int argc, char **argv, const char *usage, uint32_t type) {
  ph_opts_t o;
  opts_parse(argc, argv, usage, &o);
  pharma_pack_ref_t *r = packs_arg(&o);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  int built = pharma_payload_packs(&pl, type, r, o.n_serials);
  free(r);
  return submit(&o, type, &pl, built);
}

static int ph_receive(int argc, char **argv) { return packs_cmd(argc, argv, RECEIVE_USAGE, TX_TYPE_PHARMA_RECEIVE); }
static int ph_dispense(int argc, char **argv) { return packs_cmd(argc, argv, DISPENSE_USAGE, TX_TYPE_PHARMA_DISPENSE); }

static const char DECOMMISSION_USAGE[] =
    "usage: veche pharma decommission --reason R PACKS --key CUSTODIAN_KEY [options]\n"
    "\n"
    "The custodian takes packs out of the supply chain for good. R: destroyed,\n"
    "stolen, sample, exported. A pack in transit can be reported stolen or\n"
    "destroyed by its shipper. Every later check of a stolen pack says so.\n" PACKS_HELP TXOPTS_HELP;

static int ph_decommission(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, DECOMMISSION_USAGE, &o);
  int reason = pharma_reason_from_name(need(o.reason, "--reason R"));
  if (reason <= 0) cli_die("--reason is destroyed, stolen, sample or exported");
  pharma_pack_ref_t *r = packs_arg(&o);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  int built = pharma_payload_decommission(&pl, (pharma_reason_t)reason, r, o.n_serials);
  free(r);
  return submit(&o, TX_TYPE_PHARMA_DECOMMISSION, &pl, built);
}

static const char RECALL_USAGE[] =
    "usage: veche pharma recall --gtin GTIN --batch B [--country CC] --reason-digest HEX --key KEY [options]\n"
    "\n"
    "With --country: the regulator of CC recalls the batch in CC. Without: the\n"
    "product's manufacturer recalls it everywhere. HEX (64) is the digest of the\n"
    "off-chain recall notice. A recall already made is refused.\n" TXOPTS_HELP;

static int ph_recall(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, RECALL_USAGE, &o);
  uint8_t digest[32];
  cli_hex32("--reason-digest", need(o.digest, "--reason-digest HEX"), digest);
  const char *country = o.country ? country_arg(o.country) : NULL;
  const char *batch = code_arg(need(o.batch, "--batch B"), "batch", PHARMA_BATCH_BYTES_MAX);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  return submit(&o, TX_TYPE_PHARMA_RECALL, &pl, pharma_payload_recall(&pl, gtin_arg(o.gtin), batch, country, digest));
}

/* ---- containers ---- */

static const char *sscc_arg(const char *s) {
  if (!pharma_sscc_ok(s)) cli_die("an SSCC is 18 digits with a valid GS1 check digit, not \"%s\"", s);
  return s;
}

/* The --sscc list: 1..max, each well formed. */
static void ssccs_arg(const ph_opts_t *o, size_t max) {
  if (!o->n_ssccs) cli_die("name the container%s with --sscc SSCC", max > 1 ? "s" : "");
  if (o->n_ssccs > max) cli_die("one --sscc only");
  for (size_t i = 0; i < o->n_ssccs; i++) sscc_arg(o->ssccs[i]);
}

#define SSCC_HELP "SSCC: 18 digits (GS1 AI 00) with a GS1 check digit; each code is used once, ever.\n"

static const char AGGREGATE_USAGE[] =
    "usage: veche pharma aggregate --sscc SSCC PACKS --key CUSTODIAN_KEY [options]\n"
    "\n"
    "The custodian packs ACTIVE packs it holds in one country, in no other\n"
    "container, into the case or pallet labelled SSCC (one level: containers\n"
    "hold packs, never containers). It needs an active licence there. From then\n"
    "on the packs move with the container (ship-containers, receive-containers)\n"
    "and pack-level ship, receive, dispense and decommission wait for\n"
    "`veche pharma disaggregate`.\n" SSCC_HELP PACKS_HELP TXOPTS_HELP;

static int ph_aggregate(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, AGGREGATE_USAGE, &o);
  ssccs_arg(&o, 1);
  pharma_pack_ref_t *r = packs_arg(&o);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  int built = pharma_payload_aggregate(&pl, o.ssccs[0], r, o.n_serials);
  free(r);
  return submit(&o, TX_TYPE_PHARMA_AGGREGATE, &pl, built);
}

static const char DISAGGREGATE_USAGE[] =
    "usage: veche pharma disaggregate --sscc SSCC --key CUSTODIAN_KEY [options]\n"
    "\n"
    "The container's custodian opens it for good: its packs are on their own\n"
    "again, where they are (ACTIVE, or still in transit to the recipient when\n"
    "the shipper opens a container on the road, e.g. to report stolen packs).\n"
    "No licence is needed. The SSCC is never used again.\n" SSCC_HELP TXOPTS_HELP;

static int ph_disaggregate(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, DISAGGREGATE_USAGE, &o);
  ssccs_arg(&o, 1);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  return submit(&o, TX_TYPE_PHARMA_DISAGGREGATE, &pl, pharma_payload_disaggregate(&pl, o.ssccs[0]));
}

static const char SHIP_CONTAINERS_USAGE[] =
    "usage: veche pharma ship-containers --to ID --country CC --sscc SSCC... --key CUSTODIAN_KEY [options]\n"
    "\n"
    "The custodian sends closed containers (--sscc, repeatable, 1 to 16; at most\n"
    "1000 packs together) to identity ID in country CC. Every pack inside must\n"
    "pass the rules of `veche pharma ship`.\n" SSCC_HELP TXOPTS_HELP;

static int ph_ship_containers(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, SHIP_CONTAINERS_USAGE, &o);
  uint8_t to[32];
  cli_hex32("--to", need(o.id, "--to ID"), to);
  const char *country = country_arg(o.country);
  ssccs_arg(&o, PHARMA_TX_CONTAINERS_MAX);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  return submit(&o, TX_TYPE_PHARMA_SHIP_CONTAINERS, &pl,
                pharma_payload_ship_containers(&pl, to, country, o.ssccs, o.n_ssccs));
}

static const char RECEIVE_CONTAINERS_USAGE[] =
    "usage: veche pharma receive-containers --sscc SSCC... --key RECIPIENT_KEY [options]\n"
    "\n"
    "The recipient named by the shipment takes custody of containers in transit\n"
    "to it (--sscc, repeatable, 1 to 16; at most 1000 packs together), and so of\n"
    "every pack inside; its licence in the destination must still be active.\n" SSCC_HELP TXOPTS_HELP;

static int ph_receive_containers(int argc, char **argv) {
  ph_opts_t o;
  opts_parse(argc, argv, RECEIVE_CONTAINERS_USAGE, &o);
  ssccs_arg(&o, PHARMA_TX_CONTAINERS_MAX);
  ve_buf_t pl;
  ve_buf_init(&pl, PHARMA_PAYLOAD_BYTES_MAX);
  return submit(&o, TX_TYPE_PHARMA_RECEIVE_CONTAINERS, &pl,
                pharma_payload_receive_containers(&pl, o.ssccs, o.n_ssccs));
}

/* ---- reads ---- */

/* Appends s percent-encoded: every byte outside [A-Za-z0-9_~-] becomes %XX
 * (also '.', so "." and ".." never reach the server as dot segments). */
static void path_code(char *path, size_t size, const char *s) {
  size_t l = strlen(path);
  for (; *s && l + 4 < size; s++) {
    unsigned char c = (unsigned char)*s;
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                 c == '~' || c == '-';
    l += (size_t)(plain ? snprintf(path + l, size - l, "%c", c) : snprintf(path + l, size - l, "%%%02X", c));
  }
}

/* Reads' options: --node, --country, --height, --out, --json. */
typedef struct {
  const char *node, *country, *height, *out;
  bool json;
  int n_args;
  char **args;
} ph_read_t;

static void read_parse(int argc, char **argv, const char *usage, ph_read_t *r) {
  static const struct option opts[] = {{"node", 1, 0, 'n'}, {"country", 1, 0, 'C'}, {"height", 1, 0, 'H'},
                                       {"out", 1, 0, 'o'},  {"json", 0, 0, 'j'},    {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
  memset(r, 0, sizeof *r);
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'n': r->node = optarg; break;
      case 'C': r->country = optarg; break;
      case 'H': r->height = optarg; break;
      case 'o': r->out = optarg; break;
      case 'j': r->json = true; break;
      case 'h': cli_help(usage);
      default: cli_usage(usage);
    }
  }
  r->n_args = argc - optind;
  r->args = argv + optind;
}

/* The node path of a record: WHAT ARGS... (pack GTIN SERIAL, batch GTIN B,
 * product GTIN, auth GTIN CC, licence CC ID, jurisdiction ID); false if the
 * arguments do not fit. */
static bool record_path(char *path, size_t size, const char *prefix, int n, char **a, bool proof) {
  if (n < 1) return false;
  const char *w = a[0];
  snprintf(path, size, "%s", prefix);
  size_t l = strlen(path);
  uint8_t id[32];
  if (!strcmp(w, "pack") && n == 3) {
    gtin_arg(a[1]);
    snprintf(path + l, size - l, "packs/%s/", a[1]);
    path_code(path, size, code_arg(a[2], "serial", PHARMA_SERIAL_BYTES_MAX));
  } else if (!strcmp(w, "batch") && n == 3) {
    gtin_arg(a[1]);
    snprintf(path + l, size - l, "batches/%s/", a[1]);
    path_code(path, size, code_arg(a[2], "batch", PHARMA_BATCH_BYTES_MAX));
  } else if (!strcmp(w, "product") && n == 2) {
    snprintf(path + l, size - l, "products/%s", gtin_arg(a[1]));
  } else if (!strcmp(w, "auth") && n == 3 && proof) {
    gtin_arg(a[1]);
    snprintf(path + l, size - l, "authorisations/%s/%s", a[1], country_arg(a[2]));
  } else if (!strcmp(w, "licence") && n == 3) {
    cli_hex32("party", a[2], id);
    snprintf(path + l, size - l, "licences/%s/%s", country_arg(a[1]), a[2]);
  } else if (!strcmp(w, "container") && n == 2) {
    snprintf(path + l, size - l, "containers/%s", sscc_arg(a[1]));
  } else if (!strcmp(w, "jurisdiction") && n == 2 && !proof) {
    cli_hex32("regulator", a[1], id);
    snprintf(path + l, size - l, "jurisdictions/%s", a[1]);
  } else {
    return false;
  }
  return true;
}

static const char SHOW_USAGE[] =
    "usage: veche pharma show WHAT ARGS [--country CC] [--node HOST:PORT]\n"
    "\n"
    "Prints the node's JSON answer for:\n"
    "  pack GTIN SERIAL        the pack, its batch, its custody history and the\n"
    "                          verdict (in CC with --country, else where it is)\n"
    "  batch GTIN BATCH        expiry, packs, recalls\n"
    "  product GTIN            manufacturer and authorisations per country\n"
    "  licence CC ID           a party's licence in CC\n"
    "  jurisdiction ID         the country a regulator speaks for\n"
    "  container SSCC          a container: status, custodian, places, its packs\n";

static int ph_show(int argc, char **argv) {
  ph_read_t r;
  read_parse(argc, argv, SHOW_USAGE, &r);
  char path[PH_PATH_BYTES_MAX];
  if (!record_path(path, sizeof path, "/v1/pharma/", r.n_args, r.args, false)) cli_usage(SHOW_USAGE);
  if (r.country) {
    size_t l = strlen(path);
    snprintf(path + l, sizeof path - l, "?country=%s", country_arg(r.country));
  }
  cli_node_t node;
  cli_node_parse(&node, r.node);
  json_t *j = NULL;
  int st = cli_http_json(&node, "GET", path, NULL, &j);
  if (st != 200 && !(st == 404 && json_object_get(j, "verdict"))) cli_die_answer(path, st, j);
  cli_print_json(j);
  json_decref(j);
  return 0;
}

static const char VERIFY_USAGE[] =
    "usage: veche pharma verify GTIN SERIAL [--country CC] [--json] [--node HOST:PORT]\n"
    "\n"
    "Asks the node for the verdict on one pack, as of its latest block, where it\n"
    "is checked (--country; default: the country the ledger places it in):\n"
    "  GENUINE_ACTIVE       genuine, in custody there: may be dispensed\n"
    "  UNKNOWN              never commissioned: suspect counterfeit\n"
    "  ALREADY_DISPENSED    this code was dispensed before: suspect\n"
    "  DECOMMISSIONED       destroyed, STOLEN, sample or exported\n"
    "  RECALLED             its batch is recalled there or everywhere\n"
    "  EXPIRED              past its expiry date (UTC)\n"
    "  IN_TRANSIT           shipped, not yet received\n"
    "  ELSEWHERE            the ledger places it in another country\n"
    "  NOT_AUTHORISED_HERE  no marketing authorisation in that country\n"
    "Exit status: 0 for GENUINE_ACTIVE, 1 for any other verdict or error.\n"
    "To check offline, save bundles with `veche pharma proof` and use `veche verify`.\n";

static int ph_verify(int argc, char **argv) {
  ph_read_t r;
  read_parse(argc, argv, VERIFY_USAGE, &r);
  if (r.n_args != 2) cli_usage(VERIFY_USAGE);
  char *a[3] = {"pack", r.args[0], r.args[1]};
  char path[PH_PATH_BYTES_MAX];
  record_path(path, sizeof path, "/v1/pharma/", 3, a, false);
  if (r.country) {
    size_t l = strlen(path);
    snprintf(path + l, sizeof path - l, "?country=%s", country_arg(r.country));
  }
  cli_node_t node;
  cli_node_parse(&node, r.node);
  json_t *j = NULL;
  int st = cli_http_json(&node, "GET", path, NULL, &j);
  const char *verdict = cli_jstr(j, "verdict");
  if ((st != 200 && st != 404) || !*verdict) cli_die_answer("verify", st, j);
  if (r.json) {
    cli_print_json(j);
  } else {
    json_t *pack = json_object_get(j, "pack"), *batch = json_object_get(j, "batch");
    const char *reason = cli_jstr(j, "reason");
    printf("%s%s%s: %s / %s", verdict, *reason ? " " : "", reason, r.args[0], r.args[1]);
    if (pack)
      printf(" (batch %s, expiry %s; %s in %s)", cli_jstr(pack, "batch"), cli_jstr(batch, "expiry_date"),
             cli_jstr(pack, "status"), cli_jstr(pack, "country"));
    printf(", checked for %s at height %lld\n", *cli_jstr(j, "country") ? cli_jstr(j, "country") : "-",
           (long long)json_integer_value(json_object_get(j, "as_of_height")));
    if (pack && *cli_jstr(pack, "container")) printf("in container %s\n", cli_jstr(pack, "container"));
  }
  int rc = strcmp(verdict, "GENUINE_ACTIVE") == 0 ? 0 : 1;
  json_decref(j);
  return rc;
}

static const char PROOF_USAGE[] =
    "usage: veche pharma proof WHAT ARGS [--height H] [--out FILE] [--node HOST:PORT]\n"
    "\n"
    "Saves a proof bundle (docs/proofs.md) of one record, checked offline by\n"
    "`veche verify --genesis GENESIS --bundle FILE`:\n"
    "  pack GTIN SERIAL   the pack (or its absence: never commissioned)\n"
    "  batch GTIN BATCH   expiry and recalls\n"
    "  product GTIN       the product\n"
    "  auth GTIN CC       its marketing authorisation in CC\n"
    "  licence CC ID      a party's licence in CC\n"
    "  container SSCC     a container (or its absence: the SSCC was never used)\n"
    "A verdict offline takes the pack, its batch and the authorisation where it\n"
    "is checked, all at the same --height. Without --out the bundle goes to stdout.\n";

static int ph_proof(int argc, char **argv) {
  ph_read_t r;
  read_parse(argc, argv, PROOF_USAGE, &r);
  char path[PH_PATH_BYTES_MAX];
  if (!record_path(path, sizeof path, "/v1/proofs/pharma/", r.n_args, r.args, true)) cli_usage(PROOF_USAGE);
  if (r.height) {
    size_t l = strlen(path);
    snprintf(path + l, sizeof path - l, "?height=%llu", (unsigned long long)cli_u64_arg("--height", r.height));
  }
  cli_node_t node;
  cli_node_parse(&node, r.node);
  json_t *j = cli_get_json(&node, path, path);
  cli_json_write_new(j, r.out);
  if (r.out) printf("proof bundle of %s written to %s\n", r.args[0], r.out);
  json_decref(j);
  return 0;
}

int cmd_pharma(int argc, char **argv) {
  static const cli_cmd_t cmds[] = {
      {"jurisdiction", ph_jurisdiction}, {"license", ph_license},   {"licence", ph_license},
      {"product", ph_product},           {"commission", ph_commission}, {"ship", ph_ship},
      {"receive", ph_receive},           {"dispense", ph_dispense}, {"decommission", ph_decommission},
      {"recall", ph_recall},             {"verify", ph_verify},     {"show", ph_show},
      {"proof", ph_proof},
      {"aggregate", ph_aggregate},       {"disaggregate", ph_disaggregate},
      {"ship-containers", ph_ship_containers}, {"receive-containers", ph_receive_containers},
  };
  return cli_subcommand("pharma", PHARMA_USAGE, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
