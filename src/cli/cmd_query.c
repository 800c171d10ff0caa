/* cmd_query.c — `veche query`: read-only questions to a node. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char QUERY_USAGE[] =
    "usage: veche query WHAT [ARG] [--node HOST:PORT]\n"
    "\n"
    "  status            chain id, height, roots, mempool\n"
    "  block H|latest    block header, tx ids and certificate\n"
    "  tx ID             pending, committed at height H, failed or rejected with the reason\n"
    "  identity ID       identity record by id\n"
    "  key PK            identity record by (current or former) public key\n"
    "  signer PK         identity and next sequence number for a signing key\n";

int cmd_query(int argc, char **argv) {
  const char *node_addr = NULL;
  const char *args[3] = {0};
  int n_args = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--node") && i + 1 < argc) node_addr = argv[++i];
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) cli_help(QUERY_USAGE);
    else if (n_args < 3) args[n_args++] = argv[i];
    else cli_usage(QUERY_USAGE);
  }
  if (n_args < 1) cli_usage(QUERY_USAGE);
  char path[256];
  const char *what = args[0];
  if (!strcmp(what, "status") && n_args == 1) snprintf(path, sizeof path, "/v1/status");
  else if (!strcmp(what, "block") && n_args == 2) snprintf(path, sizeof path, "/v1/blocks/%s", args[1]);
  else if (!strcmp(what, "tx") && n_args == 2) snprintf(path, sizeof path, "/v1/txs/%s", args[1]);
  else if (!strcmp(what, "identity") && n_args == 2) snprintf(path, sizeof path, "/v1/identities/%s", args[1]);
  else if (!strcmp(what, "key") && n_args == 2) snprintf(path, sizeof path, "/v1/keys/%s", args[1]);
  else if (!strcmp(what, "signer") && n_args == 2) snprintf(path, sizeof path, "/v1/signers/%s", args[1]);
  else cli_usage(QUERY_USAGE);
  if (strlen(args[n_args - 1]) > 128) cli_die("argument too long");
  cli_node_t node;
  cli_node_parse(&node, node_addr);
  json_t *j = NULL;
  int st = cli_http_json(&node, "GET", path, NULL, &j);
  if (st != 200) {
    const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
    const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
    fprintf(stderr, "veche: %d %s: %s\n", st, e ? e : "error", m ? m : "");
    json_decref(j);
    return 1;
  }
  cli_print_json(j);
  json_decref(j);
  return 0;
}
