/* cmd_proof.c — `veche proof` fetches a proof bundle from a node; `veche verify`
 * checks one offline, against a genesis the user trusts, without any node. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/gov/gov.h"
#include "apps/identity/identity.h"
#include "apps/pharma/pharma.h"
#include "apps/property/property.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "cli/cli.h"
#include "cli/cmd_valset_int.h"
#include "node/config.h"
#include "proof/proof.h"

static const char PROOF_USAGE[] =
    "usage: veche proof identity ID [--height H] [--valsets-after K] [--out FILE] [--node HOST:PORT]\n"
    "       veche proof state --key HEX [--height H] [--valsets-after K] [--out FILE] [--node HOST:PORT]\n"
    "\n"
    "Fetches a proof bundle: the value (or absence) of a state key after height H\n"
    "(default: the latest certified), its Merkle proof, the header of block H+1\n"
    "that carries the state root, and that header's commit certificate. Check it\n"
    "offline with `veche verify`. Without --out the bundle goes to stdout.\n"
    "\n"
    "The bundle carries every validator-set change since the genesis, so the\n"
    "genesis alone verifies it. --valsets-after K leaves out changes 1..K, for a\n"
    "verifier that already trusts the set of epoch K (veche verify --valset).\n";

/* Appends name=value (a decimal option, when given) to path's query. */
static void query_number(char *path, size_t size, const char *name, const char *option, const char *value) {
  if (!value) return;
  char *end;
  unsigned long long v = strtoull(value, &end, 10);
  if (*end || !*value || value[0] == '-') cli_die("%s must be a number", option);
  size_t l = strlen(path);
  snprintf(path + l, size - l, "%s%s=%llu", strchr(path, '?') ? "&" : "?", name, v);
}

