/* config.c — JSON forms of genesis and node configuration (jansson). */
#include "node/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "base/err.h"
#include "base/log.h"

static void set_err(char *err, size_t n, const char *fmt, ...) {
  if (!err || !n) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

void node_path_join(char *out, size_t out_len, const char *dir, const char *path) {
  if (path[0] == '/' || !dir[0])
    snprintf(out, out_len, "%s", path);
  else
    snprintf(out, out_len, "%s/%s", dir, path);
}

void node_config_defaults(node_config_t *c) {
  memset(c, 0, sizeof *c);
  snprintf(c->data_dir, sizeof c->data_dir, "data");
  snprintf(c->genesis_path, sizeof c->genesis_path, "genesis.json");
  snprintf(c->api_host, sizeof c->api_host, "127.0.0.1");
  c->api_port = 8645;
  c->api_threads = 2;
  snprintf(c->p2p_host, sizeof c->p2p_host, "127.0.0.1");
  c->p2p_port = 0;
  snprintf(c->node_key_path, sizeof c->node_key_path, "node.key");
  c->p2p_open = -1;
  c->mempool_txs_max = 200000;
  c->mempool_bytes_max = 256u * 1024 * 1024;
  c->block_txs_max = 10000;
  c->block_interval_ms = 20;
  c->empty_block_ms = 1000;
  c->block_fill_ms = 30;
  c->sync_group_blocks = NODE_SYNC_GROUP_BLOCKS_DEFAULT;
  c->mempool_backlog_s = NODE_MEMPOOL_BACKLOG_S_DEFAULT;
  c->block_target_ms = NODE_BLOCK_TARGET_MS_DEFAULT;
  c->map_bytes = 0;
  c->log_level = VE_LOG_INFO;
}

int node_json_load(const char *path, size_t max_bytes, json_t **out, char *err, size_t err_len) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    set_err(err, err_len, "%s: %s", path, strerror(errno));
    return VE_ERR_IO;
  }
  struct stat st;
  int rc = VE_OK;
  if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
    set_err(err, err_len, "%s: not a regular file", path);
    rc = VE_ERR_IO;
  } else if ((uint64_t)st.st_size > max_bytes) {
    set_err(err, err_len, "%s: larger than %zu bytes", path, max_bytes);
    rc = VE_ERR_TOO_BIG;
  }
  /* Read one byte more than allowed: a file that grew since fstat is refused too. */
  char *buf = rc == VE_OK ? malloc(max_bytes + 1) : NULL;
  if (rc == VE_OK && !buf) {
    set_err(err, err_len, "%s: out of memory", path);
    rc = VE_ERR_NOMEM;
  }
  size_t n = buf ? fread(buf, 1, max_bytes + 1, f) : 0;
  if (rc == VE_OK && ferror(f)) {
    set_err(err, err_len, "%s: cannot read", path);
    rc = VE_ERR_IO;
  } else if (rc == VE_OK && n > max_bytes) {
    set_err(err, err_len, "%s: larger than %zu bytes", path, max_bytes);
    rc = VE_ERR_TOO_BIG;
  }
  fclose(f);
  json_error_t je;
  if (rc == VE_OK && !(*out = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je))) {
    set_err(err, err_len, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    rc = VE_ERR_MALFORMED;
  }
  free(buf);
  return rc;
}

static json_t *load_json(const char *path, char *err, size_t err_len) {
  json_t *j;
  return node_json_load(path, NODE_CONFIG_BYTES_MAX, &j, err, err_len) ? NULL : j;
}

static int copy_str(char *dst, size_t n, json_t *v) {
  if (!json_is_string(v) || json_string_length(v) >= n) return VE_ERR_CONFIG;
  memcpy(dst, json_string_value(v), json_string_length(v) + 1);
  return VE_OK;
}

static int get_uint(json_t *v, uint64_t max, uint64_t *out) {
  if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
    return VE_ERR_CONFIG;
  *out = (uint64_t)json_integer_value(v);
  return VE_OK;
}

