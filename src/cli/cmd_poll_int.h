/* cmd_poll_int.h — what the `veche poll` and `veche audit` files share:
 * fetching and decoding poll records from a node, signing and submitting
 * poll transactions, trustee key files. Not a public header. */
#ifndef VECHE_CLI_CMD_POLL_INT_H
#define VECHE_CLI_CMD_POLL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/voting/voting.h"
#include "cli/cli.h"
#include "proof/proof.h"

#define PC_TRUSTEE_KEY_FORMAT "veche-trustee-key"
#define PC_RECEIPT_FORMAT "veche-ballot-receipt"

/* Options every transaction-posting subcommand takes. */
typedef struct {
  const char *node;
  const char *key;      /* signer's Ed25519 key file */
  uint64_t seq;         /* 0: the signer's next, from the node */
  uint64_t expiry;      /* 0: height + 1000 */
  bool wait;            /* wait for the result; exit 1 if it fails */
  bool print;           /* print the signed tx instead of submitting */
} pc_txopts_t;

/* Long options every poster takes (put first in a getopt_long table), and
 * their handler: true if c was one of them. */
#define PC_TXOPTS_LONG                                                                        \
  {"node", 1, 0, 'n'}, {"key", 1, 0, 'k'}, {"seq", 1, 0, 's'}, {"expiry", 1, 0, 'e'},       \
      {"wait", 0, 0, 'w'}, {"print", 0, 0, 'p'}, {"help", 0, 0, 'h'}
bool pc_txopt(int c, const char *arg, pc_txopts_t *o);
#define PC_TXOPTS_HELP                                                                        \
  "  --node HOST:PORT   node to use (default $VECHE_NODE or " CLI_NODE_DEFAULT ")\n"          \
  "  --seq N            sequence number (default: the signer's next, from the node)\n"       \
  "  --expiry N         last height the tx may execute at (default: height + 1000)\n"       \
  "  --wait             wait until the tx is committed (exit 1 if it fails)\n"               \
  "  --print            print the signed tx hex instead of submitting\n"

/* What a signer needs to build transactions. */
typedef struct {
  cli_node_t node;
  vcrypto_keypair_t kp;
  uint8_t identity[32];             /* the signer's identity (asked from the node) */
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  uint64_t height;                  /* the node's tip */
  uint64_t next_seq;
} pc_signer_t;

/* Loads the key and asks the node for chain id, tip, identity and sequence. */
void pc_signer_open(pc_signer_t *s, const pc_txopts_t *o);
void pc_signer_close(pc_signer_t *s);
ve_slice_t pc_chain(const pc_signer_t *s);

/* Signs and submits (or prints) one transaction with the next sequence number.
 * Prints a JSON line {"tx": id, "status": ...}. Returns the exit status: 0 if
 * accepted (and, with --wait, committed), 1 otherwise. id_out (may be NULL)
 * gets the tx id in hex. */
int pc_submit(pc_signer_t *s, const pc_txopts_t *o, uint32_t type, ve_slice_t payload, char id_out[65]);

/* Fetches GET /v1/polls/ID and decodes its records (dies on error). tally may
 * be NULL; *have_tally says whether the tally record exists. Returns the node's
 * tip height. */
uint64_t pc_poll_fetch(const cli_node_t *n, const uint8_t id[32], voting_poll_t *p, voting_tally_rec_t *tally,
                       bool *have_tally);
/* Dealings of a poll from GET /v1/polls/ID/dkg, into bufs[i-1] (len 0 if none). */
void pc_dealings_fetch(const cli_node_t *n, const voting_poll_t *p, ve_buf_t *bufs);

/* A height argument: "N" or "+N" (relative to base). Dies on a bad value. */
uint64_t pc_height_arg(const char *what, const char *s, uint64_t base);

/* Trustee key files: JSON {format, version, seed, enc_pk}, mode 0600. */
void pc_trustee_key_write(const char *path, const uint8_t seed[32]);
void pc_trustee_key_read(const char *path, vote_keypair_t *kp);

/* Loads a genesis file and its validator set (dies on error). */
void pc_genesis_load(const char *path, ledger_genesis_t *g, cons_valset_t *vs);

/* Decodes lower-case or upper-case hex of any even length into a new buffer. */
int pc_hex_decode(const char *hex, ve_buf_t *out, size_t max);

/* Subcommands in other files. */
int cmd_poll_dkg(int argc, char **argv);     /* cmd_poll_trustee.c */
int cmd_poll_decrypt(int argc, char **argv); /* cmd_poll_trustee.c */
int cmd_poll_trustee_keygen(int argc, char **argv);
int cmd_poll_trustee_register(int argc, char **argv);

#endif
