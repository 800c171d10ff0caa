/* poll_codec.c — canonical encodings of the poll app: payloads, definitions,
 * state records and state keys, plus ids and proof contexts. Every decoder is
 * strict (one encoding per value, limits checked before anything is copied);
 * docs/voting.md is the specification. */
#include <string.h>

#include "apps/voting/poll_int.h"
#include "base/err.h"
#include "crypto/crypto.h"

/* The standard ristretto255 generator (RFC 9496). */
const uint8_t VPOLL_BASE_G[VOTE_POINT_BYTES] = {
    0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9, 0x61, 0xc5, 0x00, 0x51, 0x5f,
    0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82, 0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76};

/* ---- small helpers ---- */

uint32_t vpoll_popcount(uint32_t m) {
  uint32_t n = 0;
  for (; m; m &= m - 1) n++;
  return n;
}

void vpoll_chain_cstr(char out[VE_CHAIN_ID_BYTES_MAX + 1], ve_slice_t chain_id) {
  size_t n = chain_id.len > VE_CHAIN_ID_BYTES_MAX ? VE_CHAIN_ID_BYTES_MAX : chain_id.len;
  if (n) memcpy(out, chain_id.ptr, n);
  out[n] = 0;
}

/* Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF) and
 * no control characters, so every text is a valid JSON string. */
bool vpoll_text_ok(const uint8_t *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    uint8_t c = s[i];
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      i++;
      continue;
    }
    size_t n;
    uint32_t cp, min;
    if ((c & 0xe0) == 0xc0) n = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0) n = 3, cp = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0) n = 4, cp = c & 0x07, min = 0x10000;
    else return false;
    if (len - i < n) return false;
    for (size_t k = 1; k < n; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp >= 0x80 && cp <= 0x9f) return false; /* C1 controls */
    i += n;
  }
  return true;
}