int cmd_proof(int argc, char **argv) {
  static const struct option opts[] = {{"height", 1, 0, 'H'}, {"out", 1, 0, 'o'}, {"node", 1, 0, 'n'},
                                       {"key", 1, 0, 'k'}, {"valsets-after", 1, 0, 'a'}, {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) cli_help(PROOF_USAGE);
  if (argc < 2) cli_usage(PROOF_USAGE);
  const char *what = argv[1], *height = NULL, *out = NULL, *node_addr = NULL, *key = NULL, *id = NULL,
             *after = NULL;
  optind = 2;
  if (!strcmp(what, "identity") && argc >= 3 && argv[2][0] != '-') id = argv[optind++];
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (o == 'H') height = optarg;
    else if (o == 'o') out = optarg;
    else if (o == 'n') node_addr = optarg;
    else if (o == 'k') key = optarg;
    else if (o == 'a') after = optarg;
    else if (o == 'h') cli_help(PROOF_USAGE);
    else cli_usage(PROOF_USAGE);
  }
  if (optind != argc) cli_usage(PROOF_USAGE);
  char path[1024];
  if (!strcmp(what, "identity") && id) {
    uint8_t b[32];
    cli_hex32("identity id", id, b);
    snprintf(path, sizeof path, "/v1/proofs/identities/%s", id);
  } else if (!strcmp(what, "state") && key) {
    if (strlen(key) > 2 * 256) cli_die("--key is longer than 256 bytes");
    snprintf(path, sizeof path, "/v1/proofs/state?key=%s", key);
  } else {
    cli_usage(PROOF_USAGE);
  }
  query_number(path, sizeof path, "height", "--height", height);
  query_number(path, sizeof path, "valsets_after", "--valsets-after", after);
  cli_node_t node;
  cli_node_parse(&node, node_addr);
  json_t *j = NULL;
  int st = cli_http_json(&node, "GET", path, NULL, &j);
  if (st != 200) {
    cli_die("%d %s: %s", st, j ? json_string_value(json_object_get(j, "error")) : "error",
            j ? json_string_value(json_object_get(j, "message")) : "");
  }
  int rc = out ? json_dump_file(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : (cli_print_json(j), 0);
  json_decref(j);
  if (rc) cli_die("cannot write %s", out);
  return 0;
}

static const char VERIFY_USAGE[] =
    "usage: veche verify --genesis FILE --bundle FILE [--valset FILE]\n"
    "\n"
    "Checks a proof bundle offline, trusting only the genesis file: the header's\n"
    "validator set must be the set governing its height, its commit certificate\n"
    "must carry signatures of more than 2/3 of that set's power, and the Merkle\n"
    "proof must show the value (or absence) under the certified state root.\n"
    "Prints PROVEN with what was proven and exits 0, or NOT PROVEN with the reason\n"
    "and exits 1.\n"
    "\n"
    "Validator-set changes: a bundle of a height a later set governs (format 2)\n"
    "carries every change since the genesis, each proven under a header the\n"
    "previous set certified; they are checked in turn from the genesis set.\n"
    "\n"
    "--valset FILE starts from a set you already trust instead (a set file:\n"
    "{\"validators\": [{\"pk\", \"power\"}, ...]}, e.g. what GET /v1/valset\n"
    "answered on a node you trust). With \"epoch\" and \"from_height\" in the\n"
    "file (GET /v1/valset gives them), the bundle's changes after that epoch are\n"
    "followed from it; without them, the set must be the one governing block\n"
    "H+1 itself. The genesis still names the chain.\n";

static bool key_is(const proof_bundle_t *b, const char *prefix, size_t rest) {
  size_t n = strlen(prefix);
  return b->key.len == n + rest && !memcmp(b->key.ptr, prefix, n);
}

static const char *hex32(char out[65], const uint8_t *p) {
  ve_hex_encode(out, p, 32);
  return out;
}

static void print_owners(const property_owner_t *o, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) sum += o[i].parts;
  char id[65];
  for (size_t i = 0; i < n; i++) {
    uint64_t g = property_gcd(o[i].parts, sum);
    printf("  owner %s, share %llu/%llu\n", hex32(id, o[i].id), (unsigned long long)(o[i].parts / g),
           (unsigned long long)(sum / g));
  }
}

/* A title ("prop/p/" || id) or a history event ("prop/h/" || id || be64 version),
 * summarised. False if the value does not decode as one (then shown in hex). */
