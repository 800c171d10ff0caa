/* evidence.c — see evidence.h. */
#include "apps/evidence/evidence.h"

#include <string.h>

#include "apps/valset/valset.h"
#include "base/err.h"
#include "codec/codec.h"

#define PAYLOAD_VERSION 1
#define RECORD_VERSION 1

void evidence_id(uint8_t out[LEDGER_HASH_BYTES], ve_slice_t evidence) {
  vcrypto_hash(out, EVIDENCE_TAG_ID, evidence.ptr, evidence.len);
}

size_t evidence_state_key(uint8_t out[3 + LEDGER_HASH_BYTES], const uint8_t id[LEDGER_HASH_BYTES]) {
  memcpy(out, "ev/", 3);
  memcpy(out + 3, id, LEDGER_HASH_BYTES);
  return 3 + LEDGER_HASH_BYTES;
}

int evidence_payload(ve_buf_t *out, ve_slice_t evidence) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, PAYLOAD_VERSION);
  codec_put_bytes(&w, evidence.ptr, evidence.len, CONS_EVIDENCE_BYTES_MAX);
  return codec_writer_finish(&w);
}

/* Record: version | uvarint included_height | fixed32 submitter | bytes evidence.
 * The identifying fields are re-derived from the evidence bytes on decode. */
int evidence_decode(ve_slice_t value, const uint8_t id[LEDGER_HASH_BYTES], evidence_record_t *out) {
  memset(out, 0, sizeof *out);
  memcpy(out->id, id, LEDGER_HASH_BYTES);
  codec_reader_t r;
  codec_reader_init(&r, value);
  if (codec_get_u8(&r) != RECORD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->included_height = codec_get_uvarint(&r);
  codec_get_fixed(&r, out->submitter, LEDGER_HASH_BYTES);
  out->evidence = codec_get_bytes(&r, CONS_EVIDENCE_BYTES_MAX);
  VE_TRY(codec_reader_finish(&r));
  return cons_evidence_info(out->evidence, &out->info);
}

static int evidence_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  if (tx->type != TX_TYPE_EVIDENCE_SUBMIT) return VE_ERR_UNKNOWN_TYPE;
  codec_reader_t r;
  codec_reader_init(&r, tx->payload);
  if (codec_get_u8(&r) != PAYLOAD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  ve_slice_t ev = codec_get_bytes(&r, CONS_EVIDENCE_BYTES_MAX);
  VE_TRY(codec_reader_finish(&r));
  cons_evidence_info_t info;
  VE_TRY(cons_evidence_info(ev, &info));
  if (info.height >= ledger_exec_height(ex) + 1) return VE_ERR_HEIGHT; /* not from the future */
  /* The set that governed the equivocation's height, not the latest: a
   * validator that has left can still be shown to have equivocated while it
   * was one, and a joiner cannot be blamed for heights before it joined. */
  cons_valset_t set; /* ~5 KiB: fine on the loop thread's and HTTP threads' stacks */
  VE_TRY(valset_governing_exec(ex, info.height, &set));
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  ve_slice_t c = ledger_exec_chain_id(ex);
  memcpy(chain, c.ptr, c.len);
  chain[c.len] = 0;
  int rc = cons_evidence_verify(&set, chain, ev);
  if (rc == VE_ERR_BAD_SIG || rc == VE_ERR_UNKNOWN_SIGNER) return VE_ERR_PROOF;
  VE_TRY(rc);
  uint8_t id[LEDGER_HASH_BYTES], key[3 + LEDGER_HASH_BYTES];
  evidence_id(id, ev);
  ve_slice_t k = ve_slice(key, evidence_state_key(key, id)), old;
  rc = ledger_state_get(ex, k, &old);
  if (rc == VE_OK) return VE_ERR_EXISTS;
  if (rc != VE_ERR_NOT_FOUND) return rc;
  uint8_t mem[CONS_EVIDENCE_BYTES_MAX + 64];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  codec_writer_t w;
  codec_writer_init(&w, &b);
  codec_put_u8(&w, RECORD_VERSION);
  codec_put_uvarint(&w, ledger_exec_height(ex));
  codec_put_fixed(&w, s->identity_id, LEDGER_HASH_BYTES);
  codec_put_bytes(&w, ev.ptr, ev.len, CONS_EVIDENCE_BYTES_MAX);
  VE_TRY(codec_writer_finish(&w));
  return ledger_state_put(ex, k, ve_slice(mem, b.len));
}

const ledger_app_t evidence_app = {
    .name = "evidence",
    .type_lo = 0x0001,
    .type_hi = 0x000f,
    .apply = evidence_apply,
};
