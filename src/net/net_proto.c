/* net_proto.c — the peer wire protocol as pure functions.
 *
 * Why these choices (docs/net.md has the byte layouts):
 *  - HELLO carries a fresh X25519 key and a hash of the chain id, so a node of
 *    another chain is told apart before any signature is made or checked.
 *  - Session keys come from the X25519 secret hashed with the chain hash and
 *    both ephemeral keys, one key per direction; nonces are counters, so a
 *    replayed, reordered, dropped or reflected frame fails to open.
 *  - AUTH signs the transcript (signer's role, chain hash, both ephemerals): it
 *    cannot be replayed into another connection (other ephemerals), another
 *    chain, or back at its sender (other role). It travels encrypted as the
 *    first frame of each direction, which also confirms the session key.
 */
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "net/net_int.h"

void net_be32_put(uint8_t out[4], uint32_t v) {
  out[0] = (uint8_t)(v >> 24);
  out[1] = (uint8_t)(v >> 16);
  out[2] = (uint8_t)(v >> 8);
  out[3] = (uint8_t)v;
}

uint32_t net_be32_get(const uint8_t in[4]) {
  return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

void net_chain_hash(uint8_t out[NET_KEY_BYTES], const char *chain_id) {
  vcrypto_hash(out, NET_TAG_CHAIN, (const uint8_t *)chain_id, strlen(chain_id));
}

void net_eph_generate(uint8_t esk[NET_KEY_BYTES], uint8_t epk[NET_KEY_BYTES]) {
  randombytes_buf(esk, NET_KEY_BYTES);
  VE_ASSERT(crypto_scalarmult_base(epk, esk) == 0);
}

/* ---- HELLO ---- */

void net_hello_encode(uint8_t out[NET_HELLO_BYTES], const uint8_t chain_hash[NET_KEY_BYTES],
                      const uint8_t epk[NET_KEY_BYTES]) {
  memcpy(out, NET_MAGIC, NET_MAGIC_BYTES);
  out[NET_MAGIC_BYTES] = NET_PROTO_VERSION;
  memcpy(out + NET_MAGIC_BYTES + 1, chain_hash, NET_KEY_BYTES);
  memcpy(out + NET_MAGIC_BYTES + 1 + NET_KEY_BYTES, epk, NET_KEY_BYTES);
}

int net_hello_decode(const uint8_t in[NET_HELLO_BYTES], const uint8_t chain_hash[NET_KEY_BYTES],
                     uint8_t peer_epk[NET_KEY_BYTES]) {
  if (memcmp(in, NET_MAGIC, NET_MAGIC_BYTES) != 0) return VE_ERR_MALFORMED;
  if (in[NET_MAGIC_BYTES] != NET_PROTO_VERSION) return VE_ERR_VERSION;
  if (memcmp(in + NET_MAGIC_BYTES + 1, chain_hash, NET_KEY_BYTES) != 0) return VE_ERR_WRONG_CHAIN;
  memcpy(peer_epk, in + NET_MAGIC_BYTES + 1 + NET_KEY_BYTES, NET_KEY_BYTES);
  return VE_OK;
}

/* ---- session keys ---- */

int net_session_derive(net_session_t *s, int role, const uint8_t esk[NET_KEY_BYTES],
                       const uint8_t e_i[NET_KEY_BYTES], const uint8_t e_r[NET_KEY_BYTES],
                       const uint8_t chain_hash[NET_KEY_BYTES]) {
  VE_ASSERT(role == NET_ROLE_INITIATOR || role == NET_ROLE_RESPONDER);
  memset(s, 0, sizeof *s);
  /* Equal ephemerals mean our own HELLO came back (reflection); refuse it. */
  if (sodium_memcmp(e_i, e_r, NET_KEY_BYTES) == 0) return VE_ERR_MALFORMED;
  const uint8_t *peer = role == NET_ROLE_INITIATOR ? e_r : e_i;
  uint8_t q[NET_KEY_BYTES];
  if (crypto_scalarmult(q, esk, peer) != 0) {
    sodium_memzero(q, sizeof q);
    return VE_ERR_CRYPTO; /* all-zero output: the peer sent a small-order point */
  }
  /* okm = BLAKE2b-512(len(tag) || tag || q || chain_hash || e_i || e_r) */
  static const char tag[] = NET_TAG_KDF;
  uint8_t tag_len = (uint8_t)(sizeof tag - 1);
  uint8_t okm[2 * NET_KEY_BYTES];
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof okm);
  crypto_generichash_update(&st, &tag_len, 1);
  crypto_generichash_update(&st, (const uint8_t *)tag, tag_len);
  crypto_generichash_update(&st, q, sizeof q);
  crypto_generichash_update(&st, chain_hash, NET_KEY_BYTES);
  crypto_generichash_update(&st, e_i, NET_KEY_BYTES);
  crypto_generichash_update(&st, e_r, NET_KEY_BYTES);
  crypto_generichash_final(&st, okm, sizeof okm);
  /* First half: initiator → responder; second half: responder → initiator. */
  const uint8_t *i2r = okm, *r2i = okm + NET_KEY_BYTES;
  memcpy(s->key_tx, role == NET_ROLE_INITIATOR ? i2r : r2i, NET_KEY_BYTES);
  memcpy(s->key_rx, role == NET_ROLE_INITIATOR ? r2i : i2r, NET_KEY_BYTES);
  sodium_memzero(q, sizeof q);
  sodium_memzero(okm, sizeof okm);
  sodium_memzero(&st, sizeof st);
  return VE_OK;
}

