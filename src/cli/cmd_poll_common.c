/* cmd_poll_common.c — helpers shared by `veche poll` and `veche audit`:
 * signer context, transaction submission, poll fetching, trustee key files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apps/identity/identity.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "cli/cmd_poll_int.h"
#include "node/config.h"

#define PC_KEYFILE_BYTES_MAX 4096

bool pc_txopt(int c, const char *arg, pc_txopts_t *o) {
  switch (c) {
    case 'n': o->node = arg; return true;
    case 'k': o->key = arg; return true;
    case 's': o->seq = pc_height_arg("--seq", arg, 0); return true;
    case 'e': o->expiry = pc_height_arg("--expiry", arg, 0); return true;
    case 'w': o->wait = true; return true;
    case 'p': o->print = true; return true;
  }
  return false;
}

ve_slice_t pc_chain(const pc_signer_t *s) { return ve_slice(s->chain, strlen(s->chain)); }

static const char *jstr(const json_t *j, const char *k) {
  const char *s = json_string_value(json_object_get(j, k));
  return s ? s : "";
}

void pc_signer_open(pc_signer_t *s, const pc_txopts_t *o) {
  memset(s, 0, sizeof *s);
  cli_load_key(o->key, &s->kp);
  cli_node_parse(&s->node, o->node);
  json_t *j = NULL;
  if (cli_http_json(&s->node, "GET", "/v1/status", NULL, &j) != 200 || !j) cli_die("node status unavailable");
  snprintf(s->chain, sizeof s->chain, "%s", jstr(j, "chain_id"));
  s->height = (uint64_t)json_integer_value(json_object_get(j, "height"));
  json_decref(j);
  char hex[65], path[128];
  ve_hex_encode(hex, s->kp.pk, 32);
  snprintf(path, sizeof path, "/v1/signers/%s", hex);
  j = NULL;
  int st = cli_http_json(&s->node, "GET", path, NULL, &j);
  if (st != 200 || !j) cli_die("signer %s cannot sign: %s", hex, j ? jstr(j, "message") : "unknown");
  if (ve_hex_decode(s->identity, 32, jstr(j, "identity"))) cli_die("node sent a bad identity id");
  s->next_seq = o->seq ? o->seq : (uint64_t)json_integer_value(json_object_get(j, "next_seq"));
  json_decref(j);
}

void pc_signer_close(pc_signer_t *s) { vcrypto_keypair_wipe(&s->kp); }

static int wait_tx(const cli_node_t *node, const char *id) {
  json_t *j = cli_wait_final(node, id);
  bool ok = cli_tx_committed(j);
  if (!ok)
    fprintf(stderr, "veche: transaction %s %s: %s: %s\n", id, jstr(j, "status"), jstr(j, "error"), jstr(j, "message"));
  json_decref(j);
  return ok ? 0 : 1;
}

int pc_submit(pc_signer_t *s, const pc_txopts_t *o, uint32_t type, ve_slice_t payload, char id_out[65]) {
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = pc_chain(s), .seq = s->next_seq++,
                    .expiry = o->expiry ? o->expiry : s->height + 1000, .type = type, .payload = payload};
  ve_buf_t enc;
  ve_buf_init(&enc, VE_TX_BYTES_MAX);
  if (ledger_tx_sign(&tx, &s->kp) || ledger_tx_encode(&tx, &enc)) cli_die("cannot sign the transaction");
  uint8_t id[32];
  char idh[65];
  ledger_tx_id(id, ve_buf_slice(&enc));
  ve_hex_encode(idh, id, 32);
  if (id_out) memcpy(id_out, idh, 65);
  char *hex = malloc(2 * enc.len + 1);
  if (!hex) cli_die("out of memory");
  ve_hex_encode(hex, enc.ptr, enc.len);
  ve_buf_free(&enc);
  if (o->print) {
    puts(hex);
    free(hex);
    return 0;
  }
  json_t *res = NULL;
  json_t *body = json_pack("{s:s}", "tx", hex);
  int st = cli_http_json(&s->node, "POST", "/v1/txs", body, &res); /* body is not stolen */
  json_decref(body);
  free(hex);
  if (!res) cli_die("node answered %d without a body", st);
  if (st != 202) {
    fprintf(stderr, "veche: rejected (%d): %s: %s\n", st, jstr(res, "error"), jstr(res, "message"));
    json_decref(res);
    return 1;
  }
  json_decref(res);
  int rc = o->wait ? wait_tx(&s->node, idh) : 0;
  printf("{\"tx\": \"%s\", \"status\": \"%s\"}\n", idh, rc ? "failed" : o->wait ? "committed" : "accepted");
  return rc;
}

int pc_hex_decode(const char *hex, ve_buf_t *out, size_t max) {
  size_t n = hex ? strlen(hex) : 0;
  if (n % 2 || n / 2 > max) return VE_ERR_MALFORMED;
  ve_buf_reset(out);
  VE_TRY(ve_buf_reserve(out, n / 2 + 1));
  if (n && ve_hex_decode(out->ptr, n / 2, hex)) return VE_ERR_MALFORMED;
  out->len = n / 2;
  return VE_OK;
}

