/* fuzz_property_decode.c — the property app's strict decoders on arbitrary
 * bytes: every input is refused with a real error code, or is a value within
 * the app's limits and rules that re-encodes to exactly its own bytes
 * (docs/property.md, "Encodings").
 *
 * Input: one selector byte (modulo 9; 0..5 as before the lineage types, so
 * the old seeds keep their meaning), then:
 *   0..3  the payload of REGISTER, TRANSFER, ENCUMBER, RELEASE
 *         (property_payload_decode / property_payload_encode; for the last
 *         three also: the action bytes are the payload with no consents)
 *   4     a title record value, version 1 or 2 (property_title_decode /
 *         _encode), decoded under the id of the cadastral number it carries
 *         when that parses (else under a zero id, which it must refuse)
 *   5     a history event, every kind: one byte, the version (key), then the
 *         value (property_event_decode / _encode)
 *   6..8  the payload of SUBDIVIDE, MERGE, HOLDER_REPLACE (as 1..3; the
 *         pieces strictly ascending by id, SUBDIVIDE's ids those of their
 *         cadastral numbers)
 * No clock, no randomness, nothing kept between runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apps/property/property.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void assert_err(int rc) { VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN); }

static void assert_same(ve_buf_t *out, ve_slice_t in) {
  VE_ASSERT(ve_slice_eq(ve_buf_slice(out), in));
  ve_buf_free(out);
}

static void assert_owners(const property_owner_t *o, size_t n) {
  VE_ASSERT(property_owners_check(o, n) == VE_OK);
  VE_ASSERT(property_parts_sum(o, n) <= PROPERTY_PARTS_SUM_MAX);
}

static void fuzz_payload(uint32_t type, ve_slice_t in) {
  static property_action_t a; /* ~9 KiB */
  int rc = property_payload_decode(type, in, &a);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(a.type == type && in.len <= PROPERTY_PAYLOAD_BYTES_MAX);
  if (type == TX_TYPE_PROPERTY_REGISTER || type == TX_TYPE_PROPERTY_TRANSFER) assert_owners(a.owners, a.n_owners);
  if (type == TX_TYPE_PROPERTY_REGISTER) {
    uint8_t id[LEDGER_HASH_BYTES];
    VE_ASSERT(property_parcel_id(id, a.cadastral) == VE_OK);
    VE_ASSERT(a.area_m2 >= 1 && a.area_m2 <= PROPERTY_AREA_M2_MAX && a.n_consents == 0);
  }
  if (type == TX_TYPE_PROPERTY_ENCUMBER) VE_ASSERT(a.kind >= 1 && a.kind <= PROPERTY_ENC_KIND_MAX);
  if (type == TX_TYPE_PROPERTY_SUBDIVIDE || type == TX_TYPE_PROPERTY_MERGE) {
    VE_ASSERT(a.n_pieces >= 2 && a.n_pieces <= PROPERTY_LINEAGE_MAX);
    for (size_t i = 0; i < a.n_pieces; i++) {
      VE_ASSERT(i == 0 || memcmp(a.pieces[i - 1].id, a.pieces[i].id, 32) < 0);
      if (type == TX_TYPE_PROPERTY_MERGE) continue;
      uint8_t id[LEDGER_HASH_BYTES];
      VE_ASSERT(property_parcel_id(id, a.pieces[i].cadastral) == VE_OK && !memcmp(id, a.pieces[i].id, 32));
      VE_ASSERT(a.pieces[i].area_m2 >= 1 && a.pieces[i].area_m2 <= PROPERTY_AREA_M2_MAX);
    }
  } else {
    VE_ASSERT(a.n_pieces == 0);
  }
  for (size_t i = 1; i < a.n_consents; i++) VE_ASSERT(memcmp(a.consents[i - 1].id, a.consents[i].id, 32) < 0);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(property_payload_encode(&out, &a) == VE_OK);
  assert_same(&out, in);
  if (type == TX_TYPE_PROPERTY_REGISTER) return;
  /* The action is the payload's prefix before the consents, then a zero count. */
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(property_action_bytes(&out, &a) == VE_OK);
  size_t tail = 1 + a.n_consents * (LEDGER_HASH_BYTES + VCRYPTO_SIG_BYTES);
  VE_ASSERT(out.len >= 1 && in.len >= tail);
  VE_ASSERT(out.ptr[out.len - 1] == 0);
  VE_ASSERT(out.len - 1 + codec_uvarint_size(a.n_consents) + a.n_consents * 96 == in.len);
  VE_ASSERT(!memcmp(out.ptr, in.ptr, out.len - 1));
  ve_buf_free(&out);
}

/* The id of the cadastral number a title value starts with (version byte,
 * one-byte length), or zero. */
