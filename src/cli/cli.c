/* cli.c — shared helpers: errors, node address, HTTP, keys. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/http_client.h"
#include "base/err.h"
#include "node/config.h"

_Noreturn void cli_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("veche: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

_Noreturn void cli_usage(const char *usage) {
  fputs(usage, stderr);
  exit(2);
}

_Noreturn void cli_help(const char *usage) {
  fputs(usage, stdout);
  exit(0);
}

void cli_node_parse(cli_node_t *n, const char *s) {
  if (!s) s = getenv("VECHE_NODE");
  if (!s || !*s) s = CLI_NODE_DEFAULT;
  if (!strncmp(s, "http://", 7)) s += 7;
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s || (size_t)(colon - s) >= sizeof n->host)
    cli_die("bad node address \"%s\" (want HOST:PORT)", s);
  memcpy(n->host, s, (size_t)(colon - s));
  n->host[colon - s] = 0;
  char *end;
  unsigned long p = strtoul(colon + 1, &end, 10);
  if ((*end && strcmp(end, "/")) || p == 0 || p > 65535) cli_die("bad port in \"%s\"", s);
  n->port = (uint16_t)p;
}

int cli_http_json(const cli_node_t *n, const char *method, const char *path, json_t *body,
                  json_t **out) {
  int status = 0;
  int rc = http_request_json(n->host, n->port, method, path, body, CLI_HTTP_TIMEOUT_MS, &status, out);
  if (rc) cli_die("cannot reach node at %s:%u: %s", n->host, n->port, ve_strerror(rc));
  return status;
}

json_t *cli_wait_final(const cli_node_t *n, const char *id) {
  char path[128];
  snprintf(path, sizeof path, "/v1/txs/%s", id);
  const struct timespec step = {0, CLI_WAIT_POLL_MS * 1000L * 1000L};
  for (int waited = 0; waited < CLI_WAIT_MS_MAX; waited += CLI_WAIT_POLL_MS) {
    json_t *j = NULL;
    int st = cli_http_json(n, "GET", path, NULL, &j);
    const char *s = j ? json_string_value(json_object_get(j, "status")) : NULL;
    if (st == 200 && s && strcmp(s, "pending") != 0) return j;
    json_decref(j);
    nanosleep(&step, NULL);
  }
  cli_die("transaction %s not final within %d s", id, CLI_WAIT_MS_MAX / 1000);
}

bool cli_tx_committed(const json_t *answer) {
  const char *s = json_string_value(json_object_get(answer, "status"));
  return s && !strcmp(s, "committed");
}

void cli_print_json(const json_t *j) {
  char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (s) puts(s);
  free(s);
}

int cli_subcommand(const char *group, const char *usage, const cli_cmd_t *cmds, size_t n, int argc, char **argv) {
  if (argc < 2) cli_usage(usage);
  const char *sub = argv[1];
  if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) cli_help(usage);
  optind = 1;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(sub, cmds[i].name)) return cmds[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "veche: %s: unknown command \"%s\"\n", group, sub);
  fputs(usage, stderr);
  return 2;
}

uint64_t cli_u64_arg(const char *what, const char *s) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || *end || errno) cli_die("%s must be a decimal number, not \"%s\"", what, s);
  return v;
}

const char *cli_jstr(const json_t *j, const char *k) {
  const char *s = json_string_value(json_object_get(j, k));
  return s ? s : "";
}

_Noreturn void cli_die_answer(const char *what, int st, const json_t *j) {
  cli_die("%s: %d %s: %s", what, st, j ? cli_jstr(j, "error") : "no answer", j ? cli_jstr(j, "message") : "");
}

json_t *cli_get_json(const cli_node_t *n, const char *path, const char *what) {
  json_t *j = NULL;
  int st = cli_http_json(n, "GET", path, NULL, &j);
  if (st != 200 || !j) cli_die_answer(what, st, j);
  return j;
}

void cli_json_write_new(const json_t *j, const char *out) {
  char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
  if (!text) cli_die("out of memory");
  FILE *f = out ? fopen(out, "wx") : stdout; /* "x": never over an existing file */
  if (!f) cli_die("%s: %s", out, errno == EEXIST ? "exists; refusing to overwrite it" : strerror(errno));
  bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
  free(text);
  bool closed = !out || fclose(f) == 0;
  if (!ok || !closed) cli_die("%s: cannot write", out ? out : "stdout");
}

void cli_load_key(const char *path, vcrypto_keypair_t *kp) {
  if (!path) cli_die("--key FILE is required");
  int rc = vcrypto_keyfile_read(path, kp);
  if (rc == VE_ERR_CONFIG) cli_die("%s: key file is readable by others; run chmod 600 %s", path, path);
  if (rc) cli_die("%s: cannot read key: %s", path, ve_strerror(rc));
}

void cli_key_new(const char *dir, const char *name, vcrypto_keypair_t *kp) {
  char path[NODE_PATH_BYTES_MAX];
  node_path_join(path, sizeof path, dir, name);
  vcrypto_keypair_generate(kp);
  int rc = vcrypto_keyfile_write(path, kp);
  if (rc) cli_die("%s: cannot write key: %s", path, ve_strerror(rc));
}

void cli_genesis_write(const char *path, const char *chain, const vcrypto_keypair_t *validators, size_t n,
                       const uint8_t authority_pk[VCRYPTO_PK_BYTES], uint32_t protocol) {
  static ledger_genesis_t g; /* large; one per process */
  memset(&g, 0, sizeof g);
  snprintf(g.chain_id, sizeof g.chain_id, "%s", chain);
  g.suite = VCRYPTO_SUITE_ED25519_BLAKE2B;
  g.time_ms = (uint64_t)time(NULL) * 1000;
  g.n_validators = n;
  for (size_t i = 0; i < n; i++) {
    snprintf(g.validators[i].name, sizeof g.validators[i].name, "validator-%zu", i);
    memcpy(g.validators[i].pk, validators[i].pk, VCRYPTO_PK_BYTES);
    g.validators[i].power = 10;
  }
  g.n_authorities = 1;
  snprintf(g.authorities[0].name, sizeof g.authorities[0].name, "founding-authority");
  memcpy(g.authorities[0].pk, authority_pk, VCRYPTO_PK_BYTES);
  g.authorities[0].roles = ROLE_ALL_MASK;
  g.protocol = protocol; /* 1 keeps the genesis encoding of version 1 */
  if (node_genesis_write(path, &g)) cli_die("cannot write %s", path);
}

uint32_t cli_protocol_arg(const char *s) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || *end || errno || v < 1 || v > LEDGER_PROTOCOL_IMPLEMENTED) {
    fprintf(stderr, "veche: --protocol must be 1..%d (this release implements those), not \"%s\"\n",
            LEDGER_PROTOCOL_IMPLEMENTED, s);
    exit(2);
  }
  return (uint32_t)v;
}

void cli_hex32(const char *what, const char *hex, uint8_t out[32]) {
  if (!hex || ve_hex_decode(out, 32, hex)) cli_die("%s must be 64 hex characters", what);
}
