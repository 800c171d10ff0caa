/* cli_test.c — the `veche` command's contract with people: --help everywhere
 * (stdout, exit 0), errors on stderr with a non-zero exit, keys written 0600 and
 * loose permissions refused, an existing network never overwritten. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static const char *g_veche;
static char g_dir[64];

/* Runs veche with up to five args (the first NULL ends them); stdout+stderr
 * into out (truncated). The harness's runner, with no node behind it. */
static int run(char *out, size_t out_len, const char *a1, const char *a2, const char *a3,
               const char *a4, const char *a5) {
  h_node_t n;
  memset(&n, 0, sizeof n);
  snprintf(n.veche, sizeof n.veche, "%s", g_veche);
  n.port = 1; /* VECHE_NODE=127.0.0.1:1: nothing listens there */
  return h_veche(&n, out, out_len, a1, a2, a3, a4, a5, (char *)NULL);
}

static void test_help_everywhere(void **state) {
  (void)state;
  static const char *cmds[] = {"init", "start", "keys", "tx", "query"};
  char out[8192];
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    assert_int_equal(run(out, sizeof out, cmds[i], "--help", NULL, NULL, NULL), 0);
    assert_non_null(strstr(out, "usage: veche"));
  }
  assert_int_equal(run(out, sizeof out, "--help", NULL, NULL, NULL, NULL), 0);
  assert_int_equal(run(out, sizeof out, "frobnicate", NULL, NULL, NULL, NULL), 2);
  assert_non_null(strstr(out, "unknown command"));
  assert_int_equal(run(out, sizeof out, "tx", "register", "--key", "/nonexistent/key", NULL), 1);
  assert_non_null(strstr(out, "cannot read key"));
  assert_int_equal(run(out, sizeof out, "query", "status", "--node", "127.0.0.1:1", NULL), 1);
  assert_non_null(strstr(out, "cannot reach node"));
}

static void test_keys_and_init(void **state) {
  (void)state;
  char out[8192], key[128], net[128], cmd[256];
  snprintf(key, sizeof key, "%s/a.key", g_dir);
  assert_int_equal(run(out, sizeof out, "keys", "gen", "--out", key, NULL), 0);
  char pk[65];
  const char *p = strstr(out, "\"pk\": \"");
  assert_non_null(p);
  memcpy(pk, p + 7, 64);
  pk[64] = 0;
  struct stat st;
  assert_int_equal(stat(key, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* Never overwritten. */
  assert_int_equal(run(out, sizeof out, "keys", "gen", "--out", key, NULL), 1);
  assert_int_equal(run(out, sizeof out, "keys", "show", key, NULL, NULL), 0);
  assert_non_null(strstr(out, pk));
  /* A key others can read is refused, with the fix in the message. */
  chmod(key, 0644);
  assert_int_equal(run(out, sizeof out, "keys", "show", key, NULL, NULL), 1);
  assert_non_null(strstr(out, "chmod 600"));
  /* init writes a network once and refuses to overwrite it. */
  snprintf(net, sizeof net, "%s/net", g_dir);
  assert_int_equal(run(out, sizeof out, "init", "--dir", net, NULL, NULL), 0);
  assert_int_equal(run(out, sizeof out, "init", "--dir", net, NULL, NULL), 1);
  assert_non_null(strstr(out, "refusing to overwrite"));
  snprintf(cmd, sizeof cmd, "%s/validator.key", net);
  assert_int_equal(stat(cmd, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* A config with an unknown key is refused with its name. */
  snprintf(cmd, sizeof cmd, "%s/config.json", net);
  FILE *f = fopen(cmd, "w");
  fputs("{\"api_prot\": 1}", f);
  fclose(f);
  assert_int_equal(run(out, sizeof out, "start", "--dir", net, NULL, NULL), 1);
  assert_non_null(strstr(out, "api_prot"));
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  snprintf(g_dir, sizeof g_dir, "/tmp/veche-cli-XXXXXX");
  if (!mkdtemp(g_dir)) return 1;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_help_everywhere),
                                     cmocka_unit_test(test_keys_and_init)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
  return rc;
}
