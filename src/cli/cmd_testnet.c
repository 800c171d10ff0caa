/* cmd_testnet.c — `veche testnet`: a local network of N validators and M
 * observers in one directory, and `veche testnet run` to run it in the
 * foreground with a live status line; `veche init-observer` prepares an
 * observer that knows only the genesis file and one peer.
 *
 * Layout written by `veche testnet --dir D`:
 *   D/genesis.json, D/authority.key      shared genesis, founding authority
 *   D/v<i>/config.json, validator.key    validator i (API base+i, p2p base+100+i)
 *   D/o<j>/config.json, node.key         observer j (API base+N+j, p2p base+100+N+j)
 * Validators dial each other and admit the observers' node keys; observers
 * dial every validator and admit anyone (other observers may follow them).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "api/http_client.h"
#include "base/err.h"
#include "cli/cli.h"
#include "node/config.h"

#define TESTNET_NODES_MAX 32
#define TESTNET_STOP_WAIT_MS 15000
#define TESTNET_STATUS_TIMEOUT_MS 500

static const char TESTNET_USAGE[] =
    "usage: veche testnet --dir DIR [--validators N] [--observers M] [--chain-id ID]\n"
    "                     [--base-port PORT] [--empty-block-ms MS] [--protocol N]\n"
    "       veche testnet run --dir DIR\n"
    "\n"
    "The first form writes keys, one genesis and one config per node for N\n"
    "validators (default 4) and M observers (default 1) into DIR; node i's API\n"
    "listens on 127.0.0.1:PORT+i (default PORT 8645), its peer links on PORT+100+i.\n"
    "The chain starts at protocol N (default: the newest this release implements,\n"
    "3: the founding authority is the council, 1 of 1, and admin actions are\n"
    "council decisions, `veche gov`, from protocol 2; protocol 3 adds parcel\n"
    "subdivision and merger and shipping containers); --protocol 1 makes a chain whose single\n"
    "admin key decides alone until it is upgraded (`veche upgrade`).\n"
    "The second runs every node of DIR in the foreground (logs in DIR/<node>/node.log),\n"
    "shows a status line (height, peers, tx/s) and stops them all on Ctrl-C.\n";

static void make_dir(const char *path) {
  if (mkdir(path, 0700) != 0 && errno != EEXIST) cli_die("cannot create %s: %s", path, strerror(errno));
}

static int testnet_init(const char *dir, long nv, long no, const char *chain, long base, long empty_ms,
                        uint32_t protocol) {
  if (nv < 1 || nv > VE_VALIDATORS_MAX || no < 0 || nv + no > TESTNET_NODES_MAX)
    cli_die("want 1..%d validators and at most %d nodes in all", VE_VALIDATORS_MAX, TESTNET_NODES_MAX);
  if (base < 1 || base + 100 + nv + no > 65535) cli_die("--base-port out of range");
  if (!*chain || strlen(chain) > VE_CHAIN_ID_BYTES_MAX) cli_die("--chain-id must be 1..64 chars");
  make_dir(dir);
  char path[NODE_PATH_BYTES_MAX], sub[NODE_PATH_BYTES_MAX];
  node_path_join(path, sizeof path, dir, "genesis.json");
  struct stat st;
  if (stat(path, &st) == 0) cli_die("%s already exists; refusing to overwrite a network", path);

  static vcrypto_keypair_t keys[TESTNET_NODES_MAX];
  vcrypto_keypair_t auth;
  cli_key_new(dir, "authority.key", &auth);
  for (long i = 0; i < nv + no; i++) {
    snprintf(sub, sizeof sub, "%s/%c%ld", dir, i < nv ? 'v' : 'o', i < nv ? i : i - nv);
    make_dir(sub);
    cli_key_new(sub, i < nv ? "validator.key" : "node.key", &keys[i]);
  }
  cli_genesis_write(path, chain, keys, (size_t)nv, auth.pk, protocol);

  for (long i = 0; i < nv + no; i++) {
    bool val = i < nv;
    node_config_t c;
    node_config_defaults(&c);
    snprintf(c.genesis_path, sizeof c.genesis_path, "../genesis.json");
    if (val) snprintf(c.key_path, sizeof c.key_path, "validator.key");
    c.api_port = (uint16_t)(base + i);
    c.p2p_port = (uint16_t)(base + 100 + i);
    if (empty_ms >= 0) c.empty_block_ms = (uint32_t)empty_ms;
    for (long k = 0; k < nv; k++) {
      if (k == i) continue;
      snprintf(c.peers[c.n_peers].host, sizeof c.peers[0].host, "127.0.0.1");
      c.peers[c.n_peers++].port = (uint16_t)(base + 100 + k);
    }
    if (val)
      for (long k = nv; k < nv + no; k++) memcpy(c.allow[c.n_allow++], keys[k].pk, 32);
    snprintf(sub, sizeof sub, "%s/%c%ld/config.json", dir, val ? 'v' : 'o', val ? i : i - nv);
    if (node_config_write(sub, &c)) cli_die("cannot write %s", sub);
  }
  printf("testnet %s in %s: %ld validators, %ld observers\n", chain, dir, nv, no);
  for (long i = 0; i < nv + no; i++)
    printf("  %c%ld  API http://127.0.0.1:%ld  p2p 127.0.0.1:%ld\n", i < nv ? 'v' : 'o', i < nv ? i : i - nv,
           base + i, base + 100 + i);
  printf("  founding authority key: %s/authority.key\n", dir);
  printf("run it with: veche testnet run --dir %s\n", dir);
  for (long i = 0; i < nv + no; i++) vcrypto_keypair_wipe(&keys[i]);
  vcrypto_keypair_wipe(&auth);
  return 0;
}

/* ---- running ---- */

