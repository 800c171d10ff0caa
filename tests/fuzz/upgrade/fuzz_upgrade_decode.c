/* fuzz_upgrade_decode.c — the protocol-upgrade app's strict decoders on
 * arbitrary bytes: every input is refused with a real error code, or is a
 * value within the app's limits that re-encodes to exactly its own bytes
 * (docs/encoding.md, "Protocol upgrades").
 *
 * Input: one selector byte (modulo 2), then the bytes.
 *   0 PROTOCOL_UPGRADE payload  upgrade_decision_decode / upgrade_decision_encode
 *   1 "upgrade/meta" value      upgrade_meta_decode / upgrade_meta_encode
 * No clock, no randomness, nothing kept between runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apps/upgrade/upgrade.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void assert_err(int rc) { VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN); }

/* out must hold exactly in; frees out. */
static void assert_same(ve_buf_t *out, ve_slice_t in) {
  VE_ASSERT(ve_slice_eq(ve_buf_slice(out), in));
  ve_buf_free(out);
}

static void fuzz_decision(ve_slice_t in) {
  static upgrade_decision_t d; /* ~9 KiB */
  int rc = upgrade_decision_decode(in, &d);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(in.len <= UPGRADE_PAYLOAD_BYTES_MAX);
  VE_ASSERT(d.n_approvals >= 1 && d.n_approvals <= VE_VALIDATORS_MAX);
  for (uint32_t i = 0; i < d.n_approvals; i++) {
    VE_ASSERT(d.approvals[i].index < VE_VALIDATORS_MAX);
    VE_ASSERT(i == 0 || d.approvals[i - 1].index < d.approvals[i].index);
  }
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(upgrade_decision_encode(&out, &d) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_meta(ve_slice_t in) {
  upgrade_meta_t m;
  int rc = upgrade_meta_decode(in, &m);
  if (rc) {
    assert_err(rc);
    return;
  }
  /* The invariants of a meta execution can have written (upgrade.c). */
  VE_ASSERT(in.len <= UPGRADE_META_BYTES_MAX);
  VE_ASSERT(m.active >= 1 && m.active <= UPGRADE_PROTOCOL_MAX);
  VE_ASSERT((m.pending_from == 0) == (m.pending_protocol == 0));
  VE_ASSERT(m.pending_from == 0 || (m.pending_protocol > m.active && m.pending_protocol <= UPGRADE_PROTOCOL_MAX &&
                                    m.pending_from <= UPGRADE_HEIGHT_MAX));
  /* The protocol never goes back, and changes only at pending_from. */
  VE_ASSERT(upgrade_protocol_at(&m, 0) == m.active);
  VE_ASSERT(upgrade_protocol_at(&m, UINT64_MAX) >= m.active);
  if (m.pending_from != 0) {
    VE_ASSERT(upgrade_protocol_at(&m, m.pending_from - 1) == m.active);
    VE_ASSERT(upgrade_protocol_at(&m, m.pending_from) == m.pending_protocol);
  }
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(upgrade_meta_encode(&out, &m) == VE_OK);
  assert_same(&out, in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  ve_slice_t in = ve_slice(data + 1, size - 1);
  if (data[0] % 2 == 0) fuzz_decision(in);
  else fuzz_meta(in);
  return 0;
}