static int parse_addr(const char *s, node_addr_t *a) {
  const char *colon = strrchr(s, ':');
  if (!colon || (size_t)(colon - s) >= sizeof a->host || colon == s) return VE_ERR_CONFIG;
  memcpy(a->host, s, (size_t)(colon - s));
  a->host[colon - s] = 0;
  char *end;
  unsigned long p = strtoul(colon + 1, &end, 10);
  if (*end || p == 0 || p > 65535) return VE_ERR_CONFIG;
  a->port = (uint16_t)p;
  return VE_OK;
}

/* One config key: its name and how to store it. */
static int config_key(node_config_t *c, const char *k, json_t *v) {
  uint64_t u;
  if (!strcmp(k, "data_dir")) return copy_str(c->data_dir, sizeof c->data_dir, v);
  if (!strcmp(k, "genesis")) return copy_str(c->genesis_path, sizeof c->genesis_path, v);
  if (!strcmp(k, "key")) return copy_str(c->key_path, sizeof c->key_path, v);
  if (!strcmp(k, "api_host")) return copy_str(c->api_host, sizeof c->api_host, v);
  if (!strcmp(k, "p2p_host")) return copy_str(c->p2p_host, sizeof c->p2p_host, v);
  if (!strcmp(k, "node_key")) return copy_str(c->node_key_path, sizeof c->node_key_path, v);
  if (!strcmp(k, "p2p_open")) {
    if (!json_is_boolean(v)) return VE_ERR_CONFIG;
    c->p2p_open = json_is_true(v);
    return VE_OK;
  }
  if (!strcmp(k, "p2p_allow")) {
    if (!json_is_array(v) || json_array_size(v) > NODE_ALLOW_MAX) return VE_ERR_CONFIG;
    size_t i;
    json_t *p;
    json_array_foreach(v, i, p) {
      if (!json_is_string(p) || ve_hex_decode(c->allow[i], 32, json_string_value(p))) return VE_ERR_CONFIG;
    }
    c->n_allow = json_array_size(v);
    return VE_OK;
  }
#define UINT_KEY(name, field, max)            \
  if (!strcmp(k, name)) {                     \
    VE_TRY(get_uint(v, max, &u));             \
    c->field = (__typeof__(c->field))u;       \
    return VE_OK;                             \
  }
  UINT_KEY("api_port", api_port, 65535)
  UINT_KEY("api_threads", api_threads, 64)
  UINT_KEY("p2p_port", p2p_port, 65535)
  UINT_KEY("mempool_txs_max", mempool_txs_max, 10000000)
  UINT_KEY("mempool_bytes_max", mempool_bytes_max, (uint64_t)16 << 30)
  UINT_KEY("block_txs_max", block_txs_max, VE_BLOCK_TXS_MAX)
  UINT_KEY("block_interval_ms", block_interval_ms, 60000)
  UINT_KEY("empty_block_ms", empty_block_ms, 3600000)
  UINT_KEY("block_fill_ms", block_fill_ms, 1000) /* below the propose timeout */
  UINT_KEY("sync_group_blocks", sync_group_blocks, NODE_SYNC_GROUP_BLOCKS_MAX)
  UINT_KEY("mempool_backlog_s", mempool_backlog_s, NODE_MEMPOOL_BACKLOG_S_MAX)
  UINT_KEY("block_target_ms", block_target_ms, NODE_BLOCK_TARGET_MS_MAX)
  UINT_KEY("map_bytes", map_bytes, (uint64_t)1 << 44)
  /* 0 (the default) or within [min, max]. */
#define ZERO_OR_RANGE_KEY(name, field, min, max) \
  if (!strcmp(k, name)) {                        \
    VE_TRY(get_uint(v, max, &u));                \
    if (u != 0 && u < (min)) return VE_ERR_CONFIG; \
    c->field = (__typeof__(c->field))u;          \
    return VE_OK;                                \
  }
  ZERO_OR_RANGE_KEY("p2p_send_queue_bytes_max", p2p_send_queue_bytes_max, NODE_P2P_SEND_QUEUE_BYTES_MIN,
                    NODE_P2P_SEND_QUEUE_BYTES_MAX)
  ZERO_OR_RANGE_KEY("gossip_pending_bytes_max", gossip_pending_bytes_max, NODE_GOSSIP_PENDING_BYTES_MIN,
                    NODE_GOSSIP_PENDING_BYTES_MAX)
  ZERO_OR_RANGE_KEY("state_keep_blocks", state_keep_blocks, NODE_STATE_KEEP_BLOCKS_MIN, NODE_STATE_KEEP_BLOCKS_MAX)
#undef ZERO_OR_RANGE_KEY
#undef UINT_KEY
  if (!strcmp(k, "log_level")) {
    static const char *lv[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++)
      if (json_is_string(v) && !strcmp(json_string_value(v), lv[i])) {
        c->log_level = i;
        return VE_OK;
      }
    return VE_ERR_CONFIG;
  }
  if (!strcmp(k, "peers")) {
    if (!json_is_array(v) || json_array_size(v) > NODE_PEERS_MAX) return VE_ERR_CONFIG;
    size_t i;
    json_t *p;
    json_array_foreach(v, i, p) {
      if (!json_is_string(p)) return VE_ERR_CONFIG;
      VE_TRY(parse_addr(json_string_value(p), &c->peers[i]));
    }
    c->n_peers = json_array_size(v);
    return VE_OK;
  }
  return VE_ERR_NOT_FOUND;
}