static bool print_property(const proof_bundle_t *b) {
  ve_slice_t v = ve_buf_slice(&b->value);
  char h[65];
  if (key_is(b, "prop/p/", LEDGER_HASH_BYTES)) {
    static property_title_t t;
    if (property_title_decode(v, b->key.ptr + 7, &t) != VE_OK) return false;
    printf("  title of parcel %s (id %s), version %llu, updated at height %llu\n", t.cadastral, hex32(h, t.id),
           (unsigned long long)t.version, (unsigned long long)t.updated_height);
    printf("  area %llu m2%s%s, last deed %s\n", (unsigned long long)t.area_m2, t.district[0] ? ", district " : "",
           t.district, hex32(h, t.last_deed));
    printf("  status %s\n", property_status_name(t.status));
    for (size_t i = 0; i < t.n_parents; i++) printf("  parent %s\n", hex32(h, t.parents[i]));
    for (size_t i = 0; i < t.n_children; i++) printf("  child %s\n", hex32(h, t.children[i]));
    print_owners(t.owners, t.n_owners);
    for (size_t i = 0; i < t.n_encumbrances; i++)
      printf("  encumbrance %llu: %s held by %s\n", (unsigned long long)t.encumbrances[i].number,
             property_enc_kind_name(t.encumbrances[i].kind), hex32(h, t.encumbrances[i].holder));
    if (!t.n_encumbrances) printf("  no encumbrances\n");
    return true;
  }
  if (key_is(b, "prop/h/", LEDGER_HASH_BYTES + 8)) {
    uint64_t version = 0;
    for (size_t i = 0; i < 8; i++) version = version << 8 | b->key.ptr[7 + LEDGER_HASH_BYTES + i];
    static property_event_t e;
    if (property_event_decode(v, version, &e) != VE_OK) return false;
    printf("  parcel %s, version %llu: %s at height %llu, document %s\n", hex32(h, b->key.ptr + 7),
           (unsigned long long)version, property_event_kind_name(e.kind), (unsigned long long)e.height,
           hex32(h, e.digest));
    if (e.kind == PROPERTY_EV_REGISTER || e.kind == PROPERTY_EV_TRANSFER || e.kind == PROPERTY_EV_ORIGIN)
      print_owners(e.owners, e.n_owners);
    if (e.kind == PROPERTY_EV_ORIGIN || e.kind == PROPERTY_EV_SUBDIVIDE || e.kind == PROPERTY_EV_MERGE) {
      const char *rel = e.kind == PROPERTY_EV_ORIGIN ? "parent" : "child";
      for (size_t i = 0; i < e.n_lineage; i++) printf("  %s %s\n", rel, hex32(h, e.lineage[i]));
    } else if (e.kind != PROPERTY_EV_REGISTER && e.kind != PROPERTY_EV_TRANSFER) {
      printf("  encumbrance %llu: %s held by %s\n", (unsigned long long)e.number, property_enc_kind_name(e.enc_kind),
             hex32(h, e.holder));
      if (e.kind == PROPERTY_EV_HOLDER_REPLACE) printf("  new holder %s\n", hex32(h, e.new_holder));
    }
    return true;
  }
  return false;
}

/* A pack ("phr/k/" || pack key) whose code hashes to its key, summarised. */
static bool print_pack(const proof_bundle_t *b) {
  if (!key_is(b, "phr/k/", LEDGER_HASH_BYTES)) return false;
  pharma_pack_t p;
  uint8_t k[LEDGER_HASH_BYTES];
  if (pharma_pack_decode(ve_buf_slice(&b->value), &p) != VE_OK) return false;
  pharma_pack_key(k, &p.ref);
  if (memcmp(k, b->key.ptr + 6, sizeof k)) return false;
  char h[65];
  printf("  pack GTIN %s serial %s, batch %s\n  status %s%s%s, custodian %s in %s, %u events, last change at "
         "height %llu\n",
         p.ref.gtin, p.ref.serial, p.batch, pharma_pack_status_name(p.status),
         p.status == PHARMA_PACK_DECOMMISSIONED ? ": " : "",
         p.status == PHARMA_PACK_DECOMMISSIONED ? pharma_reason_name(p.reason) : "", hex32(h, p.custodian), p.country,
         p.n_events, (unsigned long long)p.height);
  if (p.in_container) printf("  in container %.18s\n", p.sscc);
  return true;
}

/* A shipping container ("phr/c/" || SSCC), summarised. */
static bool print_container(const proof_bundle_t *b) {
  if (!key_is(b, "phr/c/", PHARMA_SSCC_BYTES)) return false;
  static pharma_container_t c; /* ~32 KiB */
  if (pharma_container_decode(ve_buf_slice(&b->value), &c) != VE_OK) return false;
  char h[65];
  printf("  container SSCC %.18s: %s, custodian %s in %s", (const char *)b->key.ptr + 6,
         pharma_container_status_name(c.status), hex32(h, c.custodian), c.country);
  if (c.status == PHARMA_CONTAINER_IN_TRANSIT) printf(", to %s in %s", hex32(h, c.recipient), c.dest);
  printf("\n  %zu packs, packed by %s at height %llu, last change at height %llu\n", c.n_packs,
         hex32(h, c.packer), (unsigned long long)c.packed_height, (unsigned long long)c.height);
  return true;
}

