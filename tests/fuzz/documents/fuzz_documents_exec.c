/* fuzz_documents_exec.c — arbitrary documents payloads executed for real.
 *
 * Set up once in a memory store: a chain whose admin authority holds every
 * role, and in block 1 one registered document (with a blob reference) and a
 * grant of it to the admin, so payloads that name that document (FUZZ_DOC_*
 * below; the seeds do) reach supersede, revoke, grant, grant revoke, erase and
 * renew past the lookups. Each input is a payload executed as every documents
 * tx type (and one type past the range) in block 2, a dry run on a read
 * transaction: nothing is committed, so runs are independent. Whatever the
 * payload, execution returns 0 or a real error code, never crashes, and the
 * overlay is discarded cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apps/documents/documents.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "ledger/ledger.h"
#include "fuzz_chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHAIN FUZZ_CHAIN_ID
static const ledger_registry_t REG = {&identity_auth, {&identity_app, &documents_app}, 2, NULL};
static store_t *g_store;
static vcrypto_keypair_t g_admin;

static int exec_one(ledger_exec_t *ex, uint64_t seq, uint32_t type, ve_slice_t payload) {
  ledger_tx_t tx = {.version = 1, .chain_id = ve_slice(FUZZ_CHAIN, 4), .seq = seq, .expiry = 10,
                    .type = type, .payload = payload};
  memcpy(tx.signer, g_admin.pk, 32);
  return ledger_exec_tx(ex, &tx);
}

/* Block 1: the document every seed names, and a grant of it to the admin. */
static void setup_block1(void) {
  uint8_t admin_id[LEDGER_HASH_BYTES];
  identity_id_from_pk(admin_id, g_admin.pk);
  documents_spec_t spec = {.type = "permit", .digest = {.alg = DOCUMENTS_ALG_BLAKE2B_256, .bytes = {1}},
                           .has_blob = true, .blob_id = {2}, .blob_bytes = 100};
  memcpy(spec.subject, admin_id, sizeof admin_id);
  uint8_t doc[LEDGER_HASH_BYTES], wrapped[DOCUMENTS_WRAPPED_KEY_BYTES] = {3};
  documents_id(doc, admin_id, &spec.digest);

  store_txn_t *t;
  ledger_exec_t *ex;
  VE_ASSERT(store_txn_begin(g_store, true, &t) == VE_OK);
  VE_ASSERT(ledger_exec_begin(&ex, &REG, t, ve_slice(FUZZ_CHAIN, 4), 1, 1000) == VE_OK);
  ve_buf_t p;
  ve_buf_init(&p, 4096);
  VE_ASSERT(documents_payload_register(&p, &spec) == VE_OK);
  VE_ASSERT(exec_one(ex, 1, TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p)) == VE_OK);
  p.len = 0;
  VE_ASSERT(documents_payload_grant(&p, doc, admin_id, g_admin.pk, wrapped) == VE_OK);
  VE_ASSERT(exec_one(ex, 2, TX_TYPE_DOCUMENT_GRANT, ve_buf_slice(&p)) == VE_OK);
  ve_buf_free(&p);
  uint8_t root[LEDGER_HASH_BYTES];
  VE_ASSERT(ledger_exec_finish(ex, root) == VE_OK);
  ledger_exec_free(ex);
  VE_ASSERT(store_txn_commit(t) == VE_OK);
}

static void setup(void) {
  g_store = fuzz_chain_open(&REG, &g_admin);
  setup_block1();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_store) setup();
  if (size > VE_TX_PAYLOAD_BYTES_MAX) return 0;
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(g_store, false, &t) == VE_OK);
  for (uint32_t type = TX_TYPE_DOCUMENT_REGISTER; type <= TX_TYPE_DOCUMENT_RENEW + 1; type++) {
    ledger_exec_t *ex;
    VE_ASSERT(ledger_exec_begin(&ex, &REG, t, ve_slice(FUZZ_CHAIN, 4), 2, 2000) == VE_OK);
    int rc = exec_one(ex, 3, type, ve_slice(data, size));
    VE_ASSERT(rc <= 0 && rc >= VE_ERR_MIN);
    ledger_exec_free(ex);
  }
  store_txn_abort(t);
  return 0;
}
