/* cmd_init.c — `veche init` (a one-validator network in a directory), `veche keys`
 * and `veche start`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apps/identity/identity.h"
#include "base/err.h"
#include "cli/cli.h"
#include "consensus/consensus.h"
#include "node/config.h"
#include "node/node.h"

static const char INIT_USAGE[] =
    "usage: veche init --dir DIR [--chain-id ID] [--api-port PORT] [--protocol N]\n"
    "\n"
    "Creates a one-validator network in DIR: a validator key, a founding authority\n"
    "key holding every role, genesis.json and config.json. Start it with\n"
    "`veche start --dir DIR`. Keys are written with mode 0600.\n"
    "\n"
    "  --protocol N   the protocol the chain starts at (default: the newest this\n"
    "                 release implements, 3). From protocol 2 the\n"
    "                 admin role acts only through council decisions (`veche gov`)\n"
    "                 and the founding authority is the first council (1 of 1);\n"
    "                 protocol 3 adds parcel subdivision and merger (`veche\n"
    "                 property`) and shipping containers (`veche pharma`).\n"
    "                 --protocol 1: one admin key decides alone, until the\n"
    "                 validators upgrade the chain (`veche upgrade`) and appoint\n"
    "                 a council (`veche gov council-set`).\n";

_Static_assert(LEDGER_PROTOCOL_IMPLEMENTED == 3, "INIT_USAGE and TESTNET_USAGE name the newest protocol");

int cmd_init(int argc, char **argv) {
  static const struct option opts[] = {{"dir", 1, 0, 'd'}, {"chain-id", 1, 0, 'c'},
                                       {"api-port", 1, 0, 'p'}, {"protocol", 1, 0, 'P'}, {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *dir = NULL, *chain = "veche-local-1";
  long port = 8645;
  uint32_t protocol = LEDGER_PROTOCOL_IMPLEMENTED;
  int o;
  while ((o = getopt_long(argc, argv, "d:c:p:h", opts, NULL)) != -1) {
    if (o == 'd') dir = optarg;
    else if (o == 'P') protocol = cli_protocol_arg(optarg);
    else if (o == 'c') chain = optarg;
    else if (o == 'p') port = strtol(optarg, NULL, 10);
    else if (o == 'h') cli_help(INIT_USAGE);
    else cli_usage(INIT_USAGE);
  }
  if (!dir) cli_usage(INIT_USAGE);
  if (port <= 0 || port > 65535) cli_die("--api-port must be 1..65535");
  if (strlen(chain) == 0 || strlen(chain) > VE_CHAIN_ID_BYTES_MAX) cli_die("--chain-id must be 1..64 chars");
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) cli_die("cannot create %s: %s", dir, strerror(errno));
  char path[NODE_PATH_BYTES_MAX];
  node_path_join(path, sizeof path, dir, "genesis.json");
  struct stat st;
  if (stat(path, &st) == 0) cli_die("%s already exists; refusing to overwrite a network", path);

  vcrypto_keypair_t val, auth;
  cli_key_new(dir, "validator.key", &val);
  cli_key_new(dir, "authority.key", &auth);
  cli_genesis_write(path, chain, &val, 1, auth.pk, protocol);

  node_config_t c;
  node_config_defaults(&c);
  snprintf(c.key_path, sizeof c.key_path, "validator.key");
  c.api_port = (uint16_t)port;
  node_path_join(path, sizeof path, dir, "config.json");
  if (node_config_write(path, &c)) cli_die("cannot write %s", path);

  char hex[65], id[65];
  uint8_t idb[32];
  identity_id_from_pk(idb, auth.pk);
  ve_hex_encode(id, idb, 32);
  ve_hex_encode(hex, auth.pk, 32);
  printf("initialised chain %s in %s (protocol %u%s)\n", chain, dir, protocol,
         protocol >= LEDGER_PROTOCOL_COUNCIL ? ": the founding authority is the council, 1 of 1" : "");
  printf("  founding authority key: %s/authority.key (pk %s, identity %s)\n", dir, hex, id);
  ve_hex_encode(hex, val.pk, 32);
  printf("  validator key:          %s/validator.key (pk %s)\n", dir, hex);
  printf("start it with: veche start --dir %s\n", dir);
  vcrypto_keypair_wipe(&val);
  vcrypto_keypair_wipe(&auth);
  return 0;
}

static const char KEYS_USAGE[] =
    "usage: veche keys gen --out FILE     new Ed25519 key (mode 0600); prints pk and identity id\n"
    "       veche keys show FILE          prints pk and identity id of a key file\n";

int cmd_keys(int argc, char **argv) {
  if (argc < 2) cli_usage(KEYS_USAGE);
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) cli_help(KEYS_USAGE);
  vcrypto_keypair_t kp;
  if (!strcmp(argv[1], "gen")) {
    if (argc != 4 || strcmp(argv[2], "--out")) cli_usage(KEYS_USAGE);
    vcrypto_keypair_generate(&kp);
    int rc = vcrypto_keyfile_write(argv[3], &kp);
    if (rc) cli_die("%s: %s", argv[3], ve_strerror(rc));
  } else if (!strcmp(argv[1], "show")) {
    if (argc != 3) cli_usage(KEYS_USAGE);
    cli_load_key(argv[2], &kp);
  } else {
    cli_usage(KEYS_USAGE);
  }
  uint8_t id[32];
  identity_id_from_pk(id, kp.pk);
  char pk_hex[65], id_hex[65];
  ve_hex_encode(pk_hex, kp.pk, 32);
  ve_hex_encode(id_hex, id, 32);
  printf("{\"pk\": \"%s\", \"id\": \"%s\"}\n", pk_hex, id_hex);
  vcrypto_keypair_wipe(&kp);
  return 0;
}

static const char START_USAGE[] =
    "usage: veche start (--dir DIR | --config FILE) [--sign-from H]\n"
    "\n"
    "Runs a node in the foreground until Ctrl-C (SIGINT) or SIGTERM. DIR holds\n"
    "config.json as written by `veche init`.\n"
    "\n"
    "  --sign-from H  a validator signs nothing below height H (H >= 1, above the\n"
    "                 store's height). Required once to start a validator on a\n"
    "                 store restored from `veche backup`: it may have signed after\n"
    "                 the backup, and signing again there could equivocate. Give\n"
    "                 the highest height the other nodes show (GET /health) + 2.\n"
    "                 H is kept in the store, and honoured at every start, until\n"
    "                 this node has committed height H; later, a stale H is\n"
    "                 ignored (unless the store is a fresh backup).\n";

int cmd_start(int argc, char **argv) {
  static const struct option opts[] = {{"dir", 1, 0, 'd'}, {"config", 1, 0, 'c'}, {"sign-from", 1, 0, 's'},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  char path[NODE_PATH_BYTES_MAX] = "";
  uint64_t sign_from = 0;
  int o;
  while ((o = getopt_long(argc, argv, "d:c:s:h", opts, NULL)) != -1) {
    if (o == 'd') node_path_join(path, sizeof path, optarg, "config.json");
    else if (o == 'c') snprintf(path, sizeof path, "%s", optarg);
    else if (o == 's') {
      char *end;
      errno = 0;
      unsigned long long h = strtoull(optarg, &end, 10);
      if (errno || end == optarg || *end || optarg[0] == '-' || h == 0 || h > CONS_HEIGHT_MAX)
        cli_die("--sign-from must be a height >= 1, not \"%s\"", optarg);
      sign_from = h;
    }
    else if (o == 'h') cli_help(START_USAGE);
    else cli_usage(START_USAGE);
  }
  if (!path[0]) cli_usage(START_USAGE);
  node_config_t cfg;
  char err[512] = "";
  if (node_config_load(path, &cfg, err, sizeof err)) cli_die("%s", err);
  cfg.sign_from_height = sign_from;
  node_t *n;
  int rc = node_open(&cfg, &n, err, sizeof err);
  if (rc) cli_die("%s", err[0] ? err : ve_strerror(rc));
  rc = node_run(n);
  node_close(n);
  if (rc == VE_ERR_VERSION)
    cli_die("node stopped: the chain moved to a protocol version this release does not implement (the log above "
            "says which and from what height); install a release that implements it and start again");
  if (rc) cli_die("node stopped: %s", ve_strerror(rc));
  return 0;
}