void net_session_wipe(net_session_t *s) { sodium_memzero(s, sizeof *s); }

/* ---- AUTH ---- */

void net_transcript(uint8_t out[NET_TRANSCRIPT_BYTES], int role,
                    const uint8_t chain_hash[NET_KEY_BYTES], const uint8_t e_i[NET_KEY_BYTES],
                    const uint8_t e_r[NET_KEY_BYTES]) {
  out[0] = NET_PROTO_VERSION;
  out[1] = (uint8_t)role;
  memcpy(out + 2, chain_hash, NET_KEY_BYTES);
  memcpy(out + 2 + NET_KEY_BYTES, e_i, NET_KEY_BYTES);
  memcpy(out + 2 + 2 * NET_KEY_BYTES, e_r, NET_KEY_BYTES);
}

void net_auth_make(uint8_t out[NET_AUTH_PLAIN_BYTES], const vcrypto_keypair_t *kp, int role,
                   const uint8_t chain_hash[NET_KEY_BYTES], const uint8_t e_i[NET_KEY_BYTES],
                   const uint8_t e_r[NET_KEY_BYTES]) {
  uint8_t t[NET_TRANSCRIPT_BYTES];
  net_transcript(t, role, chain_hash, e_i, e_r);
  memcpy(out, kp->pk, VCRYPTO_PK_BYTES);
  vcrypto_sign(out + VCRYPTO_PK_BYTES, kp, NET_TAG_HANDSHAKE, t, sizeof t);
}

int net_auth_check(const uint8_t in[NET_AUTH_PLAIN_BYTES], int role,
                   const uint8_t chain_hash[NET_KEY_BYTES], const uint8_t e_i[NET_KEY_BYTES],
                   const uint8_t e_r[NET_KEY_BYTES], uint8_t pk[VCRYPTO_PK_BYTES]) {
  uint8_t t[NET_TRANSCRIPT_BYTES];
  net_transcript(t, role, chain_hash, e_i, e_r);
  if (vcrypto_verify(in + VCRYPTO_PK_BYTES, in, NET_TAG_HANDSHAKE, t, sizeof t) != 0)
    return VE_ERR_BAD_SIG;
  memcpy(pk, in, VCRYPTO_PK_BYTES);
  return VE_OK;
}

/* ---- frames ---- */

static void nonce_of(uint8_t nonce[NET_NONCE_BYTES], uint64_t ctr) {
  memset(nonce, 0, 4);
  ve_be64_put(nonce + 4, ctr);
}

int net_seal(net_session_t *s, uint8_t *frame, size_t pt_len) {
  VE_ASSERT(pt_len <= NET_FRAME_BYTES_MAX - NET_AEAD_TAG_BYTES);
  if (s->ctr_tx == UINT64_MAX) return VE_ERR_LIMIT;
  uint8_t nonce[NET_NONCE_BYTES];
  nonce_of(nonce, s->ctr_tx);
  net_be32_put(frame, (uint32_t)(pt_len + NET_AEAD_TAG_BYTES));
  unsigned long long ct_len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(frame + NET_LEN_BYTES, &ct_len, frame + NET_LEN_BYTES,
                                            pt_len, frame, NET_LEN_BYTES, NULL, nonce, s->key_tx);
  VE_ASSERT(ct_len == pt_len + NET_AEAD_TAG_BYTES);
  s->ctr_tx++;
  return VE_OK;
}

int net_open(net_session_t *s, const uint8_t hdr[NET_LEN_BYTES], uint8_t *ct, size_t ct_len) {
  if (ct_len < NET_AEAD_TAG_BYTES || net_be32_get(hdr) != ct_len) return VE_ERR_CRYPTO;
  if (s->ctr_rx == UINT64_MAX) return VE_ERR_LIMIT;
  uint8_t nonce[NET_NONCE_BYTES];
  nonce_of(nonce, s->ctr_rx);
  unsigned long long pt_len = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(ct, &pt_len, NULL, ct, ct_len, hdr, NET_LEN_BYTES,
                                                nonce, s->key_rx) != 0)
    return VE_ERR_CRYPTO;
  s->ctr_rx++;
  return VE_OK;
}
