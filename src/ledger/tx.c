/* tx.c — the transaction envelope: canonical encoding, signing, ids.
 *
 * Layout (docs/encoding.md, "Transaction"):
 *   u8 version(=1) | bytes chain_id(≤64) | fixed32 signer | uvarint seq |
 *   uvarint expiry | uvarint type(≤0xffff) | bytes payload(≤60 KiB) | fixed64 sig
 * The signature covers H("veche/tx/sig", everything before sig).
 */
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "ledger/ledger.h"

static void put_unsigned(codec_writer_t *w, const ledger_tx_t *tx) {
  codec_put_u8(w, tx->version);
  codec_put_bytes(w, tx->chain_id.ptr, tx->chain_id.len, VE_CHAIN_ID_BYTES_MAX);
  codec_put_fixed(w, tx->signer, sizeof tx->signer);
  codec_put_uvarint(w, tx->seq);
  codec_put_uvarint(w, tx->expiry);
  codec_put_uvarint(w, tx->type);
  codec_put_bytes(w, tx->payload.ptr, tx->payload.len, VE_TX_PAYLOAD_BYTES_MAX);
}

int ledger_tx_encode_unsigned(const ledger_tx_t *tx, ve_buf_t *out) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  if (tx->type > LEDGER_TX_TYPE_MAX) return VE_ERR_INVALID;
  put_unsigned(&w, tx);
  return codec_writer_finish(&w);
}

int ledger_tx_encode(const ledger_tx_t *tx, ve_buf_t *out) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  if (tx->type > LEDGER_TX_TYPE_MAX) return VE_ERR_INVALID;
  put_unsigned(&w, tx);
  codec_put_fixed(&w, tx->sig, sizeof tx->sig);
  return codec_writer_finish(&w);
}

/* Strict decode of a whole transaction; tx borrows from in. */
int ledger_tx_decode(ve_slice_t in, ledger_tx_t *tx) {
  if (in.len > VE_TX_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_reader_t r;
  codec_reader_init(&r, in);
  tx->version = codec_get_u8(&r);
  if (!r.err && tx->version != LEDGER_TX_VERSION) codec_fail(&r, VE_ERR_VERSION);
  tx->chain_id = codec_get_bytes(&r, VE_CHAIN_ID_BYTES_MAX);
  codec_get_fixed(&r, tx->signer, sizeof tx->signer);
  tx->seq = codec_get_uvarint(&r);
  tx->expiry = codec_get_uvarint(&r);
  tx->type = (uint32_t)codec_get_uvarint_max(&r, LEDGER_TX_TYPE_MAX);
  tx->payload = codec_get_bytes(&r, VE_TX_PAYLOAD_BYTES_MAX);
  codec_get_fixed(&r, tx->sig, sizeof tx->sig);
  return codec_reader_finish(&r);
}

/* The signed digest input is the encoding minus the trailing signature. */
static int unsigned_bytes(const ledger_tx_t *tx, ve_buf_t *buf) {
  ve_buf_init(buf, VE_TX_BYTES_MAX);
  int rc = ledger_tx_encode_unsigned(tx, buf);
  if (rc) ve_buf_free(buf);
  return rc;
}

int ledger_tx_sign(ledger_tx_t *tx, const vcrypto_keypair_t *kp) {
  memcpy(tx->signer, kp->pk, sizeof tx->signer);
  ve_buf_t buf;
  VE_TRY(unsigned_bytes(tx, &buf));
  vcrypto_sign(tx->sig, kp, LEDGER_TAG_TX_SIG, buf.ptr, buf.len);
  ve_buf_free(&buf);
  return VE_OK;
}

int ledger_tx_verify_sig(const ledger_tx_t *tx) {
  ve_buf_t buf;
  VE_TRY(unsigned_bytes(tx, &buf));
  int rc = vcrypto_verify(tx->sig, tx->signer, LEDGER_TAG_TX_SIG, buf.ptr, buf.len);
  ve_buf_free(&buf);
  return rc;
}

int ledger_tx_verify_sig_encoded(ve_slice_t encoded_tx, const ledger_tx_t *tx) {
  VE_ASSERT(encoded_tx.len > VCRYPTO_SIG_BYTES &&
            memcmp(encoded_tx.ptr + encoded_tx.len - VCRYPTO_SIG_BYTES, tx->sig, VCRYPTO_SIG_BYTES) == 0);
  return vcrypto_verify(tx->sig, tx->signer, LEDGER_TAG_TX_SIG, encoded_tx.ptr,
                        encoded_tx.len - VCRYPTO_SIG_BYTES);
}

static vcrypto_tag_t g_id_tag = VCRYPTO_TAG_INIT(LEDGER_TAG_TX_ID);

void ledger_tx_id(uint8_t out[LEDGER_HASH_BYTES], ve_slice_t encoded_tx) {
  vcrypto_hash_tag(out, &g_id_tag, encoded_tx.ptr, encoded_tx.len);
}