/* The council ("gov/council") or a proposal ("gov/p/" || id), summarised. A
 * proposal's status is the one written (open, executed, rejected): expired and
 * stale depend on a clock and a council the bundle does not prove. */
static bool print_gov(const proof_bundle_t *b) {
  ve_slice_t v = ve_buf_slice(&b->value);
  char h[65];
  if (key_is(b, GOV_COUNCIL_KEY, 0)) {
    static gov_council_t c;
    if (gov_council_decode(v, &c) != VE_OK) return false;
    printf("  council epoch %llu: %u of %u members decide\n", (unsigned long long)c.epoch, c.k, c.n);
    for (uint32_t i = 0; i < c.n; i++) printf("  member %s\n", hex32(h, c.members[i]));
    return true;
  }
  if (key_is(b, GOV_PROPOSAL_PREFIX, LEDGER_HASH_BYTES)) {
    gov_proposal_t p;
    const uint8_t *id = b->key.ptr + sizeof GOV_PROPOSAL_PREFIX - 1;
    if (gov_proposal_decode(v, id, &p) != VE_OK) return false;
    printf("  proposal %s of council epoch %llu: %s (as written)\n", hex32(h, id), (unsigned long long)p.epoch,
           gov_status_name(p.status));
    printf("  action: type 0x%04x, %zu payload bytes; proposed by %s at height %llu\n", (unsigned)p.inner_type,
           p.inner_payload.len, hex32(h, p.proposer), (unsigned long long)p.created);
    printf("  %u approvals, %u objections", gov_count(p.approvals), gov_count(p.rejections));
    if (p.decided) printf("; decided at height %llu", (unsigned long long)p.decided);
    printf("\n");
    return true;
  }
  return false;
}

static void print_value(const proof_bundle_t *b) {
  /* Identity records, titles, title history, packs, containers and the council's records
   * get a readable summary; any other value is shown in hex. */
  if (print_property(b) || print_pack(b) || print_container(b) || print_gov(b)) return;
  identity_t rec;
  if (b->key.len == 3 + LEDGER_HASH_BYTES && !memcmp(b->key.ptr, "id/", 3) &&
      identity_decode(ve_buf_slice(&b->value), b->key.ptr + 3, &rec) == VE_OK) {
    char id[65], pk[65];
    ve_hex_encode(id, rec.id, 32);
    ve_hex_encode(pk, rec.pk, 32);
    printf("  identity %s\n  status %s, current key %s, key version %u, registered at height %llu\n", id,
           identity_status_name(rec.status), pk, rec.key_version, (unsigned long long)rec.registered_height);
    printf("  roles:");
    for (uint32_t bit = 1; bit & ROLE_ALL_MASK; bit <<= 1)
      if (rec.roles & bit) printf(" %s", ledger_role_name(bit));
    printf("%s\n", rec.roles ? "" : " none");
    for (size_t i = 0; i < rec.n_attrs; i++) printf("  %s = %s\n", rec.attrs[i].key, rec.attrs[i].value);
    return;
  }
  char *hex = malloc(2 * b->value.len + 1);
  if (!hex) return;
  ve_hex_encode(hex, b->value.ptr, b->value.len);
  printf("  value: %s\n", hex);
  free(hex);
}

