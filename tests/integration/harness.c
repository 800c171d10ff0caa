/* harness.c — see harness.h. Every process a node runs as is a child of the
 * test: started by h_node_start, reaped by h_node_stop/h_node_kill9 (or at
 * exit), and watched with waitpid, so that a node that dies or fails to stop
 * is seen at once. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/http_client.h"
#include "apps/gov/gov.h"
#include "apps/identity/identity.h"
#include "base/err.h"

#define H_CHILDREN_MAX 16
#define PROC_POLL_MS 5     /* how often a wait for a process looks */
#define HEALTH_POLL_MS 50  /* how often a starting node is asked /health */
#define HEALTH_ASK_MS 1000 /* one /health request of a starting node */
#define METRICS_TIMEOUT_MS (5000 * H_SCALE)
static pid_t g_children[H_CHILDREN_MAX];

static void kill_leftovers(void) {
  for (int i = 0; i < H_CHILDREN_MAX; i++)
    if (g_children[i] > 0) kill(g_children[i], SIGKILL), waitpid(g_children[i], NULL, 0);
}

static void track(pid_t pid, bool add) {
  static bool registered;
  if (!registered) atexit(kill_leftovers), registered = true;
  for (int i = 0; i < H_CHILDREN_MAX; i++) {
    if (add && g_children[i] == 0) {
      g_children[i] = pid;
      return;
    }
    if (!add && g_children[i] == pid) {
      g_children[i] = 0;
      return;
    }
  }
}

void h_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

uint64_t h_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint16_t free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  close(fd);
  return ntohs(a.sin_port);
}

