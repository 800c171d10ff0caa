/* genesis.c — the founding document of a chain: validators, authorities, suite.
 *
 * Layout (docs/encoding.md, "Genesis"):
 *   u8 version | bytes chain_id | uvarint suite | uvarint time_ms |
 *   [version 2: uvarint protocol (>= 2)] |
 *   uvarint n_validators | n × (bytes name | fixed32 pk | uvarint power) |
 *   uvarint n_authorities | n × (bytes name | fixed32 pk | uvarint roles)
 * A chain starting at protocol 1 has a version 1 genesis (so every genesis
 * written before version 2 existed keeps its bytes and hash); version 2 names
 * a later starting protocol and is refused with protocol 1 (one encoding per
 * genesis). Its hash H("veche/genesis", encoding) is block 1's prev_hash.
 */
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "ledger/ledger.h"

static const char *const ROLE_NAMES[] = {"admin",   "registrar", "notary",        "poll_organizer",
                                         "trustee", "regulator", "land_registrar"};
#define ROLE_NAMES_N (sizeof ROLE_NAMES / sizeof ROLE_NAMES[0])

uint32_t ledger_role_from_name(const char *name) {
  for (size_t i = 0; i < ROLE_NAMES_N; i++)
    if (strcmp(name, ROLE_NAMES[i]) == 0) return 1u << i;
  return 0;
}

const char *ledger_role_name(uint32_t bit) {
  for (size_t i = 0; i < ROLE_NAMES_N; i++)
    if (bit == 1u << i) return ROLE_NAMES[i];
  return NULL;
}

static void put_name(codec_writer_t *w, const char *name) {
  codec_put_bytes(w, (const uint8_t *)name, strlen(name), VE_NAME_BYTES_MAX);
}

int ledger_genesis_encode(const ledger_genesis_t *g, ve_buf_t *out) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  bool v2 = g->protocol > 1;
  codec_put_u8(&w, v2 ? LEDGER_GENESIS_VERSION_PROTOCOL : LEDGER_GENESIS_VERSION);
  codec_put_bytes(&w, (const uint8_t *)g->chain_id, strlen(g->chain_id), VE_CHAIN_ID_BYTES_MAX);
  codec_put_uvarint(&w, g->suite);
  codec_put_uvarint(&w, g->time_ms);
  if (v2) codec_put_uvarint(&w, g->protocol);
  codec_put_uvarint(&w, g->n_validators);
  for (size_t i = 0; i < g->n_validators; i++) {
    put_name(&w, g->validators[i].name);
    codec_put_fixed(&w, g->validators[i].pk, VCRYPTO_PK_BYTES);
    codec_put_uvarint(&w, g->validators[i].power);
  }
  codec_put_uvarint(&w, g->n_authorities);
  for (size_t i = 0; i < g->n_authorities; i++) {
    put_name(&w, g->authorities[i].name);
    codec_put_fixed(&w, g->authorities[i].pk, VCRYPTO_PK_BYTES);
    codec_put_uvarint(&w, g->authorities[i].roles);
  }
  return codec_writer_finish(&w);
}

/* Copies a length-prefixed name into a NUL-terminated field; names are printable
 * ASCII so they can be shown and round-trip through JSON unchanged. */
static void get_name(codec_reader_t *r, char out[VE_NAME_BYTES_MAX + 1], size_t max) {
  ve_slice_t s = codec_get_bytes(r, max);
  memset(out, 0, max + 1);
  if (r->err) return;
  for (size_t i = 0; i < s.len; i++)
    if (s.ptr[i] < 0x20 || s.ptr[i] > 0x7e) codec_fail(r, VE_ERR_MALFORMED);
  if (!r->err) memcpy(out, s.ptr, s.len);
}

