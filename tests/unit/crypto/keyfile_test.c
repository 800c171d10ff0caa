/* keyfile_test.c — secret key files: 64 hex characters of the seed and a
 * newline, created 0600, never overwritten, refused when group or others can
 * read them, and strict about their content. Each test works in its own
 * mkdtemp directory under $TMPDIR (or /tmp) and removes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/crypto.h"

typedef struct {
  char dir[256];
  char path[300];
} fixture_t;

static int fixture_setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  if (!f) return -1;
  const char *tmp = getenv("TMPDIR");
  snprintf(f->dir, sizeof f->dir, "%s/veche-keyfile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(f->dir)) return -1;
  snprintf(f->path, sizeof f->path, "%s/node.key", f->dir);
  *state = f;
  return 0;
}

static int fixture_teardown(void **state) {
  fixture_t *f = *state;
  unlink(f->path);
  rmdir(f->dir);
  free(f);
  return 0;
}

static int group_setup(void **state) {
  (void)state;
  return vcrypto_init() == VE_OK ? 0 : -1;
}

static void write_raw(const char *path, const char *content, size_t len, mode_t mode) {
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
  assert_true(fd >= 0);
  assert_int_equal(fchmod(fd, mode), 0); /* umask must not soften the test */
  assert_int_equal(write(fd, content, len), (ssize_t)len);
  close(fd);
}