int cmd_verify(int argc, char **argv) {
  static const struct option opts[] = {{"genesis", 1, 0, 'g'}, {"bundle", 1, 0, 'b'}, {"valset", 1, 0, 'v'},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *gpath = NULL, *bpath = NULL, *vpath = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (o == 'g') gpath = optarg;
    else if (o == 'b') bpath = optarg;
    else if (o == 'v') vpath = optarg;
    else if (o == 'h') cli_help(VERIFY_USAGE);
    else cli_usage(VERIFY_USAGE);
  }
  if (!gpath || !bpath || optind != argc) cli_usage(VERIFY_USAGE);
  char err[512] = "";
  static ledger_genesis_t g;
  if (node_genesis_load(gpath, &g, err, sizeof err)) cli_die("%s", err);
  cons_valset_t vs;
  if (valset_from_genesis(&g, &vs)) cli_die("%s: bad validator set", gpath);
  /* A set file naming its epoch is a starting point; one without is an era's set. */
  uint64_t epoch = 0, from = 1;
  bool era = false;
  if (vpath) {
    json_t *sj;
    if (node_json_load(vpath, VSC_SET_FILE_BYTES_MAX, &sj, err, sizeof err)) cli_die("%s", err);
    if (vsc_set_from_json(sj, &vs, err, sizeof err)) cli_die("%s: %s", vpath, err);
    json_t *e = json_object_get(sj, "epoch"), *f = json_object_get(sj, "from_height");
    era = !e && !f;
    if (!era && (!json_is_integer(e) || json_integer_value(e) < 0 || !json_is_integer(f) ||
                 json_integer_value(f) < 1))
      cli_die("%s: \"epoch\" (0 or more) and \"from_height\" (1 or more) go together", vpath);
    if (!era) epoch = (uint64_t)json_integer_value(e), from = (uint64_t)json_integer_value(f);
    json_decref(sj);
  }
  json_error_t je;
  json_t *j = json_load_file(bpath, JSON_REJECT_DUPLICATES, &je);
  if (!j) cli_die("%s:%d:%d: %s", bpath, je.line, je.column, je.text);
  proof_bundle_t b;
  proof_bundle_init(&b);
  char reason[PROOF_REASON_BYTES_MAX] = "";
  int rc = proof_bundle_from_json(j, &b, reason, sizeof reason);
  json_decref(j);
  proof_result_t res;
  if (rc == VE_OK && era) rc = proof_bundle_verify_era(&b, g.chain_id, &vs, &res, reason, sizeof reason);
  else if (rc == VE_OK)
    rc = proof_bundle_verify_from(&b, g.chain_id, &vs, epoch, from, &res, reason, sizeof reason);
  char khex[2 * 256 + 1];
  ve_hex_encode(khex, b.key.ptr, b.key.len < 256 ? b.key.len : 256);
  if (rc) {
    printf("NOT PROVEN: %s\n", reason[0] ? reason : ve_strerror(rc));
    proof_bundle_free(&b);
    return 1;
  }
  char bh[65];
  ve_hex_encode(bh, res.block_hash, 32);
  printf("PROVEN: on chain %s, after height %llu, state key %s %s\n", g.chain_id,
         (unsigned long long)b.height, khex, b.present ? "has this value" : "is absent");
  if (b.present) print_value(&b);
  printf("  anchored in block %llu (hash %s), certified by %u validator signatures\n"
         "  holding more than 2/3 of the total power %llu of %s\n",
         (unsigned long long)b.height + 1, bh, res.signatures, (unsigned long long)res.total_power,
         res.valset_changes ? "the validator set governing it"
         : vpath            ? "the validator set you gave (--valset)"
                            : "the genesis validators");
  if (res.valset_changes)
    printf("  that set followed from %s through %u validator-set change%s, each certified\n"
           "  by the set before it:\n", vpath ? "the set you gave (--valset)" : "the genesis set",
           res.valset_changes, res.valset_changes == 1 ? "" : "s");
  for (uint32_t i = 0; res.valset_changes && i < b.n_links; i++) {
    uint64_t first;
    cons_valset_t set;
    if (b.links[i].epoch <= epoch) continue; /* covered by the trusted set, not followed */
    if (valset_record_decode(ve_buf_slice(&b.links[i].record), &first, &set)) continue; /* verified: cannot fail */
    printf("    epoch %llu from height %llu: %u validators, total power %llu\n",
           (unsigned long long)b.links[i].epoch, (unsigned long long)first, set.count,
           (unsigned long long)cons_valset_total_power(&set));
  }
  proof_bundle_free(&b);
  return 0;
}
