/* config_test.c — config.json as the node reads and writes it (src/node/config.c):
 * every key written is read back to the same value, unknown keys and values out
 * of range are refused with a message naming the key, state_keep_blocks
 * takes 0 (keep everything) or a window of at least NODE_STATE_KEEP_BLOCKS_MIN,
 * p2p_send_queue_bytes_max 0 (net's default) or NODE_P2P_SEND_QUEUE_BYTES_MIN
 * to _MAX, gossip_pending_bytes_max 0 (16 MiB) or NODE_GOSSIP_PENDING_BYTES_MIN
 * to _MAX. genesis.json's optional "protocol" (the protocol block 1 runs
 * under) is written only when above 1 and read back; outside 1..implemented
 * it is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/err.h"
#include "ledger/ledger.h"
#include "node/config.h"

static char g_dir[64];

static int setup(void **state) {
  (void)state;
  snprintf(g_dir, sizeof g_dir, "/tmp/veche-config-XXXXXX");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", g_dir);
  unlink(path);
  return rmdir(g_dir);
}

/* Writes text as config.json and loads it; err gets the loader's message. */
static int load_text(const char *text, node_config_t *c, char *err, size_t cap) {
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", g_dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  err[0] = 0;
  return node_config_load(path, c, err, cap);
}

static void test_round_trip(void **state) {
  (void)state;
  node_config_t a, b;
  node_config_defaults(&a);
  assert_int_equal(a.state_keep_blocks, 0); /* archive by default */
  a.state_keep_blocks = 100000;
  a.block_target_ms = 250;
  a.empty_block_ms = 123;
  snprintf(a.key_path, sizeof a.key_path, "validator.key");
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", g_dir);
  assert_int_equal(node_config_write(path, &a), 0);
  char err[256];
  assert_int_equal(node_config_load(path, &b, err, sizeof err), 0);
  assert_int_equal(b.state_keep_blocks, 100000);
  assert_int_equal(b.block_target_ms, 250);
  assert_int_equal(b.empty_block_ms, 123);
  assert_string_equal(b.key_path, "validator.key");
  assert_string_equal(b.api_host, a.api_host);
  assert_int_equal(b.api_port, a.api_port);
}

static void test_state_keep_blocks_range(void **state) {
  (void)state;
  node_config_t c;
  char err[256], text[128];
  assert_int_equal(load_text("{\"state_keep_blocks\": 0}", &c, err, sizeof err), 0);
  assert_int_equal(c.state_keep_blocks, 0);
  snprintf(text, sizeof text, "{\"state_keep_blocks\": %d}", NODE_STATE_KEEP_BLOCKS_MIN);
  assert_int_equal(load_text(text, &c, err, sizeof err), 0);
  assert_int_equal(c.state_keep_blocks, NODE_STATE_KEEP_BLOCKS_MIN);
  snprintf(text, sizeof text, "{\"state_keep_blocks\": %d}", NODE_STATE_KEEP_BLOCKS_MAX);
  assert_int_equal(load_text(text, &c, err, sizeof err), 0);
  assert_int_equal(c.state_keep_blocks, NODE_STATE_KEEP_BLOCKS_MAX);
  /* Too short a window, too long, negative, not a number: refused, named. */
  const char *bad[] = {"{\"state_keep_blocks\": 1}", "{\"state_keep_blocks\": 15}",
                       "{\"state_keep_blocks\": 1000000001}", "{\"state_keep_blocks\": -16}",
                       "{\"state_keep_blocks\": \"16\"}", "{\"state_keep_blocks\": 16.5}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(load_text(bad[i], &c, err, sizeof err), VE_ERR_CONFIG);
    if (!strstr(err, "state_keep_blocks")) fail_msg("%s: message %s", bad[i], err);
  }
}

/* A size key that is 0 (the default) or within [min, max]: accepted at the
 * bounds, written and read back, refused with its name below, above, negative
 * or not a number. */
static void check_zero_or_range(const char *key, size_t off, uint64_t min, uint64_t max) {
  node_config_t c;
  char err[256], text[128];
  node_config_defaults(&c);
  assert_int_equal(*(size_t *)((char *)&c + off), 0); /* the default */
  const uint64_t good[] = {0, min, 1 << 20, max};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    snprintf(text, sizeof text, "{\"%s\": %llu}", key, (unsigned long long)good[i]);
    assert_int_equal(load_text(text, &c, err, sizeof err), 0);
    assert_int_equal(*(size_t *)((char *)&c + off), good[i]);
  }
  node_config_t a, b;
  node_config_defaults(&a);
  *(size_t *)((char *)&a + off) = 3 << 20;
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", g_dir);
  assert_int_equal(node_config_write(path, &a), 0);
  assert_int_equal(node_config_load(path, &b, err, sizeof err), 0);
  assert_int_equal(*(size_t *)((char *)&b + off), 3 << 20);
  const uint64_t bad[] = {1, min - 1, max + 1};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(text, sizeof text, "{\"%s\": %llu}", key, (unsigned long long)bad[i]);
    assert_int_equal(load_text(text, &c, err, sizeof err), VE_ERR_CONFIG);
    if (!strstr(err, key)) fail_msg("%s: message %s", text, err);
  }
  const char *junk[] = {"-65536", "\"1M\""};
  for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
    snprintf(text, sizeof text, "{\"%s\": %s}", key, junk[i]);
    assert_int_equal(load_text(text, &c, err, sizeof err), VE_ERR_CONFIG);
    if (!strstr(err, key)) fail_msg("%s: message %s", text, err);
  }
}