int node_config_load(const char *path, node_config_t *c, char *err, size_t err_len) {
  node_config_defaults(c);
  const char *slash = strrchr(path, '/');
  if (slash)
    snprintf(c->dir, sizeof c->dir, "%.*s", (int)(slash - path), path);
  else
    snprintf(c->dir, sizeof c->dir, ".");
  json_t *j = load_json(path, err, err_len);
  if (!j) return VE_ERR_CONFIG;
  int rc = json_is_object(j) ? VE_OK : VE_ERR_CONFIG;
  if (rc) set_err(err, err_len, "%s: top level must be an object", path);
  const char *k;
  json_t *v;
  json_object_foreach(j, k, v) {
    if (rc) break;
    rc = config_key(c, k, v);
    if (rc == VE_ERR_NOT_FOUND) set_err(err, err_len, "%s: unknown key \"%s\"", path, k);
    else if (rc) set_err(err, err_len, "%s: bad value for \"%s\"", path, k);
    if (rc) rc = VE_ERR_CONFIG;
  }
  json_decref(j);
  return rc;
}

static int dump_file(const char *path, json_t *j) {
  /* Written whole then renamed, so a crash never leaves half a file. */
  char tmp[NODE_PATH_BYTES_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int rc = json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? VE_OK : VE_ERR_IO;
  if (rc == VE_OK && rename(tmp, path) != 0) rc = VE_ERR_IO;
  return rc;
}

int node_config_write(const char *path, const node_config_t *c) {
  static const char *lv[] = {"debug", "info", "warn", "error", "off"};
  json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
                        "data_dir", c->data_dir, "genesis", c->genesis_path, "api_host", c->api_host,
                        "api_port", (json_int_t)c->api_port, "api_threads", (json_int_t)c->api_threads,
                        "p2p_host", c->p2p_host, "p2p_port", (json_int_t)c->p2p_port,
                        "mempool_txs_max", (json_int_t)c->mempool_txs_max, "mempool_bytes_max",
                        (json_int_t)c->mempool_bytes_max, "block_txs_max", (json_int_t)c->block_txs_max,
                        "block_interval_ms", (json_int_t)c->block_interval_ms, "empty_block_ms",
                        (json_int_t)c->empty_block_ms, "log_level", lv[c->log_level]);
  if (!j) return VE_ERR_NOMEM;
  json_object_set_new(j, "block_fill_ms", json_integer((json_int_t)c->block_fill_ms));
  json_object_set_new(j, "mempool_backlog_s", json_integer((json_int_t)c->mempool_backlog_s));
  json_object_set_new(j, "block_target_ms", json_integer((json_int_t)c->block_target_ms));
  json_object_set_new(j, "state_keep_blocks", json_integer((json_int_t)c->state_keep_blocks));
  if (c->key_path[0]) json_object_set_new(j, "key", json_string(c->key_path));
  json_t *peers = json_array();
  for (size_t i = 0; i < c->n_peers; i++)
    json_array_append_new(peers, json_sprintf("%s:%u", c->peers[i].host, c->peers[i].port));
  json_object_set_new(j, "peers", peers);
  json_t *allow = json_array();
  for (size_t i = 0; i < c->n_allow; i++) {
    char hex[65];
    ve_hex_encode(hex, c->allow[i], 32);
    json_array_append_new(allow, json_string(hex));
  }
  json_object_set_new(j, "p2p_allow", allow);
  if (!c->key_path[0]) json_object_set_new(j, "node_key", json_string(c->node_key_path));
  if (!c->key_path[0]) json_object_set_new(j, "sync_group_blocks", json_integer((json_int_t)c->sync_group_blocks));
  if (c->p2p_open >= 0) json_object_set_new(j, "p2p_open", json_boolean(c->p2p_open));
  if (c->p2p_send_queue_bytes_max)
    json_object_set_new(j, "p2p_send_queue_bytes_max",
                        json_integer((json_int_t)c->p2p_send_queue_bytes_max));
  if (c->gossip_pending_bytes_max)
    json_object_set_new(j, "gossip_pending_bytes_max",
                        json_integer((json_int_t)c->gossip_pending_bytes_max));
  int rc = dump_file(path, j);
  json_decref(j);
  return rc;
}

