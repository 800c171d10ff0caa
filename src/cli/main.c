/* main.c — the `veche` command: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "crypto/crypto.h"

static const char USAGE[] =
    "usage: veche COMMAND [options]      (veche COMMAND --help for details)\n"
    "\n"
    "  init     create a one-validator network in a directory\n"
    "  testnet  create (or run) a local network of validators and observers\n"
    "  init-observer  prepare an observer from a genesis file and one peer\n"
    "  start    run a node in the foreground\n"
    "  backup   copy a node's store while it runs (hot, consistent, marked)\n"
    "  keys     generate or show an Ed25519 key file\n"
    "  tx       build, sign and submit an identity transaction\n"
    "  query    ask a node about status, blocks, transactions, identities\n"
    "  proof    fetch a proof bundle for a state fact from a node\n"
    "  verify   check a proof bundle offline against a trusted genesis\n"
    "  doc      register, share, fetch and verify documents\n"
    "  poll     create polls, run trustee key generation, vote, tally\n"
    "  audit    re-verify a poll's ballots, tally and result\n"
    "  valset   show the validator set; approve and submit changes to it\n"
    "  upgrade  show the protocol version; approve and schedule an upgrade\n"
    "  property record and transfer property titles; show their history\n"
    "  pharma   license parties, commission and trace medicine packs, recall\n"
    "  gov      the council: propose, approve or reject admin actions; appoint it\n";

int main(int argc, char **argv) {
  if (vcrypto_init() != VE_OK) cli_die("libsodium failed to initialise");
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } cmds[] = {{"init", cmd_init}, {"testnet", cmd_testnet}, {"init-observer", cmd_init_observer}, {"start", cmd_start}, {"keys", cmd_keys}, {"tx", cmd_tx}, {"query", cmd_query},
                {"proof", cmd_proof}, {"verify", cmd_verify}, {"doc", cmd_doc}, {"poll", cmd_poll},
                {"audit", cmd_audit}, {"backup", cmd_backup}, {"valset", cmd_valset},
                {"upgrade", cmd_upgrade}, {"property", cmd_property}, {"pharma", cmd_pharma},
                {"gov", cmd_gov}};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    if (!strcmp(argv[1], cmds[i].name)) return cmds[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "veche: unknown command \"%s\"\n", argv[1]);
  fputs(USAGE, stderr);
  return 2;
}