int ledger_genesis_decode(ve_slice_t in, ledger_genesis_t *g) {
  memset(g, 0, sizeof *g);
  codec_reader_t r;
  codec_reader_init(&r, in);
  uint8_t v = codec_get_u8(&r);
  if (!r.err && v != LEDGER_GENESIS_VERSION && v != LEDGER_GENESIS_VERSION_PROTOCOL) codec_fail(&r, VE_ERR_VERSION);
  get_name(&r, g->chain_id, VE_CHAIN_ID_BYTES_MAX);
  g->suite = (uint32_t)codec_get_uvarint_max(&r, UINT32_MAX);
  g->time_ms = codec_get_uvarint(&r);
  if (v == LEDGER_GENESIS_VERSION_PROTOCOL) { /* version 1: protocol stays 0, meaning 1 */
    g->protocol = (uint32_t)codec_get_uvarint_max(&r, UINT32_MAX);
    if (!r.err && g->protocol < 2) codec_fail(&r, VE_ERR_NONCANONICAL);
  }
  g->n_validators = codec_get_count(&r, VE_VALIDATORS_MAX, 34);
  for (size_t i = 0; i < g->n_validators && !r.err; i++) {
    get_name(&r, g->validators[i].name, VE_NAME_BYTES_MAX);
    codec_get_fixed(&r, g->validators[i].pk, VCRYPTO_PK_BYTES);
    g->validators[i].power = codec_get_uvarint(&r);
  }
  g->n_authorities = codec_get_count(&r, VE_AUTHORITIES_MAX, 34);
  for (size_t i = 0; i < g->n_authorities && !r.err; i++) {
    get_name(&r, g->authorities[i].name, VE_NAME_BYTES_MAX);
    codec_get_fixed(&r, g->authorities[i].pk, VCRYPTO_PK_BYTES);
    g->authorities[i].roles = (uint32_t)codec_get_uvarint_max(&r, ROLE_ALL_MASK);
  }
  return codec_reader_finish(&r);
}

int ledger_genesis_hash(const ledger_genesis_t *g, uint8_t out[LEDGER_HASH_BYTES]) {
  ve_buf_t buf;
  ve_buf_init(&buf, 0);
  int rc = ledger_genesis_encode(g, &buf);
  if (rc == VE_OK) vcrypto_hash(out, LEDGER_TAG_GENESIS, buf.ptr, buf.len);
  ve_buf_free(&buf);
  return rc;
}

/* Total power must stay far from overflow when consensus sums it. */
#define GENESIS_POWER_MAX ((uint64_t)1 << 48)

int ledger_genesis_check(const ledger_genesis_t *g) {
  if (g->suite != VCRYPTO_SUITE_ED25519_BLAKE2B) return VE_ERR_UNSUPPORTED;
  if (g->protocol > LEDGER_PROTOCOL_IMPLEMENTED) return VE_ERR_UNSUPPORTED;
  size_t cl = strlen(g->chain_id);
  if (cl == 0 || cl > VE_CHAIN_ID_BYTES_MAX) return VE_ERR_CONFIG;
  if (g->n_validators == 0 || g->n_validators > VE_VALIDATORS_MAX) return VE_ERR_CONFIG;
  if (g->n_authorities == 0 || g->n_authorities > VE_AUTHORITIES_MAX) return VE_ERR_CONFIG;
  uint64_t total = 0;
  for (size_t i = 0; i < g->n_validators; i++) {
    const ledger_validator_t *v = &g->validators[i];
    if (v->power == 0 || v->power > GENESIS_POWER_MAX) return VE_ERR_CONFIG;
    total += v->power;
    if (!vcrypto_pk_valid(v->pk)) return VE_ERR_BAD_KEY;
    for (size_t j = 0; j < i; j++)
      if (memcmp(g->validators[j].pk, v->pk, VCRYPTO_PK_BYTES) == 0) return VE_ERR_DUPLICATE;
  }
  if (total > GENESIS_POWER_MAX) return VE_ERR_CONFIG;
  size_t admins = 0;
  for (size_t i = 0; i < g->n_authorities; i++) {
    const ledger_authority_t *a = &g->authorities[i];
    if (a->roles & ~(uint32_t)ROLE_ALL_MASK) return VE_ERR_CONFIG;
    if (a->roles & ROLE_ADMIN) admins++;
    if (!vcrypto_pk_valid(a->pk)) return VE_ERR_BAD_KEY;
    for (size_t j = 0; j < i; j++)
      if (memcmp(g->authorities[j].pk, a->pk, VCRYPTO_PK_BYTES) == 0) return VE_ERR_DUPLICATE;
  }
  if (admins == 0) return VE_ERR_CONFIG; /* someone must be able to grant roles */
  /* From protocol 2 the admins are the first council. */
  if (g->protocol >= LEDGER_PROTOCOL_COUNCIL && admins > LEDGER_COUNCIL_MAX) return VE_ERR_LIMIT;
  return VE_OK;
}