static bool filter_key_ok(const char *k) {
  size_t n = strlen(k);
  if (n == 0 || n > VOTING_FILTER_KEY_BYTES_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char c = k[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

static bool filter_value_ok(const char *v) {
  size_t n = strlen(v);
  if (n > VOTING_FILTER_VALUE_BYTES_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if ((uint8_t)v[i] < 0x20 || (uint8_t)v[i] > 0x7e) return false;
  return true;
}

/* ---- ids and contexts ---- */

void voting_poll_id(uint8_t out[VOTING_ID_BYTES], const uint8_t signer_pk[VCRYPTO_PK_BYTES], uint64_t seq) {
  uint8_t m[VCRYPTO_PK_BYTES + 8];
  memcpy(m, signer_pk, VCRYPTO_PK_BYTES);
  ve_be64_put(m + VCRYPTO_PK_BYTES, seq);
  vcrypto_hash(out, VOTING_TAG_POLL_ID, m, sizeof m);
}

void voting_poll_context(uint8_t out[32], ve_slice_t chain_id, const uint8_t poll[VOTING_ID_BYTES]) {
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  vpoll_chain_cstr(chain, chain_id);
  vote_context_make(out, chain, poll, poll);
}

static void put_be32(uint8_t out[4], uint32_t v) {
  out[0] = (uint8_t)(v >> 24), out[1] = (uint8_t)(v >> 16), out[2] = (uint8_t)(v >> 8), out[3] = (uint8_t)v;
}

void voting_ballot_context(uint8_t out[VOTING_QCTX_BYTES], ve_slice_t chain_id,
                           const uint8_t poll[VOTING_ID_BYTES], const uint8_t voter[LEDGER_HASH_BYTES],
                           uint32_t q) {
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  vpoll_chain_cstr(chain, chain_id);
  vote_context_make(out, chain, poll, voter);
  put_be32(out + 32, q);
}

void voting_decrypt_context(uint8_t out[VOTING_QCTX_BYTES], ve_slice_t chain_id,
                            const uint8_t poll[VOTING_ID_BYTES], uint32_t q) {
  voting_poll_context(out, chain_id, poll);
  put_be32(out + 32, q);
}

void voting_tracker(uint8_t out[32], ve_slice_t ballot_list) {
  vote_ballot_tracker(out, ballot_list.ptr, ballot_list.len);
}

void vpoll_trustee_pop_context(uint8_t out[32], ve_slice_t chain_id, const uint8_t identity[32]) {
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  uint8_t slot[32];
  vpoll_chain_cstr(chain, chain_id);
  vcrypto_hash(slot, VOTING_TAG_TRUSTEE_KEY, NULL, 0);
  vote_context_make(out, chain, slot, identity);
}

/* ---- state keys ---- */

static size_t key2(uint8_t *out, const char *prefix, const uint8_t *a, const uint8_t *b) {
  size_t n = strlen(prefix);
  memcpy(out, prefix, n);
  memcpy(out + n, a, 32);
  n += 32;
  if (b) {
    memcpy(out + n, b, 32);
    n += 32;
  }
  return n;
}

size_t voting_poll_key(uint8_t out[VOTING_POLL_KEY_BYTES], const uint8_t poll[32]) {
  return key2(out, "vp/", poll, NULL);
}
size_t voting_tally_key(uint8_t out[VOTING_TALLY_KEY_BYTES], const uint8_t poll[32]) {
  return key2(out, "vpt/", poll, NULL);
}
size_t voting_ballot_key(uint8_t out[VOTING_BALLOT_KEY_BYTES], const uint8_t poll[32], const uint8_t voter[32]) {
  return key2(out, "vb/", poll, voter);
}
size_t voting_tracker_key(uint8_t out[VOTING_TRACKER_KEY_BYTES], const uint8_t poll[32],
                          const uint8_t tracker[32]) {
  return key2(out, "vbt/", poll, tracker);
}
size_t voting_dealing_key(uint8_t out[VOTING_DEALING_KEY_BYTES], const uint8_t poll[32], uint32_t dealer) {
  size_t n = key2(out, "vpd/", poll, NULL);
  out[n++] = (uint8_t)dealer;
  return n;
}
size_t voting_complaint_key(uint8_t out[VOTING_COMPLAINT_KEY_BYTES], const uint8_t poll[32], uint32_t dealer,
                            uint32_t complainer) {
  size_t n = key2(out, "vpc/", poll, NULL);
  out[n++] = (uint8_t)dealer;
  out[n++] = (uint8_t)complainer;
  return n;
}
size_t voting_decrypt_key(uint8_t out[VOTING_DECRYPT_KEY_BYTES], const uint8_t poll[32], uint32_t trustee) {
  size_t n = key2(out, "vpx/", poll, NULL);
  out[n++] = (uint8_t)trustee;
  return n;
}
size_t voting_trustee_key(uint8_t out[VOTING_TRUSTEE_KEY_BYTES], const uint8_t identity[32]) {
  return key2(out, "vtk/", identity, NULL);
}

/* ---- the poll definition ---- */

static void put_text(codec_writer_t *w, const char *s, size_t max) {
  codec_put_bytes(w, (const uint8_t *)s, strlen(s), max);
}

/* A text field: 1..max bytes (0..max if may_be_empty) of vpoll_text_ok. */
static void get_text(codec_reader_t *r, char *out, size_t max, bool may_be_empty) {
  ve_slice_t s = codec_get_bytes(r, max);
  if (r->err) return;
  if ((s.len == 0 && !may_be_empty) || !vpoll_text_ok(s.ptr, s.len)) {
    codec_fail(r, VE_ERR_INVALID);
    return;
  }
  if (s.len) memcpy(out, s.ptr, s.len);
  out[s.len] = 0;
}

void vpoll_put_def(codec_writer_t *w, const voting_def_t *d) {
  put_text(w, d->title, VOTING_TITLE_BYTES_MAX);
  codec_put_uvarint(w, d->n_questions);
  for (uint32_t i = 0; i < d->n_questions && i < VOTING_QUESTIONS_MAX; i++) {
    const voting_question_t *q = &d->q[i];
    put_text(w, q->text, VOTING_QUESTION_BYTES_MAX);
    codec_put_uvarint(w, q->options);
    for (uint32_t o = 0; o < q->options && q->first + o < VOTING_OPTIONS_MAX; o++)
      put_text(w, d->option[q->first + o], VOTING_OPTION_BYTES_MAX);
    codec_put_uvarint(w, q->min);
    codec_put_uvarint(w, q->max);
  }
  codec_put_bool(w, d->has_filter);
  if (d->has_filter) {
    put_text(w, d->filter_key, VOTING_FILTER_KEY_BYTES_MAX);
    put_text(w, d->filter_value, VOTING_FILTER_VALUE_BYTES_MAX);
  }
  codec_put_uvarint(w, d->deal_end);
  codec_put_uvarint(w, d->complaint_end);
  codec_put_uvarint(w, d->open_height);
  codec_put_uvarint(w, d->close_height);
  codec_put_uvarint(w, d->threshold);
  codec_put_uvarint(w, d->n_trustees);
  for (uint32_t j = 0; j < d->n_trustees && j < VOTING_TRUSTEES_MAX; j++)
    codec_put_fixed(w, d->trustees[j], LEDGER_HASH_BYTES);
}

int vpoll_def_check(const voting_def_t *d) {
  if (d->n_questions < 1 || d->n_questions > VOTING_QUESTIONS_MAX) return VE_ERR_INVALID;
  uint32_t first = 0;
  size_t ballots_bytes = 0;
  for (uint32_t i = 0; i < d->n_questions; i++) {
    const voting_question_t *q = &d->q[i];
    if (q->first != first || q->options < 1 || q->options > VOTE_OPTIONS_MAX) return VE_ERR_INVALID;
    if (q->options > VOTING_OPTIONS_MAX - first) return VE_ERR_LIMIT;
    if (q->min > q->max || q->max > q->options || q->max < 1) return VE_ERR_INVALID;
    first += q->options;
    /* Each ballot costs its size plus a length prefix in the ballot list. */
    ballots_bytes += vote_ballot_size(q->options, q->min, q->max) + CODEC_UVARINT_BYTES_MAX;
  }
  if (first != d->n_options) return VE_ERR_INVALID;
  if (ballots_bytes > VOTING_BALLOTS_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (d->has_filter && (!filter_key_ok(d->filter_key) || !filter_value_ok(d->filter_value)))
    return VE_ERR_INVALID;
  if (!(d->deal_end < d->complaint_end && d->complaint_end < d->open_height &&
        d->open_height <= d->close_height))
    return VE_ERR_INVALID;
  if (d->n_trustees < VOTING_TRUSTEES_MIN || d->n_trustees > VOTING_TRUSTEES_MAX) return VE_ERR_INVALID;
  if (d->threshold < 2 || d->threshold > d->n_trustees) return VE_ERR_INVALID;
  for (uint32_t j = 0; j < d->n_trustees; j++)
    for (uint32_t k = 0; k < j; k++)
      if (!memcmp(d->trustees[j], d->trustees[k], LEDGER_HASH_BYTES)) return VE_ERR_DUPLICATE;
  return VE_OK;
}

static void get_def_body(codec_reader_t *r, voting_def_t *d) {
  get_text(r, d->title, VOTING_TITLE_BYTES_MAX, false);
  d->n_questions = (uint32_t)codec_get_count(r, VOTING_QUESTIONS_MAX, VPOLL_QUESTION_BYTES_MIN);
  if (!r->err && d->n_questions == 0) codec_fail(r, VE_ERR_INVALID);
  for (uint32_t i = 0; i < d->n_questions && !r->err; i++) {
    voting_question_t *q = &d->q[i];
    get_text(r, q->text, VOTING_QUESTION_BYTES_MAX, false);
    q->first = d->n_options;
    q->options = (uint32_t)codec_get_count(r, VOTE_OPTIONS_MAX, 2);
    if (r->err) break;
    if (q->options == 0) codec_fail(r, VE_ERR_INVALID);
    if (q->options > VOTING_OPTIONS_MAX - d->n_options) codec_fail(r, VE_ERR_LIMIT);
    for (uint32_t o = 0; o < q->options && !r->err; o++)
      get_text(r, d->option[d->n_options + o], VOTING_OPTION_BYTES_MAX, false);
    if (!r->err) d->n_options += q->options;
    q->min = (uint32_t)codec_get_uvarint_max(r, VOTE_OPTIONS_MAX);
    q->max = (uint32_t)codec_get_uvarint_max(r, VOTE_OPTIONS_MAX);
  }
  d->has_filter = codec_get_bool(r);
  if (d->has_filter) {
    get_text(r, d->filter_key, VOTING_FILTER_KEY_BYTES_MAX, false);
    get_text(r, d->filter_value, VOTING_FILTER_VALUE_BYTES_MAX, true);
  }
  d->deal_end = codec_get_uvarint(r);
  d->complaint_end = codec_get_uvarint(r);
  d->open_height = codec_get_uvarint(r);
  d->close_height = codec_get_uvarint(r);
  d->threshold = (uint32_t)codec_get_uvarint_max(r, VOTING_TRUSTEES_MAX);
  d->n_trustees = (uint32_t)codec_get_count(r, VOTING_TRUSTEES_MAX, LEDGER_HASH_BYTES);
  for (uint32_t j = 0; j < d->n_trustees && !r->err; j++) codec_get_fixed(r, d->trustees[j], LEDGER_HASH_BYTES);
}

int voting_def_decode(ve_slice_t payload, voting_def_t *out) {
  memset(out, 0, sizeof *out);
  if (payload.len > VOTING_DEF_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_reader_t r;
  codec_reader_init(&r, payload);
  if (codec_get_u8(&r) != VOTING_PAYLOAD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  get_def_body(&r, out);
  VE_TRY(codec_reader_finish(&r));
  return vpoll_def_check(out);
}

int vpoll_def_encode(const voting_def_t *def, ve_buf_t *out) {
  VE_TRY(vpoll_def_check(def));
  for (uint32_t i = 0; i < def->n_questions; i++)
    if (!vpoll_text_ok((const uint8_t *)def->q[i].text, strlen(def->q[i].text)) || !def->q[i].text[0])
      return VE_ERR_INVALID;
  for (uint32_t o = 0; o < def->n_options; o++)
    if (!vpoll_text_ok((const uint8_t *)def->option[o], strlen(def->option[o])) || !def->option[o][0])
      return VE_ERR_INVALID;
  if (!def->title[0] || !vpoll_text_ok((const uint8_t *)def->title, strlen(def->title))) return VE_ERR_INVALID;
  size_t start = out->len;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, VOTING_PAYLOAD_VERSION);
  vpoll_put_def(&w, def);
  VE_TRY(codec_writer_finish(&w));
  return out->len - start > VOTING_DEF_BYTES_MAX ? VE_ERR_TOO_BIG : VE_OK;
}

int voting_payload_create(ve_buf_t *out, const voting_def_t *def) { return vpoll_def_encode(def, out); }

/* ---- the poll record ---- */

int vpoll_record_encode(const voting_poll_t *p, ve_buf_t *out) {
  const voting_def_t *d = &p->def;
  ve_buf_t def;
  ve_buf_init(&def, VOTING_DEF_BYTES_MAX);
  int rc = vpoll_def_encode(d, &def);
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, VOTING_RECORD_VERSION);
  codec_put_fixed(&w, p->organizer, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, p->created_height);
  codec_put_bytes(&w, def.ptr, def.len, VOTING_DEF_BYTES_MAX);
  for (uint32_t j = 0; j < d->n_trustees; j++) codec_put_fixed(&w, p->enc_pk[j], VOTE_POINT_BYTES);
  codec_put_u8(&w, (uint8_t)p->status);
  codec_put_uvarint(&w, p->status_height);
  codec_put_uvarint(&w, p->dealt);
  for (uint32_t i = 0; i < d->n_trustees; i++) codec_put_uvarint(&w, p->complained[i]);
  codec_put_uvarint(&w, p->upheld);
  codec_put_bool(&w, p->has_key);
  if (p->has_key) {
    codec_put_uvarint(&w, p->qualified);
    codec_put_fixed(&w, p->pk, VOTE_POINT_BYTES);
    for (uint32_t j = 0; j < d->n_trustees; j++) codec_put_fixed(&w, p->vk[j], VOTE_POINT_BYTES);
  }
  codec_put_uvarint(&w, p->decrypted);
  codec_put_bool(&w, p->has_result);
  if (p->has_result) {
    codec_put_uvarint(&w, p->result_height);
    codec_put_uvarint(&w, p->voters);
    codec_put_uvarint(&w, p->used);
    for (uint32_t o = 0; o < d->n_options; o++) codec_put_uvarint(&w, p->counts[o]);
    for (uint32_t o = 0; o < d->n_options; o++) codec_put_fixed(&w, p->tally[o], VOTE_CT_BYTES);
  }
  ve_buf_free(&def);
  int wrc = codec_writer_finish(&w);
  return rc ? rc : wrc;
}

/* A trustee mask: only bits of trustees 1..n. */
static uint32_t get_mask(codec_reader_t *r, uint32_t n) {
  uint64_t m = codec_get_uvarint_max(r, UINT32_MAX);
  if (n < 32 && (m >> n)) codec_fail(r, VE_ERR_MALFORMED);
  return (uint32_t)m;
}

int voting_poll_decode(ve_slice_t value, const uint8_t id[VOTING_ID_BYTES], voting_poll_t *out) {
  memset(out, 0, sizeof *out);
  memcpy(out->id, id, VOTING_ID_BYTES);
  if (value.len > VOTING_RECORD_BYTES_MAX) return VE_ERR_CORRUPT;
  codec_reader_t r;
  codec_reader_init(&r, value);
  if (codec_get_u8(&r) != VOTING_RECORD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  codec_get_fixed(&r, out->organizer, LEDGER_HASH_BYTES);
  out->created_height = codec_get_uvarint(&r);
  ve_slice_t def = codec_get_bytes(&r, VOTING_DEF_BYTES_MAX);
  if (!r.err) {
    codec_fail(&r, voting_def_decode(def, &out->def));
    vcrypto_hash(out->def_hash, VOTING_TAG_DEF, def.ptr, def.len);
  }
  uint32_t n = out->def.n_trustees;
  for (uint32_t j = 0; j < n && !r.err; j++) codec_get_fixed(&r, out->enc_pk[j], VOTE_POINT_BYTES);
  uint8_t st = codec_get_u8(&r);
  if (st > VOTING_DONE) codec_fail(&r, VE_ERR_MALFORMED);
  out->status = (voting_status_t)st;
  out->status_height = codec_get_uvarint(&r);
  out->dealt = get_mask(&r, n);
  for (uint32_t i = 0; i < n && !r.err; i++) out->complained[i] = get_mask(&r, n);
  out->upheld = get_mask(&r, n);
  out->has_key = codec_get_bool(&r);
  if (out->has_key) {
    out->qualified = get_mask(&r, n);
    codec_get_fixed(&r, out->pk, VOTE_POINT_BYTES);
    for (uint32_t j = 0; j < n && !r.err; j++) codec_get_fixed(&r, out->vk[j], VOTE_POINT_BYTES);
  }
  out->decrypted = get_mask(&r, n);
  out->has_result = codec_get_bool(&r);
  if (out->has_result) {
    out->result_height = codec_get_uvarint(&r);
    out->voters = codec_get_uvarint_max(&r, VOTING_VOTERS_MAX);
    out->used = get_mask(&r, n);
    for (uint32_t o = 0; o < out->def.n_options && !r.err; o++)
      out->counts[o] = codec_get_uvarint_max(&r, VOTING_VOTERS_MAX);
    for (uint32_t o = 0; o < out->def.n_options && !r.err; o++)
      codec_get_fixed(&r, out->tally[o], VOTE_CT_BYTES);
  }
  /* Status and contents must agree. */
  if (!r.err) {
    bool keyed = out->status == VOTING_READY || out->status == VOTING_DONE;
    if (keyed != out->has_key && !(out->status == VOTING_CANCELLED && out->has_key))
      codec_fail(&r, VE_ERR_MALFORMED);
    if ((out->status == VOTING_DONE) != out->has_result) codec_fail(&r, VE_ERR_MALFORMED);
  }
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

/* ---- tally, ballot, trustee key and complaint records ---- */

int vpoll_tally_encode(const voting_tally_rec_t *t, ve_buf_t *out) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, VOTING_RECORD_VERSION);
  codec_put_uvarint(&w, t->voters);
  codec_put_uvarint(&w, t->ballots);
  for (uint32_t o = 0; o < t->n_options; o++) codec_put_fixed(&w, t->cts[o], VOTE_CT_BYTES);
  return codec_writer_finish(&w);
}

int voting_tally_decode(ve_slice_t value, uint32_t n_options, voting_tally_rec_t *out) {
  memset(out, 0, sizeof *out);
  if (n_options == 0 || n_options > VOTING_OPTIONS_MAX) return VE_ERR_INVALID;
  out->n_options = n_options;
  codec_reader_t r;
  codec_reader_init(&r, value);
  if (codec_get_u8(&r) != VOTING_RECORD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->voters = codec_get_uvarint_max(&r, VOTING_VOTERS_MAX);
  out->ballots = codec_get_uvarint(&r);
  for (uint32_t o = 0; o < n_options && !r.err; o++) codec_get_fixed(&r, out->cts[o], VOTE_CT_BYTES);
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

int vpoll_ballot_rec_encode(const voting_ballot_rec_t *b, ve_buf_t *out) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, VOTING_RECORD_VERSION);
  codec_put_fixed(&w, b->tracker, 32);
  codec_put_uvarint(&w, b->height);
  codec_put_uvarint(&w, b->revision);
  for (uint32_t o = 0; o < b->n_options; o++) codec_put_fixed(&w, b->cts[o], VOTE_CT_BYTES);
  return codec_writer_finish(&w);
}

int voting_ballot_rec_decode(ve_slice_t value, const uint8_t voter[32], uint32_t n_options,
                             voting_ballot_rec_t *out) {
  memset(out, 0, sizeof *out);
  if (n_options == 0 || n_options > VOTING_OPTIONS_MAX) return VE_ERR_INVALID;
  memcpy(out->voter, voter, 32);
  out->n_options = n_options;
  codec_reader_t r;
  codec_reader_init(&r, value);
  if (codec_get_u8(&r) != VOTING_RECORD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  codec_get_fixed(&r, out->tracker, 32);
  out->height = codec_get_uvarint(&r);
  out->revision = codec_get_uvarint(&r);
  if (!r.err && out->revision == 0) codec_fail(&r, VE_ERR_MALFORMED);
  for (uint32_t o = 0; o < n_options && !r.err; o++) codec_get_fixed(&r, out->cts[o], VOTE_CT_BYTES);
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

int vpoll_trustee_key_encode(const voting_trustee_key_t *k, ve_buf_t *out) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, VOTING_RECORD_VERSION);
  codec_put_fixed(&w, k->enc_pk, VOTE_POINT_BYTES);
  codec_put_uvarint(&w, k->height);
  return codec_writer_finish(&w);
}

int voting_trustee_key_decode(ve_slice_t value, voting_trustee_key_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, value);
  if (codec_get_u8(&r) != VOTING_RECORD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  codec_get_fixed(&r, out->enc_pk, VOTE_POINT_BYTES);
  out->height = codec_get_uvarint(&r);
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

int voting_complaint_rec_decode(ve_slice_t value, bool *upheld, ve_slice_t *complaint) {
  if (value.len != 1 + VOTE_DKG_COMPLAINT_BYTES || value.ptr[0] > 1) return VE_ERR_CORRUPT;
  *upheld = value.ptr[0] == 1;
  *complaint = ve_slice(value.ptr + 1, VOTE_DKG_COMPLAINT_BYTES);
  return VE_OK;
}

/* ---- payloads ---- */

static void put_head(codec_writer_t *w, ve_buf_t *out, const uint8_t poll[32]) {
  codec_writer_init(w, out);
  codec_put_u8(w, VOTING_PAYLOAD_VERSION);
  codec_put_fixed(w, poll, VOTING_ID_BYTES);
}

int voting_payload_poll(ve_slice_t payload, uint8_t poll[VOTING_ID_BYTES]) {
  if (payload.len < 1 + VOTING_ID_BYTES) return VE_ERR_MALFORMED;
  if (payload.ptr[0] != VOTING_PAYLOAD_VERSION) return VE_ERR_VERSION;
  memcpy(poll, payload.ptr + 1, VOTING_ID_BYTES);
  return VE_OK;
}

int voting_payload_trustee_key(ve_buf_t *out, ve_slice_t chain_id, const uint8_t identity[32],
                               const vote_keypair_t *enc, const uint8_t seed[VOTE_SEED_BYTES]) {
  if (chain_id.len == 0 || chain_id.len > VE_CHAIN_ID_BYTES_MAX) return VE_ERR_INVALID;
  VE_TRY(vote_pk_check(enc->pk));
  uint8_t ctx[32], d[VOTE_POINT_BYTES], proof[VOTE_DLEQ_PROOF_BYTES];
  vpoll_trustee_pop_context(ctx, chain_id, identity);
  VE_TRY(vote_partial_decrypt(d, proof, enc->sk, 0, VPOLL_BASE_G, ctx, sizeof ctx, seed));
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, VOTING_PAYLOAD_VERSION);
  codec_put_fixed(&w, enc->pk, VOTE_POINT_BYTES);
  codec_put_fixed(&w, proof, sizeof proof);
  return codec_writer_finish(&w);
}

int voting_payload_cancel(ve_buf_t *out, const uint8_t poll[32], const char *reason) {
  size_t n = reason ? strlen(reason) : 0;
  if (n > VOTING_REASON_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_writer_t w;
  put_head(&w, out, poll);
  codec_put_bytes(&w, (const uint8_t *)reason, n, VOTING_REASON_BYTES_MAX);
  return codec_writer_finish(&w);
}

int voting_payload_deal(ve_buf_t *out, const uint8_t poll[32], ve_slice_t dealing) {
  if (dealing.len > VOTE_DKG_DEALING_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_writer_t w;
  put_head(&w, out, poll);
  codec_put_bytes(&w, dealing.ptr, dealing.len, VOTE_DKG_DEALING_BYTES_MAX);
  return codec_writer_finish(&w);
}

int voting_payload_complain(ve_buf_t *out, const uint8_t poll[32], ve_slice_t complaint) {
  if (complaint.len != VOTE_DKG_COMPLAINT_BYTES) return VE_ERR_INVALID;
  codec_writer_t w;
  put_head(&w, out, poll);
  codec_put_fixed(&w, complaint.ptr, complaint.len);
  return codec_writer_finish(&w);
}

int voting_payload_finish(ve_buf_t *out, const uint8_t poll[32]) {
  codec_writer_t w;
  put_head(&w, out, poll);
  return codec_writer_finish(&w);
}

int voting_payload_ballot(ve_buf_t *out, const uint8_t poll[32], const uint8_t voter[32],
                          const ve_slice_t *ballots, size_t n) {
  if (n == 0 || n > VOTING_QUESTIONS_MAX) return VE_ERR_INVALID;
  for (size_t i = 0; i < n; i++)
    if (ballots[i].len > VOTE_BALLOT_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_writer_t w;
  put_head(&w, out, poll);
  codec_put_fixed(&w, voter, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, n);
  for (size_t i = 0; i < n; i++) codec_put_bytes(&w, ballots[i].ptr, ballots[i].len, VOTE_BALLOT_BYTES_MAX);
  return codec_writer_finish(&w);
}

int voting_payload_decrypt(ve_buf_t *out, const uint8_t poll[32], const ve_slice_t *shares, size_t n) {
  if (n == 0 || n > VOTING_QUESTIONS_MAX) return VE_ERR_INVALID;
  for (size_t i = 0; i < n; i++)
    if (shares[i].len > VOTE_DECSHARE_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_writer_t w;
  put_head(&w, out, poll);
  codec_put_uvarint(&w, n);
  for (size_t i = 0; i < n; i++) codec_put_bytes(&w, shares[i].ptr, shares[i].len, VOTE_DECSHARE_BYTES_MAX);
  return codec_writer_finish(&w);
}

int voting_ballot_payload_decode(ve_slice_t payload, voting_ballot_payload_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, payload);
  if (codec_get_u8(&r) != VOTING_PAYLOAD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  codec_get_fixed(&r, out->poll, VOTING_ID_BYTES);
  codec_get_fixed(&r, out->voter, LEDGER_HASH_BYTES);
  size_t start = r.pos;
  out->n = (uint32_t)codec_get_count(&r, VOTING_QUESTIONS_MAX, 1);
  if (!r.err && out->n == 0) codec_fail(&r, VE_ERR_MALFORMED);
  for (uint32_t i = 0; i < out->n && !r.err; i++) out->ballot[i] = codec_get_bytes(&r, VOTE_BALLOT_BYTES_MAX);
  if (!r.err) out->list = ve_slice(payload.ptr + start, r.pos - start);
  return codec_reader_finish(&r);
}

int voting_decrypt_payload_decode(ve_slice_t payload, voting_decrypt_payload_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, payload);
  if (codec_get_u8(&r) != VOTING_PAYLOAD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  codec_get_fixed(&r, out->poll, VOTING_ID_BYTES);
  out->n = (uint32_t)codec_get_count(&r, VOTING_QUESTIONS_MAX, 1);
  if (!r.err && out->n == 0) codec_fail(&r, VE_ERR_MALFORMED);
  for (uint32_t i = 0; i < out->n && !r.err; i++) out->share[i] = codec_get_bytes(&r, VOTE_DECSHARE_BYTES_MAX);
  return codec_reader_finish(&r);
}

int vpoll_ballot_shape(ve_slice_t ballot, uint32_t *options, uint32_t *min, uint32_t *max) {
  codec_reader_t r;
  codec_reader_init(&r, ballot);
  /* An unknown version answers as every other version byte does
   * (vote_ballot_verify included), not as garbage. */
  if (codec_get_u8(&r) != 1 && !r.err) codec_fail(&r, VE_ERR_VERSION);
  *options = (uint32_t)codec_get_uvarint_max(&r, VOTE_OPTIONS_MAX);
  *min = (uint32_t)codec_get_uvarint_max(&r, VOTE_OPTIONS_MAX);
  *max = (uint32_t)codec_get_uvarint_max(&r, VOTE_OPTIONS_MAX);
  if (r.err == VE_ERR_VERSION) return VE_ERR_VERSION;
  return r.err ? VE_ERR_MALFORMED : VE_OK;
}

uint32_t voting_trustee_index(const voting_def_t *def, const uint8_t identity[32]) {
  for (uint32_t j = 0; j < def->n_trustees; j++)
    if (!memcmp(def->trustees[j], identity, LEDGER_HASH_BYTES)) return j + 1;
  return 0;
}

const char *voting_status_name(voting_status_t s) {
  switch (s) {
    case VOTING_DKG: return "dkg";
    case VOTING_READY: return "ready";
    case VOTING_FAILED: return "failed";
    case VOTING_CANCELLED: return "cancelled";
    case VOTING_DONE: return "done";
  }
  return "unknown";
}

const char *voting_phase_name(const voting_poll_t *p, uint64_t h) {
  switch (p->status) {
    case VOTING_DKG:
      if (h > p->def.close_height) return "dkg_expired"; /* never finished: unusable */
      return h > p->def.complaint_end ? "dkg_finish_due" : "dkg";
    case VOTING_READY:
      if (h < p->def.open_height) return "scheduled";
      return h <= p->def.close_height ? "open" : "closed";
    default: return voting_status_name(p->status);
  }
}
