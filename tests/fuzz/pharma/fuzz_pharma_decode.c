/* fuzz_pharma_decode.c — the pharma app's strict decoders on arbitrary bytes:
 * every input is refused with a real error code, or is a value within the
 * app's limits that re-encodes to exactly its own bytes (docs/pharma.md).
 *
 * Input: one selector byte (modulo 22), then the bytes.
 *   0..9   the payload of tx type 0x0501 + selector  pharma_payload_decode / _encode
 *   10..16 a state value: jurisdiction, licence, product, authorisation,
 *          batch, pack (versions 1 and 2), event (versions 1 and 2)
 *                                                     pharma_*_decode / _encode
 *   17..20 the payload of a container type, 0x050b + (selector - 17)
 *   21     a container record                         pharma_container_decode / _encode
 * No clock, no randomness, nothing kept between runs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/pharma/pharma.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SELECTORS 22

static void assert_err(int rc) { VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN); }

/* out must hold exactly in; frees out. */
static void assert_same(ve_buf_t *out, ve_slice_t in) {
  VE_ASSERT(ve_slice_eq(ve_buf_slice(out), in));
  ve_buf_free(out);
}

static void check_refs(const pharma_tx_t *tx) {
  VE_ASSERT(tx->n_packs >= 1 && tx->n_packs <= PHARMA_TX_PACKS_MAX);
  for (size_t i = 0; i < tx->n_packs; i++) {
    const pharma_pack_ref_t *r = &tx->packs[i];
    VE_ASSERT(pharma_gtin_ok(r->gtin));
    VE_ASSERT(pharma_cset82_ok((const uint8_t *)r->serial, r->serial_len, PHARMA_SERIAL_BYTES_MAX));
    VE_ASSERT(strlen(r->serial) == r->serial_len);
    VE_ASSERT(i == 0 || pharma_pack_ref_cmp(&tx->packs[i - 1], r) < 0);
  }
}

static void fuzz_payload(uint32_t type, ve_slice_t in) {
  static pharma_tx_t tx; /* ~40 KiB */
  int rc = pharma_payload_decode(type, in, &tx);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(in.len <= PHARMA_PAYLOAD_BYTES_MAX);
  switch (type) {
    case TX_TYPE_PHARMA_COMMISSION:
      VE_ASSERT(pharma_date_ok(tx.expiry));
      check_refs(&tx);
      for (size_t i = 0; i < tx.n_packs; i++) VE_ASSERT(!memcmp(tx.packs[i].gtin, tx.gtin, PHARMA_GTIN_BYTES));
      break;
    case TX_TYPE_PHARMA_SHIP:
    case TX_TYPE_PHARMA_RECEIVE:
    case TX_TYPE_PHARMA_DISPENSE:
      check_refs(&tx);
      break;
    case TX_TYPE_PHARMA_DECOMMISSION:
      VE_ASSERT(tx.reason >= 1 && tx.reason <= PHARMA_REASON_MAX);
      check_refs(&tx);
      break;
    case TX_TYPE_PHARMA_LICENSE_SET:
      VE_ASSERT(tx.kinds >= 1 && tx.kinds <= PHARMA_KIND_MASK && tx.status <= PHARMA_LICENCE_REVOKED);
      break;
    case TX_TYPE_PHARMA_AGGREGATE:
      VE_ASSERT(pharma_sscc_ok(tx.sscc));
      check_refs(&tx);
      break;
    case TX_TYPE_PHARMA_DISAGGREGATE:
      VE_ASSERT(pharma_sscc_ok(tx.sscc));
      break;
    case TX_TYPE_PHARMA_SHIP_CONTAINERS:
    case TX_TYPE_PHARMA_RECEIVE_CONTAINERS:
      VE_ASSERT(tx.n_ssccs >= 1 && tx.n_ssccs <= PHARMA_TX_CONTAINERS_MAX);
      for (size_t i = 0; i < tx.n_ssccs; i++) {
        VE_ASSERT(pharma_sscc_ok(tx.ssccs[i]));
        VE_ASSERT(i == 0 || memcmp(tx.ssccs[i - 1], tx.ssccs[i], PHARMA_SSCC_BYTES) < 0);
      }
      break;
    default:
      break;
  }
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(pharma_payload_encode(&tx, &out) == VE_OK);
  assert_same(&out, in);
}

