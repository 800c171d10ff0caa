/* cli.h — helpers shared by the `veche` subcommands. */
#ifndef VECHE_CLI_CLI_H
#define VECHE_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "crypto/crypto.h"

#define CLI_NODE_DEFAULT "127.0.0.1:8645"
#define CLI_HTTP_TIMEOUT_MS 30000
#define CLI_WAIT_MS_MAX 60000
#define CLI_WAIT_POLL_MS 50

typedef struct {
  char host[64];
  uint16_t port;
} cli_node_t;

/* Prints "veche: <message>" to stderr and exits with status 1 (2 for usage). */
_Noreturn void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void cli_usage(const char *usage); /* stderr, exit 2 */
_Noreturn void cli_help(const char *usage);  /* stdout, exit 0 */

/* Parses HOST:PORT (or http://HOST:PORT); dies on error. NULL: $VECHE_NODE or default. */
void cli_node_parse(cli_node_t *n, const char *s);
/* GET/POST JSON; dies if the node cannot be reached. Returns the HTTP status. */
int cli_http_json(const cli_node_t *n, const char *method, const char *path, json_t *body,
                  json_t **out);
/* Polls GET /v1/txs/<id> every CLI_WAIT_POLL_MS until the transaction is no
 * longer pending, for at most CLI_WAIT_MS_MAX; dies if it stays pending (or
 * unknown) that long. Returns the node's final answer (status "committed" or a
 * refusal with error and message); the caller owns it. */
json_t *cli_wait_final(const cli_node_t *n, const char *id);
/* The "status" string of a /v1/txs answer is "committed". */
bool cli_tx_committed(const json_t *answer);
/* Prints JSON pretty to stdout. */
void cli_print_json(const json_t *j);
/* A group of subcommands (`veche valset show`, ...): argv[1] names one; runs
 * it with argv shifted to it and getopt reset, answers --help/-h/help with
 * usage on stdout, and anything else with usage on stderr and status 2. */
typedef struct {
  const char *name;
  int (*fn)(int argc, char **argv);
} cli_cmd_t;
int cli_subcommand(const char *group, const char *usage, const cli_cmd_t *cmds, size_t n, int argc, char **argv);
/* Strict decimal (digits only, no sign, fits 64 bits); dies naming what otherwise. */
uint64_t cli_u64_arg(const char *what, const char *s);
/* j's string k, or "" (never NULL). */
const char *cli_jstr(const json_t *j, const char *k);
/* Dies with a node's error answer to what (status st, j: its JSON or NULL). */
_Noreturn void cli_die_answer(const char *what, int st, const json_t *j);
/* GET path from node n: the JSON answer (caller decrefs), or dies with
 * cli_die_answer(what, ...) on anything but 200 with a body. */
json_t *cli_get_json(const cli_node_t *n, const char *path, const char *what);
/* j, indented, to stdout (out NULL) or to the new file out: an existing file
 * is never replaced (a mistyped --out could be a key). Dies on failure. */
void cli_json_write_new(const json_t *j, const char *out);
void cli_load_key(const char *path, vcrypto_keypair_t *kp);
/* A fresh key pair written to dir/name (mode 0600, never over a file); dies on error. */
void cli_key_new(const char *dir, const char *name, vcrypto_keypair_t *kp);
/* Writes a genesis at path: chain id, the n validators (power 10 each, named
 * validator-<i>), one founding authority holding every role, and the protocol
 * block 1 runs (1: a chain to upgrade later; >= LEDGER_PROTOCOL_COUNCIL: the
 * founding authority is the first council, k = 1); dies on error. */
void cli_genesis_write(const char *path, const char *chain, const vcrypto_keypair_t *validators, size_t n,
                       const uint8_t authority_pk[VCRYPTO_PK_BYTES], uint32_t protocol);
/* --protocol N: 1..LEDGER_PROTOCOL_IMPLEMENTED; dies (usage status 2) otherwise. */
uint32_t cli_protocol_arg(const char *s);
void cli_hex32(const char *what, const char *hex, uint8_t out[32]);

int cmd_init(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_tx(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_proof(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_testnet(int argc, char **argv);       /* cmd_testnet.c */
int cmd_init_observer(int argc, char **argv); /* cmd_testnet.c */
int cmd_doc(int argc, char **argv);   /* cmd_doc.c */
int cmd_poll(int argc, char **argv);  /* cmd_poll.c */
int cmd_audit(int argc, char **argv); /* cmd_audit.c */
int cmd_backup(int argc, char **argv); /* cmd_backup.c */
int cmd_valset(int argc, char **argv); /* cmd_valset.c */
int cmd_upgrade(int argc, char **argv); /* cmd_upgrade.c */
int cmd_property(int argc, char **argv); /* cmd_property.c */
int cmd_gov(int argc, char **argv);      /* cmd_gov.c */
int cmd_pharma(int argc, char **argv);   /* cmd_pharma.c */

#endif