typedef struct {
  char name[8];
  char dir[NODE_PATH_BYTES_MAX];
  uint16_t api_port;
  pid_t pid;
  bool exited;
  int status;
} tn_node_t;

static volatile sig_atomic_t stop_requested;
static void on_stop_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static pid_t spawn(const char *self, tn_node_t *nd) {
  char log[NODE_PATH_BYTES_MAX + 16];
  snprintf(log, sizeof log, "%s/node.log", nd->dir);
  pid_t pid = fork();
  if (pid < 0) cli_die("fork: %s", strerror(errno));
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    /* Own process group: Ctrl-C (sent to the terminal's foreground group)
     * reaches only the runner, which stops the nodes in order with SIGTERM. */
    setpgid(0, 0);
    /* And if the runner itself dies (kill -9), the nodes are told to stop. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    execl(self, self, "start", "--dir", nd->dir, (char *)NULL);
    _exit(127);
  }
  return pid;
}

static void reap(tn_node_t *nodes, size_t n, bool report) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
    for (size_t i = 0; i < n; i++)
      if (nodes[i].pid == pid && !nodes[i].exited) {
        nodes[i].exited = true;
        nodes[i].status = st;
        if (report)
          fprintf(stderr, "\nveche: node %s exited (%s %d); see %s/node.log\n", nodes[i].name,
                  WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
                  nodes[i].dir);
      }
}

static int testnet_run(const char *dir) {
  tn_node_t nodes[TESTNET_NODES_MAX];
  size_t n = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < TESTNET_NODES_MAX && n < TESTNET_NODES_MAX; i++) {
      tn_node_t *nd = &nodes[n];
      memset(nd, 0, sizeof *nd);
      char name[sizeof nd->name];
      snprintf(name, sizeof name, "%c%d", pass ? 'o' : 'v', i);
      memcpy(nd->name, name, sizeof name);
      snprintf(nd->dir, sizeof nd->dir, "%s/%s", dir, name);
      char path[NODE_PATH_BYTES_MAX + 16], err[512];
      snprintf(path, sizeof path, "%s/config.json", nd->dir);
      struct stat st;
      if (stat(path, &st) != 0) break;
      node_config_t c;
      if (node_config_load(path, &c, err, sizeof err)) cli_die("%s", err);
      nd->api_port = c.api_port;
      n++;
    }
  if (n == 0) cli_die("no nodes in %s (create them with `veche testnet --dir %s`)", dir, dir);
  char self[NODE_PATH_BYTES_MAX];
  ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
  if (sl <= 0) cli_die("cannot find the veche binary: %s", strerror(errno));
  self[sl] = 0;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  for (size_t i = 0; i < n; i++) nodes[i].pid = spawn(self, &nodes[i]);
  printf("veche testnet: %zu nodes from %s (logs in <node>/node.log); Ctrl-C stops them all\n", n, dir);
  for (size_t i = 0; i < n; i++)
    printf("  %-3s API http://127.0.0.1:%u\n", nodes[i].name, nodes[i].api_port);
  fflush(stdout);

  bool tty = isatty(1);
  uint64_t last_txs = 0, last_ms = now_ms(), last_print = 0;
  bool have_last = false;
  while (!stop_requested) {
    usleep(200 * 1000);
    reap(nodes, n, true);
    uint64_t t = now_ms();
    if (t - last_ms < 1000) continue;
    /* One status per node: height, peers; tx/s from the first live validator. */
    char line[1024];
    size_t off = 0;
    uint64_t hmax = 0, txs = 0;
    bool txs_known = false;
    for (size_t i = 0; i < n && off < sizeof line - 64; i++) {
      json_t *j = NULL;
      int status = 0;
      if (nodes[i].exited ||
          http_request_json("127.0.0.1", nodes[i].api_port, "GET", "/v1/status", NULL,
                            TESTNET_STATUS_TIMEOUT_MS, &status, &j) ||
          status != 200) {
        off += (size_t)snprintf(line + off, sizeof line - off, " %s:down", nodes[i].name);
        json_decref(j);
        continue;
      }
      uint64_t h = (uint64_t)json_integer_value(json_object_get(j, "height"));
      uint64_t p = (uint64_t)json_integer_value(json_object_get(j, "peers"));
      if (h > hmax) hmax = h;
      if (!txs_known) {
        txs = (uint64_t)json_integer_value(json_object_get(j, "txs_committed_since_start"));
        txs_known = true;
      }
      off += (size_t)snprintf(line + off, sizeof line - off, " %s:h%llu/p%llu", nodes[i].name,
                              (unsigned long long)h, (unsigned long long)p);
      json_decref(j);
    }
    double tps = have_last && txs >= last_txs ? (double)(txs - last_txs) * 1000.0 / (double)(t - last_ms) : 0;
    have_last = txs_known;
    last_txs = txs;
    last_ms = t;
    if (tty) {
      printf("\r\033[Kheight %llu | tx/s %.0f |%s", (unsigned long long)hmax, tps, line);
      fflush(stdout);
    } else if (t - last_print >= 5000) {
      printf("height %llu | tx/s %.0f |%s\n", (unsigned long long)hmax, tps, line);
      fflush(stdout);
      last_print = t;
    }
  }
  if (tty) printf("\n");
  printf("veche testnet: stopping %zu nodes\n", n);
  fflush(stdout);
  for (size_t i = 0; i < n; i++)
    if (!nodes[i].exited) kill(nodes[i].pid, SIGTERM);
  uint64_t deadline = now_ms() + TESTNET_STOP_WAIT_MS;
  for (;;) {
    reap(nodes, n, false);
    size_t left = 0;
    for (size_t i = 0; i < n; i++) left += !nodes[i].exited;
    if (!left) break;
    if (now_ms() > deadline) {
      for (size_t i = 0; i < n; i++)
        if (!nodes[i].exited) {
          fprintf(stderr, "veche: node %s did not stop in time; killing it\n", nodes[i].name);
          kill(nodes[i].pid, SIGKILL);
        }
      deadline = UINT64_MAX;
    }
    usleep(50 * 1000);
  }
  int bad = 0;
  for (size_t i = 0; i < n; i++)
    if (!WIFEXITED(nodes[i].status) || WEXITSTATUS(nodes[i].status) != 0) bad++;
  printf("veche testnet: stopped%s\n", bad ? " (some nodes exited with an error; see their node.log)" : "");
  return bad ? 1 : 0;
}