/* One record type: decode, and on success re-encode to the same bytes. */
#define FUZZ_RECORD(name, type, dec, enc, check)                  \
  static void name(ve_slice_t in) {                               \
    static type rec;                                              \
    int rc = dec(in, &rec);                                       \
    if (rc) {                                                     \
      VE_ASSERT(rc == VE_ERR_CORRUPT);                            \
      return;                                                     \
    }                                                             \
    VE_ASSERT(in.len <= PHARMA_VALUE_BYTES_MAX);                  \
    check;                                                        \
    ve_buf_t out;                                                 \
    ve_buf_init(&out, in.len + 1);                                \
    VE_ASSERT(enc(&rec, &out) == VE_OK);                          \
    assert_same(&out, in);                                        \
  }

FUZZ_RECORD(fuzz_jurisdiction, pharma_jurisdiction_t, pharma_jurisdiction_decode, pharma_jurisdiction_encode,
            VE_ASSERT(pharma_country_ok(rec.country)))
FUZZ_RECORD(fuzz_licence, pharma_licence_t, pharma_licence_decode, pharma_licence_encode,
            VE_ASSERT(rec.kinds >= 1 && rec.kinds <= PHARMA_KIND_MASK))
FUZZ_RECORD(fuzz_product, pharma_product_t, pharma_product_decode, pharma_product_encode,
            VE_ASSERT(rec.n_countries <= PHARMA_PRODUCT_COUNTRIES_MAX))
FUZZ_RECORD(fuzz_auth, pharma_auth_t, pharma_auth_decode, pharma_auth_encode,
            VE_ASSERT(rec.status <= PHARMA_WITHDRAWN))
FUZZ_RECORD(fuzz_batch, pharma_batch_t, pharma_batch_decode, pharma_batch_encode,
            VE_ASSERT(rec.n_recalls <= PHARMA_RECALL_COUNTRIES_MAX && pharma_date_ok(rec.expiry)))
FUZZ_RECORD(fuzz_pack, pharma_pack_t, pharma_pack_decode, pharma_pack_encode,
            VE_ASSERT(rec.n_events >= 1 && rec.n_events <= PHARMA_PACK_EVENTS_MAX &&
                      (rec.status == PHARMA_PACK_DECOMMISSIONED) == (rec.reason != 0) &&
                      (in.ptr[0] == 2) == rec.in_container &&
                      (!rec.in_container || (pharma_sscc_ok(rec.sscc) && rec.status <= PHARMA_PACK_IN_TRANSIT))))
FUZZ_RECORD(fuzz_event, pharma_event_t, pharma_event_decode, pharma_event_encode,
            VE_ASSERT(rec.kind >= PHARMA_EVENT_COMMISSION && rec.kind <= PHARMA_EVENT_MAX &&
                      (rec.kind >= PHARMA_EVENT_AGGREGATE) == (in.ptr[0] == 2) &&
                      (rec.kind < PHARMA_EVENT_AGGREGATE || pharma_sscc_ok(rec.sscc))))

/* A container (up to PHARMA_CONTAINER_BYTES_MAX, above the other records' bound). */
static void fuzz_container(ve_slice_t in) {
  static pharma_container_t rec; /* ~32 KiB */
  int rc = pharma_container_decode(in, &rec);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT);
    return;
  }
  VE_ASSERT(in.len <= PHARMA_CONTAINER_BYTES_MAX);
  VE_ASSERT(rec.n_packs >= 1 && rec.n_packs <= PHARMA_CONTAINER_PACKS_MAX && rec.status <= PHARMA_CONTAINER_OPENED);
  for (size_t i = 1; i < rec.n_packs; i++) VE_ASSERT(memcmp(rec.packs[i - 1], rec.packs[i], LEDGER_HASH_BYTES) < 0);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(pharma_container_encode(&rec, &out) == VE_OK);
  assert_same(&out, in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  ve_slice_t in = ve_slice(data + 1, size - 1);
  unsigned sel = data[0] % SELECTORS;
  switch (sel) {
    case 10: fuzz_jurisdiction(in); break;
    case 11: fuzz_licence(in); break;
    case 12: fuzz_product(in); break;
    case 13: fuzz_auth(in); break;
    case 14: fuzz_batch(in); break;
    case 15: fuzz_pack(in); break;
    case 16: fuzz_event(in); break;
    case 17: case 18: case 19: case 20: fuzz_payload(TX_TYPE_PHARMA_AGGREGATE + (sel - 17), in); break;
    case 21: fuzz_container(in); break;
    default: fuzz_payload(TX_TYPE_PHARMA_JURISDICTION_SET + sel, in); break;
  }
  return 0;
}