static bool port_free(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

/* Runs argv to completion (bounded by the tool itself); returns exit status. */
static int run(char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execv(argv[0], argv);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void h_node_init(h_node_t *n, const char *veche) {
  memset(n, 0, sizeof *n);
  assert_int_equal(vcrypto_init(), 0);
  snprintf(n->veche, sizeof n->veche, "%s", veche);
  snprintf(n->dir, sizeof n->dir, "/tmp/veche-it-XXXXXX");
  assert_non_null(mkdtemp(n->dir));
  n->port = free_port();
  char port[16], dir[300];
  snprintf(port, sizeof port, "%u", n->port);
  snprintf(dir, sizeof dir, "%s/net", n->dir);
  char *argv[] = {n->veche, "init", "--dir", dir, "--chain-id", "veche-it-1", "--api-port", port, NULL};
  assert_int_equal(run(argv), 0);
  snprintf(n->chain, sizeof n->chain, "veche-it-1");
  char key[400];
  snprintf(key, sizeof key, "%s/authority.key", dir);
  assert_int_equal(vcrypto_keyfile_read(key, &n->authority), 0);
  n->seq = 1;
}

void h_net_init(h_net_t *net, const char *veche, size_t nv, size_t no, uint32_t empty_block_ms) {
  memset(net, 0, sizeof *net);
  assert_true(nv + no <= H_NET_NODES_MAX);
  assert_int_equal(vcrypto_init(), 0);
  net->nv = nv;
  net->no = no;
  snprintf(net->dir, sizeof net->dir, "/tmp/veche-it-net-XXXXXX");
  assert_non_null(mkdtemp(net->dir));
  /* A base whose 2 × (nv + no) ports are all free right now, below the
   * kernel's ephemeral range: otherwise a node dialing its peers (or any
   * client) may be given one of them as its local port before the node that
   * should listen there has started. */
  unsigned eph_lo = 32768, eph_hi = 60999;
  FILE *pr = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
  if (pr) {
    if (fscanf(pr, "%u %u", &eph_lo, &eph_hi) != 2) eph_lo = 32768;
    fclose(pr);
  }
  unsigned lo = 10000, hi = eph_lo > lo + 1000 ? eph_lo - 300 : 65000 - 300;
  uint32_t seed = (uint32_t)getpid() ^ (uint32_t)time(NULL);
  for (int tries = 0;; tries++) {
    assert_true(tries < 200);
    seed = seed * 1103515245u + 12345u;
    uint16_t base = (uint16_t)(lo + (seed >> 8) % (hi - lo));
    bool ok = true;
    for (size_t i = 0; ok && i < nv + no; i++)
      ok = port_free((uint16_t)(base + i)) && port_free((uint16_t)(base + 100 + i));
    if (ok) {
      net->base_port = base;
      break;
    }
  }
  char dir[200], base[16], nvs[16], nos[16], empty[16];
  snprintf(dir, sizeof dir, "%.190s/tn", net->dir);
  snprintf(base, sizeof base, "%u", net->base_port);
  snprintf(nvs, sizeof nvs, "%zu", nv);
  snprintf(nos, sizeof nos, "%zu", no);
  snprintf(empty, sizeof empty, "%u", empty_block_ms);
  char *argv[] = {(char *)veche, "testnet", "--dir", dir, "--validators", nvs, "--observers", nos,
                  "--chain-id", "veche-it-net-1", "--base-port", base, "--empty-block-ms", empty, NULL};
  assert_int_equal(run(argv), 0);
  vcrypto_keypair_t auth;
  char key[400];
  snprintf(key, sizeof key, "%s/authority.key", dir);
  assert_int_equal(vcrypto_keyfile_read(key, &auth), 0);
  for (size_t i = 0; i < nv + no; i++) {
    h_node_t *n = &net->node[i];
    snprintf(n->veche, sizeof n->veche, "%s", veche);
    snprintf(n->dir, sizeof n->dir, "%.200s/%c%zu", dir, i < nv ? 'v' : 'o', i < nv ? i : i - nv);
    memcpy(n->conf, n->dir, sizeof n->dir); /* conf is larger */
    n->port = (uint16_t)(net->base_port + i);
    snprintf(n->chain, sizeof n->chain, "veche-it-net-1");
    n->authority = auth;
    n->seq = 1;
  }
  vcrypto_keypair_wipe(&auth);
}

void h_net_cleanup(h_net_t *net) {
  for (size_t i = 0; i < net->nv + net->no; i++) {
    if (net->node[i].pid) h_node_kill9(&net->node[i]);
    vcrypto_keypair_wipe(&net->node[i].authority);
  }
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", net->dir);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", net->dir);
}

/* The directory holding n's config.json. */
static void conf_dir(const h_node_t *n, char *dir, size_t cap) {
  if (n->conf[0]) snprintf(dir, cap, "%s", n->conf);
  else snprintf(dir, cap, "%s/net", n->dir);
}

void h_config_set(h_node_t *n, const char *key, json_t *value) {
  char dir[300], path[320];
  conf_dir(n, dir, sizeof dir);
  snprintf(path, sizeof path, "%s/config.json", dir);
  json_error_t je;
  json_t *c = json_load_file(path, 0, &je);
  if (!c) fail_msg("%s: %s", path, je.text);
  json_object_set_new(c, key, value);
  assert_int_equal(json_dump_file(c, path, JSON_INDENT(2)), 0);
  json_decref(c);
}

double h_metric(h_node_t *n, const char *name) {
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", n->port, "GET", "/metrics", NULL, NULL, 0, METRICS_TIMEOUT_MS, &r), 0);
  assert_int_equal(r.status, 200);
  char pat[128];
  snprintf(pat, sizeof pat, "\n%s ", name);
  const char *at = r.body.len ? strstr((const char *)r.body.ptr, pat) : NULL;
  double v = at ? strtod(at + strlen(pat), NULL) : 0;
  http_response_free(&r);
  if (!at) fail_msg("no metric %s in /metrics", name);
  return v;
}

/* Waits (bounded) for n's process to change state as waitpid's options ask
 * (0: ended; WUNTRACED: ended or stopped). True with *status if it did. */
static bool proc_wait(const h_node_t *n, int options, int timeout_ms, int *status) {
  uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
  for (;;) {
    if (waitpid(n->pid, status, WNOHANG | options) == n->pid) return true;
    if (h_now_ms() > end) return false;
    h_sleep_ms(PROC_POLL_MS);
  }
}

/* n's process ended (reaped): forget it. */
static void proc_gone(h_node_t *n) {
  track(n->pid, false);
  n->pid = 0;
}

void h_node_start(h_node_t *n) { h_node_start_with(n, NULL); }

void h_node_start_with(h_node_t *n, const char *const *extra) {
  char dir[300], log[300];
  conf_dir(n, dir, sizeof dir);
  snprintf(log, sizeof log, "%s/node.log", n->dir);
  char *argv[H_START_ARGS_MAX + 5] = {n->veche, "start", "--dir", dir};
  size_t argc = 4;
  for (size_t i = 0; extra && extra[i]; i++) {
    VE_ASSERT(i < H_START_ARGS_MAX);
    argv[argc++] = (char *)extra[i];
  }
  argv[argc] = NULL;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a test that dies takes its nodes with it */
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) _exit(126);
    dup2(fd, 1);
    dup2(fd, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  n->pid = pid;
  track(pid, true);
  uint64_t end = h_now_ms() + H_START_TIMEOUT_MS;
  for (;;) {
    if (h_call(n, "GET", "/health", NULL, NULL, HEALTH_ASK_MS) == 200) return;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      proc_gone(n);
      fail_msg("%s exited during start (wait status 0x%x); see %s", n->dir, status, log);
    }
    if (h_now_ms() > end) fail_msg("%s did not answer /health within %d ms; see %s", n->dir, H_START_TIMEOUT_MS, log);
    h_sleep_ms(HEALTH_POLL_MS);
  }
}