uint64_t pc_poll_fetch(const cli_node_t *n, const uint8_t id[32], voting_poll_t *p, voting_tally_rec_t *tally,
                       bool *have_tally) {
  char hex[65], path[128];
  ve_hex_encode(hex, id, 32);
  snprintf(path, sizeof path, "/v1/polls/%s", hex);
  json_t *j = NULL;
  int st = cli_http_json(n, "GET", path, NULL, &j);
  if (st != 200 || !j) cli_die("poll %s: %d %s", hex, st, j ? jstr(j, "message") : "");
  ve_buf_t b;
  ve_buf_init(&b, VOTING_RECORD_BYTES_MAX);
  if (pc_hex_decode(jstr(j, "record"), &b, VOTING_RECORD_BYTES_MAX) || voting_poll_decode(ve_buf_slice(&b), id, p))
    cli_die("poll %s: the node sent a record that does not decode", hex);
  bool ht = false;
  const char *th = json_string_value(json_object_get(j, "tally_record"));
  if (tally && th) {
    if (pc_hex_decode(th, &b, VOTING_RECORD_BYTES_MAX) ||
        voting_tally_decode(ve_buf_slice(&b), p->def.n_options, tally))
      cli_die("poll %s: the node sent a tally that does not decode", hex);
    ht = true;
  }
  if (have_tally) *have_tally = ht;
  uint64_t tip = (uint64_t)json_integer_value(json_object_get(j, "as_of_height"));
  ve_buf_free(&b);
  json_decref(j);
  return tip;
}

void pc_dealings_fetch(const cli_node_t *n, const voting_poll_t *p, ve_buf_t *bufs) {
  char hex[65], path[128];
  ve_hex_encode(hex, p->id, 32);
  snprintf(path, sizeof path, "/v1/polls/%s/dkg", hex);
  json_t *j = NULL;
  if (cli_http_json(n, "GET", path, NULL, &j) != 200 || !j) cli_die("cannot fetch the dealings of %s", hex);
  for (uint32_t i = 0; i < p->def.n_trustees; i++) ve_buf_init(&bufs[i], VOTE_DKG_DEALING_BYTES_MAX);
  size_t k;
  json_t *d;
  json_array_foreach(json_object_get(j, "dealings"), k, d) {
    json_int_t i = json_integer_value(json_object_get(d, "dealer"));
    if (i < 1 || i > (json_int_t)p->def.n_trustees ||
        pc_hex_decode(jstr(d, "dealing"), &bufs[i - 1], VOTE_DKG_DEALING_BYTES_MAX))
      cli_die("the node sent a bad dealing");
  }
  json_decref(j);
}

uint64_t pc_height_arg(const char *what, const char *s, uint64_t base) {
  bool rel = s[0] == '+';
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s + rel, &end, 10);
  if (!s[rel] || *end || errno || v > (1ull << 40)) cli_die("%s must be a height N or +N", what);
  return rel ? base + v : v;
}

void pc_trustee_key_write(const char *path, const uint8_t seed[32]) {
  vote_keypair_t kp;
  vote_keypair_from_seed(&kp, seed);
  char sh[65], ph[65];
  ve_hex_encode(sh, seed, 32);
  ve_hex_encode(ph, kp.pk, 32);
  vote_keypair_wipe(&kp);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) cli_die("%s: %s", path, strerror(errno));
  char text[512];
  int len = snprintf(text, sizeof text, "{\"format\": \"%s\", \"version\": 1, \"seed\": \"%s\", \"enc_pk\": \"%s\"}\n",
                     PC_TRUSTEE_KEY_FORMAT, sh, ph);
  bool ok = write(fd, text, (size_t)len) == len && fsync(fd) == 0;
  close(fd);
  memset(text, 0, sizeof text);
  memset(sh, 0, sizeof sh);
  if (!ok) cli_die("%s: cannot write", path);
}

void pc_trustee_key_read(const char *path, vote_keypair_t *kp) {
  if (!path) cli_die("--trustee-key FILE is required");
  struct stat st;
  if (stat(path, &st)) cli_die("%s: %s", path, strerror(errno));
  if (st.st_mode & 077) cli_die("%s: trustee key file is readable by others; run chmod 600 %s", path, path);
  if (st.st_size > PC_KEYFILE_BYTES_MAX) cli_die("%s: not a trustee key file", path);
  json_error_t je;
  json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!j) cli_die("%s:%d: %s", path, je.line, je.text);
  uint8_t seed[32], pk[32];
  json_t *v = json_object_get(j, "version");
  if (strcmp(jstr(j, "format"), PC_TRUSTEE_KEY_FORMAT) || !json_is_integer(v) || json_integer_value(v) != 1 ||
      ve_hex_decode(seed, 32, jstr(j, "seed")) || ve_hex_decode(pk, 32, jstr(j, "enc_pk")))
    cli_die("%s: not a trustee key file", path);
  json_decref(j);
  vote_keypair_from_seed(kp, seed);
  memset(seed, 0, sizeof seed);
  if (memcmp(kp->pk, pk, 32)) cli_die("%s: seed and public key do not match", path);
}

void pc_genesis_load(const char *path, ledger_genesis_t *g, cons_valset_t *vs) {
  if (!path) cli_die("--genesis FILE is required (the chain you trust)");
  char err[512] = "";
  if (node_genesis_load(path, g, err, sizeof err)) cli_die("%s", err);
  if (valset_from_genesis(g, vs)) cli_die("%s: bad validator set", path);
}