int cmd_testnet(int argc, char **argv) {
  bool run = argc > 1 && !strcmp(argv[1], "run");
  if (run) {
    argc--;
    argv++;
  }
  static const struct option opts[] = {{"dir", 1, 0, 'd'},        {"validators", 1, 0, 'n'},
                                       {"observers", 1, 0, 'm'},  {"chain-id", 1, 0, 'c'},
                                       {"base-port", 1, 0, 'p'},  {"empty-block-ms", 1, 0, 'e'},
                                       {"protocol", 1, 0, 'P'},   {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *dir = NULL, *chain = "veche-testnet-1";
  uint32_t protocol = LEDGER_PROTOCOL_IMPLEMENTED;
  long nv = 4, no = 1, base = 8645, empty_ms = -1;
  int o;
  while ((o = getopt_long(argc, argv, "d:n:m:c:p:e:h", opts, NULL)) != -1) {
    if (o == 'd') dir = optarg;
    else if (o == 'n') nv = strtol(optarg, NULL, 10);
    else if (o == 'm') no = strtol(optarg, NULL, 10);
    else if (o == 'c') chain = optarg;
    else if (o == 'p') base = strtol(optarg, NULL, 10);
    else if (o == 'e') empty_ms = strtol(optarg, NULL, 10);
    else if (o == 'P') protocol = cli_protocol_arg(optarg);
    else if (o == 'h') cli_help(TESTNET_USAGE);
    else cli_usage(TESTNET_USAGE);
  }
  if (!dir || optind != argc) cli_usage(TESTNET_USAGE);
  return run ? testnet_run(dir) : testnet_init(dir, nv, no, chain, base, empty_ms, protocol);
}

static const char OBSERVER_USAGE[] =
    "usage: veche init-observer --dir DIR --genesis FILE --peer HOST:PORT\n"
    "                           [--api-port PORT] [--p2p-port PORT]\n"
    "\n"
    "Prepares an observer in DIR that knows only the chain's genesis file and one\n"
    "peer (a node that admits it, e.g. another observer): it syncs the chain from\n"
    "genesis, verifies every block and serves the read API. Start it with\n"
    "`veche start --dir DIR`; its node key is created at first start.\n";

int cmd_init_observer(int argc, char **argv) {
  static const struct option opts[] = {{"dir", 1, 0, 'd'},      {"genesis", 1, 0, 'g'},
                                       {"peer", 1, 0, 'P'},     {"api-port", 1, 0, 'a'},
                                       {"p2p-port", 1, 0, 'p'}, {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *dir = NULL, *genesis = NULL, *peer = NULL;
  long api = 8645, p2p = 0;
  int o;
  while ((o = getopt_long(argc, argv, "d:g:P:a:p:h", opts, NULL)) != -1) {
    if (o == 'd') dir = optarg;
    else if (o == 'g') genesis = optarg;
    else if (o == 'P') peer = optarg;
    else if (o == 'a') api = strtol(optarg, NULL, 10);
    else if (o == 'p') p2p = strtol(optarg, NULL, 10);
    else if (o == 'h') cli_help(OBSERVER_USAGE);
    else cli_usage(OBSERVER_USAGE);
  }
  if (!dir || !genesis || !peer || optind != argc) cli_usage(OBSERVER_USAGE);
  if (api <= 0 || api > 65535 || p2p < 0 || p2p > 65535) cli_die("ports must be 1..65535");
  ledger_genesis_t g;
  char err[512];
  if (node_genesis_load(genesis, &g, err, sizeof err)) cli_die("%s", err);
  cli_node_t addr;
  cli_node_parse(&addr, peer);
  make_dir(dir);
  char path[NODE_PATH_BYTES_MAX];
  node_path_join(path, sizeof path, dir, "config.json");
  struct stat st;
  if (stat(path, &st) == 0) cli_die("%s already exists", path);
  node_config_t c;
  node_config_defaults(&c);
  c.api_port = (uint16_t)api;
  c.p2p_port = (uint16_t)p2p;
  snprintf(c.peers[0].host, sizeof c.peers[0].host, "%s", addr.host);
  c.peers[0].port = addr.port;
  c.n_peers = 1;
  if (node_config_write(path, &c)) cli_die("cannot write %s", path);
  node_path_join(path, sizeof path, dir, "genesis.json");
  if (node_genesis_write(path, &g)) cli_die("cannot write %s", path);
  printf("observer of chain %s in %s, following %s:%u; start it with: veche start --dir %s\n", g.chain_id,
         dir, addr.host, addr.port, dir);
  return 0;
}