static void test_p2p_send_queue_range(void **state) {
  (void)state;
  check_zero_or_range("p2p_send_queue_bytes_max", offsetof(node_config_t, p2p_send_queue_bytes_max),
                      NODE_P2P_SEND_QUEUE_BYTES_MIN, NODE_P2P_SEND_QUEUE_BYTES_MAX);
}

static void test_gossip_pending_range(void **state) {
  (void)state;
  check_zero_or_range("gossip_pending_bytes_max", offsetof(node_config_t, gossip_pending_bytes_max),
                      NODE_GOSSIP_PENDING_BYTES_MIN, NODE_GOSSIP_PENDING_BYTES_MAX);
}

static void test_unknown_and_malformed(void **state) {
  (void)state;
  node_config_t c;
  char err[256];
  assert_int_equal(load_text("{\"state_keep_block\": 100}", &c, err, sizeof err), VE_ERR_CONFIG);
  assert_non_null(strstr(err, "unknown key \"state_keep_block\""));
  assert_int_equal(load_text("[1, 2]", &c, err, sizeof err), VE_ERR_CONFIG);
  assert_int_equal(load_text("{\"api_port\": 70000}", &c, err, sizeof err), VE_ERR_CONFIG);
  assert_non_null(strstr(err, "api_port"));
  assert_int_equal(load_text("{\"api_port\": ", &c, err, sizeof err), VE_ERR_CONFIG);
  assert_true(err[0] != 0);
}

/* A genesis with one validator and one admin, for the "protocol" field. */
static int genesis_text(char *path, size_t cap, const char *protocol_field) {
  snprintf(path, cap, "%s/genesis.json", g_dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f,
          "{\"chain_id\": \"c1\", \"suite\": \"%s\", \"genesis_time_ms\": 5, %s"
          "\"validators\": [{\"name\": \"v\", \"power\": 1, \"pk\": "
          "\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\"}],"
          "\"authorities\": [{\"name\": \"a\", \"roles\": [\"admin\"], \"pk\": "
          "\"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\"}]}",
          VCRYPTO_SUITE_NAME, protocol_field);
  fclose(f);
  return 0;
}

static void test_genesis_protocol(void **state) {
  (void)state;
  char path[128], err[256];
  ledger_genesis_t g, back;
  genesis_text(path, sizeof path, "");
  assert_int_equal(node_genesis_load(path, &g, err, sizeof err), 0);
  assert_int_equal(g.protocol, 0); /* absent: protocol 1, genesis version 1 */
  genesis_text(path, sizeof path, "\"protocol\": 1,");
  assert_int_equal(node_genesis_load(path, &back, err, sizeof err), 0);
  assert_int_equal(back.protocol, 0);
  uint8_t h1[32], h2[32];
  assert_int_equal(ledger_genesis_hash(&g, h1), 0);
  assert_int_equal(ledger_genesis_hash(&back, h2), 0);
  assert_memory_equal(h1, h2, 32); /* "protocol": 1 is the same genesis as none */
  genesis_text(path, sizeof path, "\"protocol\": 2,");
  assert_int_equal(node_genesis_load(path, &g, err, sizeof err), 0);
  assert_int_equal(g.protocol, 2);
  /* Written back with the field, read back the same. */
  assert_int_equal(node_genesis_write(path, &g), 0);
  assert_int_equal(node_genesis_load(path, &back, err, sizeof err), 0);
  assert_int_equal(back.protocol, 2);
  g.protocol = 0;
  assert_int_equal(node_genesis_write(path, &g), 0);
  FILE *f = fopen(path, "r");
  char text[2048] = {0};
  assert_true(fread(text, 1, sizeof text - 1, f) > 0);
  fclose(f);
  assert_null(strstr(text, "protocol"));
  /* Outside 1..implemented, or not a number. */
  genesis_text(path, sizeof path, "\"protocol\": 0,");
  assert_int_equal(node_genesis_load(path, &g, err, sizeof err), VE_ERR_CONFIG);
  assert_non_null(strstr(err, "protocol"));
  char field[64];
  snprintf(field, sizeof field, "\"protocol\": %d,", LEDGER_PROTOCOL_IMPLEMENTED + 1);
  genesis_text(path, sizeof path, field);
  assert_int_equal(node_genesis_load(path, &g, err, sizeof err), VE_ERR_CONFIG);
  genesis_text(path, sizeof path, "\"protocol\": \"2\",");
  assert_int_equal(node_genesis_load(path, &g, err, sizeof err), VE_ERR_CONFIG);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_state_keep_blocks_range),
      cmocka_unit_test(test_p2p_send_queue_range),
      cmocka_unit_test(test_gossip_pending_range),
      cmocka_unit_test(test_unknown_and_malformed),
      cmocka_unit_test(test_genesis_protocol),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
