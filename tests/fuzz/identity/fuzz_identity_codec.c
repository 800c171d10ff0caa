/* fuzz_identity_codec.c — the identity app's encodings that
 * tests/fuzz/ledger/fuzz_identity_exec.c does not check for canonicity.
 *
 * That harness executes arbitrary payloads as every identity transaction type
 * (no crash, a real error code). This one checks one encoding per value:
 *   even selector: an identity record (identity_decode, the value an API
 *     client or light client gets in a proof bundle) re-encodes to its bytes
 *     with identity_encode, the encoder the app stores records with;
 *   odd selector: a register payload that a dry run accepts writes a record
 *     whose key, digest and attributes identity_payload_register encodes back
 *     to exactly the payload (so two different payloads never register the
 *     same identity the same way).
 * The chain (an admin+registrar authority in a memory store) is set up once;
 * runs are dry runs on read transactions, independent of each other. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apps/identity/identity.h"
#include "base/err.h"
#include "ledger/ledger.h"
#include "fuzz_chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHAIN FUZZ_CHAIN_ID
static const ledger_registry_t REG = {&identity_auth, {&identity_app}, 1, NULL};
static store_t *g_store;
static vcrypto_keypair_t g_admin;

static void setup(void) {
  g_store = fuzz_chain_open(&REG, &g_admin);
}

static void fuzz_record(ve_slice_t in) {
  static const uint8_t ID[LEDGER_HASH_BYTES] = {0x1d};
  identity_t rec;
  int rc = identity_decode(in, ID, &rec);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT);
    return;
  }
  VE_ASSERT(rec.n_attrs <= IDENTITY_ATTRS_MAX && rec.status <= IDENTITY_REVOKED);
  VE_ASSERT((rec.roles & ~(uint32_t)ROLE_ALL_MASK) == 0);
  for (size_t i = 1; i < rec.n_attrs; i++) VE_ASSERT(strcmp(rec.attrs[i - 1].key, rec.attrs[i].key) < 0);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(identity_encode(&rec, &out) == VE_OK);
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), in));
  ve_buf_free(&out);
}

static void fuzz_register(ve_slice_t in) {
  if (in.len > VE_TX_PAYLOAD_BYTES_MAX) return;
  store_txn_t *t;
  ledger_exec_t *ex;
  VE_ASSERT(store_txn_begin(g_store, false, &t) == VE_OK);
  VE_ASSERT(ledger_exec_begin(&ex, &REG, t, ve_slice(FUZZ_CHAIN, 4), 1, 1) == VE_OK);
  ledger_tx_t tx = {.version = 1, .chain_id = ve_slice(FUZZ_CHAIN, 4), .seq = 1, .expiry = 10,
                    .type = TX_TYPE_IDENTITY_REGISTER, .payload = in};
  memcpy(tx.signer, g_admin.pk, 32);
  int rc = ledger_exec_tx(ex, &tx);
  VE_ASSERT(rc <= 0 && rc >= VE_ERR_MIN);
  if (rc == VE_OK) {
    /* The new identity's id is that of the key at offset 1 (after the version). */
    VE_ASSERT(in.len >= 1 + VCRYPTO_PK_BYTES);
    uint8_t id[LEDGER_HASH_BYTES], key[3 + LEDGER_HASH_BYTES];
    identity_id_from_pk(id, in.ptr + 1);
    ve_slice_t v;
    VE_ASSERT(ledger_state_get(ex, ve_slice(key, identity_state_key(key, id)), &v) == VE_OK);
    identity_t rec;
    VE_ASSERT(identity_decode(v, id, &rec) == VE_OK);
    VE_ASSERT(rec.status == IDENTITY_ACTIVE && rec.roles == 0);
    ve_buf_t out;
    ve_buf_init(&out, in.len + 1);
    VE_ASSERT(identity_payload_register(&out, rec.pk, rec.attr_digest, rec.attrs, rec.n_attrs) == VE_OK);
    VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), in));
    ve_buf_free(&out);
  }
  ledger_exec_free(ex);
  store_txn_abort(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_store) setup();
  if (size < 1) return 0;
  ve_slice_t in = ve_slice(data + 1, size - 1);
  if (data[0] % 2 == 0)
    fuzz_record(in);
  else
    fuzz_register(in);
  return 0;
}