/* ---- genesis.json ---- */

static int hex_field(json_t *o, const char *k, uint8_t *out, size_t n) {
  json_t *v = json_object_get(o, k);
  if (!json_is_string(v)) return VE_ERR_CONFIG;
  return ve_hex_decode(out, n, json_string_value(v)) ? VE_ERR_CONFIG : VE_OK;
}

static int roles_from_json(json_t *arr, uint32_t *roles) {
  if (!json_is_array(arr)) return VE_ERR_CONFIG;
  *roles = 0;
  size_t i;
  json_t *r;
  json_array_foreach(arr, i, r) {
    uint32_t bit = json_is_string(r) ? ledger_role_from_name(json_string_value(r)) : 0;
    if (!bit) return VE_ERR_CONFIG;
    *roles |= bit;
  }
  return VE_OK;
}

static int parse_genesis(json_t *j, ledger_genesis_t *g, char *err, size_t err_len) {
  memset(g, 0, sizeof *g);
  uint64_t u;
  json_t *v = json_object_get(j, "suite");
  if (!json_is_string(v) || strcmp(json_string_value(v), VCRYPTO_SUITE_NAME)) {
    set_err(err, err_len, "suite must be \"%s\"", VCRYPTO_SUITE_NAME);
    return VE_ERR_UNSUPPORTED;
  }
  g->suite = VCRYPTO_SUITE_ED25519_BLAKE2B;
  if (copy_str(g->chain_id, sizeof g->chain_id, json_object_get(j, "chain_id")) ||
      get_uint(json_object_get(j, "genesis_time_ms"), UINT64_MAX >> 1, &u)) {
    set_err(err, err_len, "chain_id (≤ %d chars) and genesis_time_ms are required", VE_CHAIN_ID_BYTES_MAX);
    return VE_ERR_CONFIG;
  }
  g->time_ms = u;
  /* Optional: the protocol block 1 runs under (absent: 1, as every genesis
   * written before protocol 2 existed). */
  json_t *pv = json_object_get(j, "protocol");
  if (pv && (get_uint(pv, LEDGER_PROTOCOL_IMPLEMENTED, &u) || u == 0)) {
    set_err(err, err_len, "protocol must be 1..%d (the versions this release implements)", LEDGER_PROTOCOL_IMPLEMENTED);
    return VE_ERR_CONFIG;
  }
  g->protocol = pv && u > 1 ? (uint32_t)u : 0;
  json_t *vals = json_object_get(j, "validators"), *auths = json_object_get(j, "authorities");
  if (!json_is_array(vals) || json_array_size(vals) > VE_VALIDATORS_MAX || !json_is_array(auths) ||
      json_array_size(auths) > VE_AUTHORITIES_MAX) {
    set_err(err, err_len, "validators (≤ %d) and authorities (≤ %d) must be arrays",
            VE_VALIDATORS_MAX, VE_AUTHORITIES_MAX);
    return VE_ERR_CONFIG;
  }
  size_t i;
  json_t *o;
  json_array_foreach(vals, i, o) {
    ledger_validator_t *x = &g->validators[i];
    if (copy_str(x->name, sizeof x->name, json_object_get(o, "name")) ||
        hex_field(o, "pk", x->pk, 32) || get_uint(json_object_get(o, "power"), UINT64_MAX >> 16, &u)) {
      set_err(err, err_len, "validators[%zu]: needs name, pk (64 hex), power", i);
      return VE_ERR_CONFIG;
    }
    x->power = u;
  }
  g->n_validators = json_array_size(vals);
  json_array_foreach(auths, i, o) {
    ledger_authority_t *x = &g->authorities[i];
    if (copy_str(x->name, sizeof x->name, json_object_get(o, "name")) ||
        hex_field(o, "pk", x->pk, 32) || roles_from_json(json_object_get(o, "roles"), &x->roles)) {
      set_err(err, err_len, "authorities[%zu]: needs name, pk (64 hex), roles (known names)", i);
      return VE_ERR_CONFIG;
    }
  }
  g->n_authorities = json_array_size(auths);
  int rc = ledger_genesis_check(g);
  if (rc) set_err(err, err_len, "genesis rejected: %s", ve_strerror(rc));
  return rc;
}