/* Signals the node and waits (bounded) for it to end; returns its wait
 * status. One that does not end in time is killed, and fails the test unless
 * sig was SIGKILL already. */
static int reap(h_node_t *n, int sig, int timeout_ms) {
  kill(n->pid, sig);
  int status = 0;
  bool ended = proc_wait(n, 0, timeout_ms, &status);
  if (!ended) {
    kill(n->pid, SIGKILL);
    waitpid(n->pid, &status, 0);
  }
  proc_gone(n);
  if (!ended && sig != SIGKILL) fail_msg("%s did not stop within %d ms of signal %d", n->dir, timeout_ms, sig);
  return status;
}

/* Reads n's node.log: the first line that reports a sanitizer finding or a
 * failed assertion fails the test, named with its place. Returns whether
 * there is a log (then a clean one). */
static bool log_scan(const h_node_t *n) {
  static const char *bad[] = {"AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                              "runtime error:", "assertion failed", "Assertion `", "SUMMARY: "};
  char path[300];
  snprintf(path, sizeof path, "%s/node.log", n->dir);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  char *line = NULL;
  size_t cap = 0, no = 0;
  while (getline(&line, &cap, f) > 0) {
    no++;
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
      if (strstr(line, bad[b])) fail_msg("%s line %zu: %s", path, no, line);
  }
  free(line);
  fclose(f);
  return true;
}

void h_log_check(const h_node_t *n) {
  if (!log_scan(n)) fail_msg("no log %s/node.log", n->dir);
}

void h_node_stop(h_node_t *n) {
  /* A clean stop is part of the contract (SIGTERM: finish, close the store,
   * exit 0); under the sanitizers a leak or a report at exit fails it too,
   * and the log names that cause better than the status does. */
  int status = reap(n, SIGTERM, H_STOP_TIMEOUT_MS);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    (void)log_scan(n); /* fails naming the report, if any */
    fail_msg("%s did not exit cleanly on SIGTERM (wait status 0x%x); see its node.log", n->dir, status);
  }
}

void h_node_kill9(h_node_t *n) { (void)reap(n, SIGKILL, H_STOP_TIMEOUT_MS); }

int h_node_wait_exit(h_node_t *n, int timeout_ms) {
  int status = 0;
  if (!proc_wait(n, 0, timeout_ms, &status))
    fail_msg("%s still runs %d ms later; it should have stopped by itself", n->dir, timeout_ms);
  proc_gone(n);
  (void)log_scan(n); /* a sanitizer report on the way out fails the test */
  if (!WIFEXITED(status)) fail_msg("%s ended by signal (wait status 0x%x), not by exiting", n->dir, status);
  return WEXITSTATUS(status);
}

void h_node_freeze(h_node_t *n) {
  kill(n->pid, SIGSTOP);
  int status = 0;
  if (!proc_wait(n, WUNTRACED, H_STOP_TIMEOUT_MS, &status))
    fail_msg("%s not stopped within %d ms of SIGSTOP", n->dir, H_STOP_TIMEOUT_MS);
  if (!WIFSTOPPED(status)) {
    proc_gone(n);
    fail_msg("%s ended instead of stopping (wait status 0x%x)", n->dir, status);
  }
}

void h_node_thaw(h_node_t *n) { kill(n->pid, SIGCONT); }

void h_node_cleanup(h_node_t *n) {
  if (n->pid) h_node_kill9(n);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", n->dir);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", n->dir);
  vcrypto_keypair_wipe(&n->authority);
}

int h_call(h_node_t *n, const char *method, const char *path, const json_t *body, json_t **out,
           int timeout_ms) {
  int status = 0;
  json_t *j = NULL;
  int rc = http_request_json("127.0.0.1", n->port, method, path, body, timeout_ms, &status, &j);
  if (out) *out = j;
  else json_decref(j);
  return rc ? H_NO_ANSWER : status;
}

int h_get(h_node_t *n, const char *path, json_t **out) {
  int status = h_call(n, "GET", path, NULL, out, H_HTTP_TIMEOUT_MS);
  if (status == H_NO_ANSWER) fail_msg("GET %s: no answer from %s within %d ms", path, n->dir, H_HTTP_TIMEOUT_MS);
  return status;
}

int h_post(h_node_t *n, const char *path, json_t *body, json_t **out) {
  int status = h_call(n, "POST", path, body, out, H_POST_TIMEOUT_MS);
  json_decref(body); /* taken: callers pass json_pack(...) inline */
  if (status == H_NO_ANSWER) fail_msg("POST %s: no answer from %s within %d ms", path, n->dir, H_POST_TIMEOUT_MS);
  return status;
}

uint64_t h_status_u64(h_node_t *n, const char *group, const char *name) {
  json_t *j;
  assert_int_equal(h_get(n, "/v1/status", &j), 200);
  json_t *v = json_object_get(group ? json_object_get(j, group) : j, name);
  if (!json_is_integer(v)) fail_msg("no integer %s%s%s in /v1/status of %s", group ? group : "", group ? "." : "", name, n->dir);
  uint64_t x = (uint64_t)json_integer_value(v);
  json_decref(j);
  return x;
}

uint64_t h_height(h_node_t *n) { return h_status_u64(n, NULL, "height"); }

uint64_t h_shown_height(h_node_t *n) {
  json_t *a = NULL, *b = NULL;
  int sa = h_call(n, "GET", "/health", NULL, &a, H_HTTP_TIMEOUT_MS);
  int sb = h_call(n, "GET", "/v1/status", NULL, &b, H_HTTP_TIMEOUT_MS);
  uint64_t ha = (uint64_t)json_integer_value(json_object_get(a, "height"));
  uint64_t hb = (uint64_t)json_integer_value(json_object_get(b, "height"));
  json_decref(a);
  json_decref(b);
  if (sa != 200 || sb != 200) fail_msg("%s: /health %d, /v1/status %d", n->dir, sa, sb);
  return ha > hb ? ha : hb;
}

void h_wait_height(h_node_t *n, uint64_t want, int timeout_ms) {
  uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
  while (h_height(n) < want) {
    if (h_now_ms() > end)
      fail_msg("%s stuck at height %llu, want %llu", n->dir, (unsigned long long)h_height(n),
               (unsigned long long)want);
    h_sleep_ms(20);
  }
}

uint64_t h_same_chain(h_node_t *a, h_node_t *b, uint64_t top) {
  if (!top) {
    uint64_t ha = h_height(a), hb = h_height(b);
    top = ha < hb ? ha : hb;
  }
  char path[64];
  for (uint64_t h = 1; h <= top; h++) {
    snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)h);
    json_t *ja = NULL, *jb = NULL;
    if (h_get(a, path, &ja) != 200 || h_get(b, path, &jb) != 200)
      fail_msg("height %llu missing on %s or %s", (unsigned long long)h, a->dir, b->dir);
    json_t *ha = json_object_get(ja, "header"), *hb = json_object_get(jb, "header");
    assert_non_null(json_object_get(ha, "state_root"));
    if (!json_equal(ha, hb)) {
      char *sa = json_dumps(ha, JSON_COMPACT), *sb = json_dumps(hb, JSON_COMPACT);
      fail_msg("height %llu differs: %s vs %s (%s / %s)", (unsigned long long)h, sa, sb, a->dir, b->dir);
    }
    json_decref(ja);
    json_decref(jb);
  }
  return top;
}

void h_council_wrap(uint32_t *type, ve_buf_t *payload) {
  ve_buf_t inner;
  ve_buf_init(&inner, 0);
  ve_buf_append(&inner, payload->ptr, payload->len);
  ve_buf_reset(payload);
  assert_int_equal(gov_payload_propose(payload, GOV_OPEN_MS_MAX, *type, ve_buf_slice(&inner), ve_slice("", 0)), 0);
  *type = TX_TYPE_GOV_PROPOSE;
  ve_buf_free(&inner);
}

char *h_tx_hex(const char *chain, const vcrypto_keypair_t *kp, uint64_t seq, uint32_t type,
               ve_slice_t payload, uint8_t id_out[32]) {
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(chain, strlen(chain)),
                    .seq = seq, .expiry = 50000, .type = type, .payload = payload};
  assert_int_equal(ledger_tx_sign(&tx, kp), 0);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(ledger_tx_encode(&tx, &b), 0);
  if (id_out) ledger_tx_id(id_out, ve_buf_slice(&b));
  char *hex = malloc(2 * b.len + 1);
  ve_hex_encode(hex, b.ptr, b.len);
  ve_buf_free(&b);
  return hex;
}

char *h_register_hex(h_node_t *n, uint32_t a, uint32_t b, uint8_t digest_byte, uint8_t id_out[32]) {
  vcrypto_keypair_t kp;
  h_seed_key(&kp, a, b);
  uint8_t digest[32] = {digest_byte};
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_register(&p, kp.pk, digest, NULL, 0), 0);
  char *hex = h_tx_hex(n->chain, &n->authority, n->seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), id_out);
  ve_buf_free(&p);
  vcrypto_keypair_wipe(&kp);
  return hex;
}

size_t h_wait_final(h_node_t *n, uint8_t (*ids)[32], size_t count) {
  size_t ok = 0;
  for (size_t i = 0; i < count; i++) {
    char hex[65], path[128];
    ve_hex_encode(hex, ids[i], 32);
    snprintf(path, sizeof path, "/v1/txs/%s", hex);
    for (int waited = 0;; waited += 20) {
      json_t *j;
      int st = h_get(n, path, &j);
      const char *s = j ? json_string_value(json_object_get(j, "status")) : NULL;
      bool final = st == 200 && s && strcmp(s, "pending") != 0;
      if (final && !strcmp(s, "committed")) ok++;
      json_decref(j);
      if (final) break;
      if (waited > H_COMMIT_TIMEOUT_MS) fail_msg("tx %s still pending after %d ms", hex, waited);
      h_sleep_ms(20);
    }
  }
  return ok;
}

void h_seed_key(vcrypto_keypair_t *kp, uint32_t a, uint32_t b) {
  uint8_t seed[32] = {0};
  memcpy(seed, &a, 4);
  memcpy(seed + 4, &b, 4);
  seed[31] = 0x5a;
  vcrypto_keypair_from_seed(kp, seed);
}

/* Runs veche with the NULL-terminated args in ap for at most timeout_ms
 * (then kills it and fails the test); stdout+stderr into out. */
static int veche_run(h_node_t *n, char *out, size_t out_len, int timeout_ms, va_list ap) {
  char *argv[32];
  int argc = 0;
  argv[argc++] = n->veche;
  for (char *a; argc < 31 && (a = va_arg(ap, char *)) != NULL;) argv[argc++] = a;
  argv[argc] = NULL;
  int pipefd[2];
  assert_int_equal(pipe(pipefd), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    close(pipefd[0]);
    char node[64];
    snprintf(node, sizeof node, "127.0.0.1:%u", n->port);
    setenv("VECHE_NODE", node, 1);
    execv(argv[0], argv);
    _exit(127);
  }
  close(pipefd[1]);
  track(pid, true);
  uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
  size_t len = 0;
  for (;;) { /* until EOF (the child and anything it left running are done) */
    int64_t left = (int64_t)(end - h_now_ms());
    struct pollfd pfd = {pipefd[0], POLLIN, 0};
    if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      track(pid, false);
      close(pipefd[0]);
      fail_msg("`veche %s` still running after %d ms", argv[1], timeout_ms);
    }
    char sink[256];
    char *dst = len + 1 < out_len ? out + len : sink;
    size_t room = len + 1 < out_len ? out_len - 1 - len : sizeof sink;
    ssize_t r = read(pipefd[0], dst, room);
    if (r <= 0) break;
    if (dst != sink) len += (size_t)r;
  }
  out[len] = 0;
  close(pipefd[0]);
  int st;
  waitpid(pid, &st, 0);
  track(pid, false);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int h_veche(h_node_t *n, char *out, size_t out_len, ...) {
  va_list ap;
  va_start(ap, out_len);
  int st = veche_run(n, out, out_len, H_VECHE_TIMEOUT_MS, ap);
  va_end(ap);
  return st;
}

int h_veche_bounded(h_node_t *n, char *out, size_t out_len, int timeout_ms, ...) {
  va_list ap;
  va_start(ap, timeout_ms);
  int st = veche_run(n, out, out_len, timeout_ms, ap);
  va_end(ap);
  return st;
}

const char *h_veche_arg(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH_TO_VECHE\n", argc ? argv[0] : "test");
    exit(2);
  }
  return argv[1];
}