static const uint8_t SEED[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                                 0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                                 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const char SEED_HEX[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

static void test_write_read_round_trip(void **state) {
  fixture_t *f = *state;
  vcrypto_keypair_t kp, back;
  vcrypto_keypair_from_seed(&kp, SEED);
  mode_t old = umask(0); /* even a permissive umask must give 0600 */
  int rc = vcrypto_keyfile_write(f->path, &kp);
  umask(old);
  assert_int_equal(rc, VE_OK);
  struct stat st;
  assert_int_equal(stat(f->path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0600);
  /* The exact content: the seed in lower-case hex and a newline. */
  char buf[128];
  int fd = open(f->path, O_RDONLY);
  assert_true(fd >= 0);
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  assert_int_equal(n, 65);
  assert_memory_equal(buf, SEED_HEX, 64);
  assert_int_equal(buf[64], '\n');
  memset(&back, 0xaa, sizeof back);
  assert_int_equal(vcrypto_keyfile_read(f->path, &back), VE_OK);
  assert_memory_equal(back.pk, kp.pk, 32);
  assert_memory_equal(back.sk, kp.sk, 64);
  vcrypto_keypair_wipe(&kp);
  vcrypto_keypair_wipe(&back);
}

static void test_generated_key_round_trip(void **state) {
  fixture_t *f = *state;
  vcrypto_keypair_t kp, back;
  vcrypto_keypair_generate(&kp);
  assert_int_equal(vcrypto_keyfile_write(f->path, &kp), VE_OK);
  assert_int_equal(vcrypto_keyfile_read(f->path, &back), VE_OK);
  assert_memory_equal(back.pk, kp.pk, 32);
  assert_memory_equal(back.sk, kp.sk, 64);
  /* The key still signs what the original verifies. */
  uint8_t sig[64];
  vcrypto_sign(sig, &back, "veche/test", (const uint8_t *)"x", 1);
  assert_int_equal(vcrypto_verify(sig, kp.pk, "veche/test", (const uint8_t *)"x", 1), VE_OK);
  vcrypto_keypair_wipe(&kp);
  vcrypto_keypair_wipe(&back);
}

static void test_refuses_overwrite(void **state) {
  fixture_t *f = *state;
  vcrypto_keypair_t a, b, back;
  vcrypto_keypair_from_seed(&a, SEED);
  vcrypto_keypair_generate(&b);
  assert_int_equal(vcrypto_keyfile_write(f->path, &a), VE_OK);
  assert_int_equal(vcrypto_keyfile_write(f->path, &b), VE_ERR_EXISTS);
  assert_int_equal(vcrypto_keyfile_read(f->path, &back), VE_OK);
  assert_memory_equal(back.pk, a.pk, 32); /* the first key survived */
  vcrypto_keypair_wipe(&a);
  vcrypto_keypair_wipe(&b);
  vcrypto_keypair_wipe(&back);
}

static void test_refuses_loose_permissions(void **state) {
  fixture_t *f = *state;
  vcrypto_keypair_t kp, back;
  vcrypto_keypair_from_seed(&kp, SEED);
  assert_int_equal(vcrypto_keyfile_write(f->path, &kp), VE_OK);
  const mode_t loose[] = {0644, 0640, 0604, 0660, 0606, 0610, 0601, 0620, 0602, 0666, 0777};
  for (size_t i = 0; i < sizeof loose / sizeof loose[0]; i++) {
    assert_int_equal(chmod(f->path, loose[i]), 0);
    if (vcrypto_keyfile_read(f->path, &back) != VE_ERR_CONFIG)
      fail_msg("key file with mode %04o was accepted", (unsigned)loose[i]);
  }
  /* Owner-only modes are fine. */
  const mode_t tight[] = {0400, 0600, 0700};
  for (size_t i = 0; i < sizeof tight / sizeof tight[0]; i++) {
    assert_int_equal(chmod(f->path, tight[i]), 0);
    assert_int_equal(vcrypto_keyfile_read(f->path, &back), VE_OK);
    assert_memory_equal(back.pk, kp.pk, 32);
  }
  vcrypto_keypair_wipe(&kp);
  vcrypto_keypair_wipe(&back);
}

static void test_missing_file(void **state) {
  fixture_t *f = *state;
  vcrypto_keypair_t back;
  assert_int_equal(vcrypto_keyfile_read(f->path, &back), VE_ERR_NOT_FOUND);
  /* A directory or a FIFO is not a key file (and the FIFO must not block). */
  assert_int_equal(vcrypto_keyfile_read(f->dir, &back), VE_ERR_CONFIG);
  assert_int_equal(mkfifo(f->path, 0600), 0);
  assert_int_equal(vcrypto_keyfile_read(f->path, &back), VE_ERR_CONFIG);
}

static void test_content_accepted(void **state) {
  fixture_t *f = *state;
  vcrypto_keypair_t want, back;
  vcrypto_keypair_from_seed(&want, SEED);
  /* Without the newline, and with upper-case hex: the same key. */
  write_raw(f->path, SEED_HEX, 64, 0600);
  assert_int_equal(vcrypto_keyfile_read(f->path, &back), VE_OK);
  assert_memory_equal(back.sk, want.sk, 64);
  char upper[66];
  for (int i = 0; i < 64; i++) upper[i] = (char)(SEED_HEX[i] >= 'a' ? SEED_HEX[i] - 32 : SEED_HEX[i]);
  upper[64] = '\n';
  write_raw(f->path, upper, 65, 0600);
  assert_int_equal(vcrypto_keyfile_read(f->path, &back), VE_OK);
  assert_memory_equal(back.sk, want.sk, 64);
  vcrypto_keypair_wipe(&want);
  vcrypto_keypair_wipe(&back);
}

static void test_content_rejected(void **state) {
  fixture_t *f = *state;
  char long_file[200];
  memset(long_file, 'a', sizeof long_file);
  char bad_char[65];
  memcpy(bad_char, SEED_HEX, 64);
  bad_char[10] = 'g';
  bad_char[64] = '\n';
  struct {
    const char *what;
    const char *content;
    size_t len;
  } cases[] = {
      {"empty", "", 0},
      {"newline only", "\n", 1},
      {"63 hex digits", SEED_HEX, 63},
      {"63 hex digits and newline", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f6\n", 64},
      {"65 hex digits", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f600", 65},
      {"CRLF", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\r\n", 66},
      {"two newlines", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n\n", 66},
      {"space instead of newline", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60 ", 65},
      {"leading space", " 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", 65},
      {"non-hex digit", bad_char, 65},
      {"NUL inside", "9d61b19deffd5a60ba844af492ec2cc4\0" "449c5697b326919703bac031cae7f60\n", 65},
      {"128 hex digits (a full sk)", long_file, 128},
      {"200 bytes", long_file, 200},
      {"0x prefix", "0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f6", 65},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_raw(f->path, cases[i].content, cases[i].len, 0600);
    vcrypto_keypair_t back;
    int rc = vcrypto_keyfile_read(f->path, &back);
    if (rc != VE_ERR_MALFORMED) fail_msg("%s: got %s, want malformed", cases[i].what, ve_err_name(rc));
  }
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
  const struct CMUnitTest tests[] = {
      T(test_write_read_round_trip), T(test_generated_key_round_trip),
      T(test_refuses_overwrite),     T(test_refuses_loose_permissions),
      T(test_missing_file),          T(test_content_accepted),
      T(test_content_rejected),
  };
#undef T
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