int node_genesis_load(const char *path, ledger_genesis_t *g, char *err, size_t err_len) {
  json_t *j = load_json(path, err, err_len);
  if (!j) return VE_ERR_CONFIG;
  int rc = parse_genesis(j, g, err, err_len);
  json_decref(j);
  return rc;
}

int node_genesis_write(const char *path, const ledger_genesis_t *g) {
  json_t *vals = json_array(), *auths = json_array();
  char hex[65];
  for (size_t i = 0; i < g->n_validators; i++) {
    ve_hex_encode(hex, g->validators[i].pk, 32);
    json_array_append_new(vals, json_pack("{s:s, s:s, s:I}", "name", g->validators[i].name, "pk", hex,
                                          "power", (json_int_t)g->validators[i].power));
  }
  for (size_t i = 0; i < g->n_authorities; i++) {
    ve_hex_encode(hex, g->authorities[i].pk, 32);
    json_t *roles = json_array();
    for (uint32_t b = 1; b & ROLE_ALL_MASK; b <<= 1)
      if (g->authorities[i].roles & b) json_array_append_new(roles, json_string(ledger_role_name(b)));
    json_array_append_new(auths, json_pack("{s:s, s:s, s:o}", "name", g->authorities[i].name, "pk",
                                           hex, "roles", roles));
  }
  json_t *j = json_pack("{s:s, s:s, s:I, s:o, s:o}", "chain_id", g->chain_id, "suite",
                        VCRYPTO_SUITE_NAME, "genesis_time_ms", (json_int_t)g->time_ms, "validators",
                        vals, "authorities", auths);
  if (!j) return VE_ERR_NOMEM;
  if (g->protocol > 1 && json_object_set_new(j, "protocol", json_integer((json_int_t)g->protocol))) {
    json_decref(j);
    return VE_ERR_NOMEM;
  }
  int rc = dump_file(path, j);
  json_decref(j);
  return rc;
}