static void title_id(ve_slice_t in, uint8_t id[LEDGER_HASH_BYTES]) {
  memset(id, 0, LEDGER_HASH_BYTES);
  if (in.len < 2 || in.ptr[1] > PROPERTY_CADASTRAL_BYTES_MAX || in.len < 2u + in.ptr[1]) return;
  char cad[PROPERTY_CADASTRAL_BYTES_MAX + 1] = {0};
  memcpy(cad, in.ptr + 2, in.ptr[1]);
  if (property_parcel_id(id, cad) != VE_OK) memset(id, 0, LEDGER_HASH_BYTES);
}

static void fuzz_title(ve_slice_t in) {
  static property_title_t t;
  uint8_t id[LEDGER_HASH_BYTES];
  title_id(in, id);
  int rc = property_title_decode(in, id, &t);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT);
    return;
  }
  VE_ASSERT(in.len <= PROPERTY_RECORD_BYTES_MAX);
  VE_ASSERT(t.version >= 1 && t.next_number >= 1 && t.n_encumbrances <= PROPERTY_ENCUMBRANCES_MAX);
  assert_owners(t.owners, t.n_owners);
  /* Version 1 exactly for an ACTIVE title without lineage; RETIRED exactly
   * with children; both lists strictly ascending. */
  bool lineage = t.status != PROPERTY_ACTIVE || t.n_parents || t.n_children;
  VE_ASSERT(in.ptr[0] == (lineage ? PROPERTY_TITLE_VERSION_LINEAGE : PROPERTY_VERSION));
  VE_ASSERT(t.status <= PROPERTY_RETIRED && (t.status == PROPERTY_RETIRED) == (t.n_children > 0));
  VE_ASSERT(t.n_parents <= PROPERTY_LINEAGE_MAX && t.n_children <= PROPERTY_LINEAGE_MAX);
  for (size_t i = 1; i < t.n_parents; i++) VE_ASSERT(memcmp(t.parents[i - 1], t.parents[i], 32) < 0);
  for (size_t i = 1; i < t.n_children; i++) VE_ASSERT(memcmp(t.children[i - 1], t.children[i], 32) < 0);
  for (size_t i = 0; i < t.n_encumbrances; i++) {
    VE_ASSERT(t.encumbrances[i].number >= 1 && t.encumbrances[i].number < t.next_number);
    VE_ASSERT(i == 0 || t.encumbrances[i - 1].number < t.encumbrances[i].number);
  }
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(property_title_encode(&out, &t) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_event(ve_slice_t in) {
  if (in.len < 1) return;
  uint64_t version = in.ptr[0];
  ve_slice_t v = ve_slice(in.ptr + 1, in.len - 1);
  static property_event_t e;
  int rc = property_event_decode(v, version, &e);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT);
    return;
  }
  VE_ASSERT(v.len <= PROPERTY_EVENT_BYTES_MAX && e.version == version);
  VE_ASSERT((version == 1) == (e.kind == PROPERTY_EV_REGISTER || e.kind == PROPERTY_EV_ORIGIN));
  VE_ASSERT(e.kind >= PROPERTY_EV_REGISTER && e.kind <= PROPERTY_EV_KIND_MAX);
  if (e.kind == PROPERTY_EV_REGISTER || e.kind == PROPERTY_EV_TRANSFER || e.kind == PROPERTY_EV_ORIGIN)
    assert_owners(e.owners, e.n_owners);
  if (e.kind == PROPERTY_EV_SUBDIVIDE) VE_ASSERT(e.n_lineage >= 2 && e.n_lineage <= PROPERTY_LINEAGE_MAX);
  if (e.kind == PROPERTY_EV_MERGE) VE_ASSERT(e.n_lineage == 1);
  if (e.kind == PROPERTY_EV_ORIGIN) {
    VE_ASSERT(e.n_lineage >= 1 && e.n_lineage <= PROPERTY_LINEAGE_MAX && e.n_origins <= PROPERTY_ENCUMBRANCES_MAX);
    for (size_t i = 0; i < e.n_origins; i++) VE_ASSERT(e.origins[i].parent < e.n_lineage && e.origins[i].number);
  }
  if (e.kind == PROPERTY_EV_HOLDER_REPLACE) VE_ASSERT(memcmp(e.holder, e.new_holder, 32) != 0);
  ve_buf_t out;
  ve_buf_init(&out, v.len + 1);
  VE_ASSERT(property_event_encode(&out, &e) == VE_OK);
  assert_same(&out, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  ve_slice_t in = ve_slice(data + 1, size - 1);
  unsigned sel = data[0] % 9;
  if (sel < 4) fuzz_payload(TX_TYPE_PROPERTY_REGISTER + sel, in);
  else if (sel == 4) fuzz_title(in);
  else if (sel == 5) fuzz_event(in);
  else fuzz_payload(TX_TYPE_PROPERTY_SUBDIVIDE + (sel - 6), in);
  return 0;
}
