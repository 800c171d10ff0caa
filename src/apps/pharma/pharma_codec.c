/* pharma_codec.c — the canonical encodings of the pharma app: identifiers and
 * dates, state keys, stored records and transaction payloads. One encoding per
 * value (docs/encoding.md); every decoder is strict and reports the first
 * failure. Layouts: docs/pharma.md, "State" and "Payloads". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/pharma/pharma.h"
#include "base/err.h"
#include "codec/codec.h"

#define PHARMA_PAYLOAD_VERSION 1
#define PHARMA_RECORD_VERSION 1
/* A pack in a container, and the AGGREGATE / DISAGGREGATE events: the
 * version-1 layout followed by the SSCC. Only the container transactions
 * write them, so records of packs outside containers keep their old bytes. */
#define PHARMA_RECORD_VERSION_SSCC 2
#define CONTAINER_BYTES_MIN (2 + LEDGER_HASH_BYTES) /* one pack key */
/* Fewest bytes of one encoded pack reference (gtin + len + 1 serial byte). */
#define PACK_REF_BYTES_MIN (PHARMA_GTIN_BYTES + 2)
#define SERIAL_BYTES_MIN 2
#define RECALL_BYTES_MIN (PHARMA_COUNTRY_BYTES + LEDGER_HASH_BYTES + PHARMA_DIGEST_BYTES + 1)

/* ---- names ---- */

static const char *name_of(const char *const *names, size_t n, unsigned v) {
  return v < n && names[v] ? names[v] : "unknown";
}

static int index_of(const char *const *names, size_t n, const char *name) {
  for (size_t i = 0; name && i < n; i++)
    if (names[i] && !strcmp(names[i], name)) return (int)i;
  return -1;
}

static const char *const LICENCE_STATUS[] = {"active", "suspended", "revoked"};
static const char *const AUTH_STATUS[] = {"authorised", "withdrawn"};
static const char *const PACK_STATUS[] = {"active", "in_transit", "dispensed", "decommissioned"};
static const char *const REASONS[] = {"none", "destroyed", "stolen", "sample", "exported"};
static const char *const EVENTS[] = {NULL,       "commission", "ship",        "receive",
                                     "dispense", "decommission", "aggregate", "disaggregate"};
static const char *const CONTAINER_STATUS[] = {"closed", "in_transit", "opened"};
static const char *const KINDS[] = {"manufacturer", "wholesaler", "dispenser"};
#define N(a) (sizeof a / sizeof a[0])

const char *pharma_licence_status_name(unsigned s) { return name_of(LICENCE_STATUS, N(LICENCE_STATUS), s); }
const char *pharma_auth_status_name(unsigned s) { return name_of(AUTH_STATUS, N(AUTH_STATUS), s); }
const char *pharma_pack_status_name(unsigned s) { return name_of(PACK_STATUS, N(PACK_STATUS), s); }
const char *pharma_reason_name(unsigned r) { return name_of(REASONS, N(REASONS), r); }
const char *pharma_event_kind_name(unsigned k) { return name_of(EVENTS, N(EVENTS), k); }
const char *pharma_container_status_name(unsigned s) { return name_of(CONTAINER_STATUS, N(CONTAINER_STATUS), s); }
int pharma_reason_from_name(const char *name) { return index_of(REASONS, N(REASONS), name); }
int pharma_licence_status_from_name(const char *name) { return index_of(LICENCE_STATUS, N(LICENCE_STATUS), name); }

uint32_t pharma_kinds_from_names(const char *list) {
  uint32_t kinds = 0;
  const char *p = list;
  while (p && *p) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    bool known = false;
    for (size_t i = 0; i < N(KINDS); i++) {
      if (strlen(KINDS[i]) == len && !memcmp(KINDS[i], p, len)) kinds |= 1u << i, known = true;
    }
    if (!known) return 0;
    p = e ? e + 1 : NULL;
  }
  return kinds;
}

void pharma_kinds_names(uint32_t kinds, char *out, size_t out_len) {
  size_t used = 0;
  out[0] = 0;
  for (size_t i = 0; i < N(KINDS); i++) {
    if (!(kinds & (1u << i)) || used >= out_len) continue;
    int w = snprintf(out + used, out_len - used, "%s%s", used ? "," : "", KINDS[i]);
    if (w > 0) used += (size_t)w;
  }
  if (!used) snprintf(out, out_len, "none");
}

/* ---- identifiers ---- */

static bool country_bytes_ok(const uint8_t *s) {
  return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

bool pharma_country_ok(const char *s) {
  return s && strnlen(s, 3) == PHARMA_COUNTRY_BYTES && country_bytes_ok((const uint8_t *)s);
}

/* GS1 General Specifications §7.9.1: the data digits are weighted 3, 1, 3, ...
 * starting with the digit next to the check digit and moving left; check =
 * (10 - sum mod 10) mod 10. Counting from the right makes one function serve
 * every length (for GTIN-14's 13 data digits it is the same as 3, 1, ... from
 * the left). */
bool pharma_gs1_check_ok(const uint8_t *s, size_t n) {
  if (n < 2) return false;
  unsigned sum = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return false;
  for (size_t d = 1; d < n; d++) sum += (unsigned)(s[n - 1 - d] - '0') * (d % 2 == 1 ? 3u : 1u);
  return (10 - sum % 10) % 10 == (unsigned)(s[n - 1] - '0');
}

static bool gtin_bytes_ok(const uint8_t *s) { return pharma_gs1_check_ok(s, PHARMA_GTIN_BYTES); }
static bool sscc_bytes_ok(const uint8_t *s) { return pharma_gs1_check_ok(s, PHARMA_SSCC_BYTES); }

bool pharma_sscc_ok(const char *s) {
  return s && strnlen(s, PHARMA_SSCC_BYTES + 1) == PHARMA_SSCC_BYTES && sscc_bytes_ok((const uint8_t *)s);
}

bool pharma_gtin_ok(const char *s) {
  return s && strnlen(s, PHARMA_GTIN_BYTES + 1) == PHARMA_GTIN_BYTES && gtin_bytes_ok((const uint8_t *)s);
}

/* GS1 General Specifications, figure 7.11-1 (CSET 82). */
static bool cset82(uint8_t c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return c != 0 && strchr("!\"%&'()*+,-./:;<=>?_", c) != NULL;
}

bool pharma_cset82_ok(const uint8_t *s, size_t len, size_t max) {
  if (len == 0 || len > max) return false;
  for (size_t i = 0; i < len; i++)
    if (!cset82(s[i])) return false;
  return true;
}

static bool leap(uint64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned month_days(uint64_t y, unsigned m) {
  static const unsigned DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : DAYS[m - 1];
}

bool pharma_date_ok(uint64_t d) {
  uint64_t y = d / 10000;
  unsigned m = (unsigned)(d / 100 % 100), day = (unsigned)(d % 100);
  if (y < PHARMA_YEAR_MIN || y > PHARMA_YEAR_MAX || m < 1 || m > 12) return false;
  return day <= month_days(y, m);
}

/* Days since 1970-01-01 to the civil date (H. Hinnant's algorithm, for days >= 0). */
uint64_t pharma_date_from_ms(uint64_t time_ms) {
  uint64_t z = time_ms / 86400000u + 719468u;
  uint64_t era = z / 146097u, doe = z - era * 146097u;
  uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  uint64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  uint64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  uint64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  return y * 10000 + m * 100 + d;
}

bool pharma_expired(uint64_t expiry, uint64_t time_ms) {
  uint64_t last = expiry;
  if (expiry % 100 == 0) last += month_days(expiry / 10000, (unsigned)(expiry / 100 % 100));
  return pharma_date_from_ms(time_ms) > last;
}

int pharma_pack_ref_cmp(const pharma_pack_ref_t *a, const pharma_pack_ref_t *b) {
  int c = memcmp(a->gtin, b->gtin, PHARMA_GTIN_BYTES);
  if (c) return c;
  size_t n = a->serial_len < b->serial_len ? a->serial_len : b->serial_len;
  c = memcmp(a->serial, b->serial, n);
  if (c) return c;
  return a->serial_len < b->serial_len ? -1 : a->serial_len > b->serial_len;
}

int pharma_pack_ref_set(pharma_pack_ref_t *ref, const char *gtin, const char *serial) {
  memset(ref, 0, sizeof *ref);
  size_t sl = serial ? strnlen(serial, PHARMA_SERIAL_BYTES_MAX + 1) : 0;
  if (!pharma_gtin_ok(gtin) || !pharma_cset82_ok((const uint8_t *)serial, sl, PHARMA_SERIAL_BYTES_MAX))
    return VE_ERR_INVALID;
  memcpy(ref->gtin, gtin, PHARMA_GTIN_BYTES);
  memcpy(ref->serial, serial, sl);
  ref->serial_len = sl;
  return VE_OK;
}

/* ---- keys ---- */

void pharma_pack_key(uint8_t out[LEDGER_HASH_BYTES], const pharma_pack_ref_t *ref) {
  VE_ASSERT(ref->serial_len >= 1 && ref->serial_len <= PHARMA_SERIAL_BYTES_MAX);
  uint8_t len = (uint8_t)ref->serial_len;
  vcrypto_hasher_t h;
  vcrypto_hasher_init(&h, PHARMA_TAG_PACK);
  vcrypto_hasher_update(&h, (const uint8_t *)ref->gtin, PHARMA_GTIN_BYTES);
  vcrypto_hasher_update(&h, &len, 1);
  vcrypto_hasher_update(&h, (const uint8_t *)ref->serial, ref->serial_len);
  vcrypto_hasher_final(&h, out);
}

static size_t key_start(uint8_t *out, char kind) {
  memcpy(out, "phr/", 4);
  out[4] = (uint8_t)kind;
  out[5] = '/';
  return 6;
}

size_t pharma_jurisdiction_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const uint8_t regulator[LEDGER_HASH_BYTES]) {
  size_t n = key_start(out, 'j');
  memcpy(out + n, regulator, LEDGER_HASH_BYTES);
  return n + LEDGER_HASH_BYTES;
}

size_t pharma_licence_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const char *country,
                          const uint8_t party[LEDGER_HASH_BYTES]) {
  size_t n = key_start(out, 'l');
  memcpy(out + n, country, PHARMA_COUNTRY_BYTES);
  memcpy(out + n + PHARMA_COUNTRY_BYTES, party, LEDGER_HASH_BYTES);
  return n + PHARMA_COUNTRY_BYTES + LEDGER_HASH_BYTES;
}

size_t pharma_product_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const char *gtin) {
  size_t n = key_start(out, 'g');
  memcpy(out + n, gtin, PHARMA_GTIN_BYTES);
  return n + PHARMA_GTIN_BYTES;
}

size_t pharma_auth_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const char *gtin, const char *country) {
  size_t n = key_start(out, 'a');
  memcpy(out + n, gtin, PHARMA_GTIN_BYTES);
  memcpy(out + n + PHARMA_GTIN_BYTES, country, PHARMA_COUNTRY_BYTES);
  return n + PHARMA_GTIN_BYTES + PHARMA_COUNTRY_BYTES;
}

size_t pharma_batch_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const char *gtin, const char *batch, size_t batch_len) {
  VE_ASSERT(batch_len >= 1 && batch_len <= PHARMA_BATCH_BYTES_MAX);
  size_t n = key_start(out, 'b');
  memcpy(out + n, gtin, PHARMA_GTIN_BYTES);
  n += PHARMA_GTIN_BYTES;
  out[n++] = (uint8_t)batch_len;
  memcpy(out + n, batch, batch_len);
  return n + batch_len;
}

size_t pharma_pack_state_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const uint8_t pack_key[LEDGER_HASH_BYTES]) {
  size_t n = key_start(out, 'k');
  memcpy(out + n, pack_key, LEDGER_HASH_BYTES);
  return n + LEDGER_HASH_BYTES;
}

size_t pharma_event_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const uint8_t pack_key[LEDGER_HASH_BYTES], uint32_t n) {
  size_t k = key_start(out, 'e');
  memcpy(out + k, pack_key, LEDGER_HASH_BYTES);
  k += LEDGER_HASH_BYTES;
  out[k++] = (uint8_t)(n >> 24);
  out[k++] = (uint8_t)(n >> 16);
  out[k++] = (uint8_t)(n >> 8);
  out[k++] = (uint8_t)n;
  return k;
}

size_t pharma_container_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const char *sscc) {
  VE_ASSERT(pharma_sscc_ok(sscc));
  size_t n = key_start(out, 'c');
  memcpy(out + n, sscc, PHARMA_SSCC_BYTES);
  return n + PHARMA_SSCC_BYTES;
}

/* ---- field helpers ---- */

static void get_country(codec_reader_t *r, char out[PHARMA_COUNTRY_BYTES + 1]) {
  memset(out, 0, PHARMA_COUNTRY_BYTES + 1);
  codec_get_fixed(r, (uint8_t *)out, PHARMA_COUNTRY_BYTES);
  if (!r->err && !country_bytes_ok((const uint8_t *)out)) codec_fail(r, VE_ERR_MALFORMED);
}

static void put_country(codec_writer_t *w, const char *c) {
  if (!pharma_country_ok(c)) {
    if (!w->err) w->err = VE_ERR_INVALID;
    return;
  }
  codec_put_fixed(w, (const uint8_t *)c, PHARMA_COUNTRY_BYTES);
}

static void get_gtin(codec_reader_t *r, char out[PHARMA_GTIN_BYTES + 1]) {
  memset(out, 0, PHARMA_GTIN_BYTES + 1);
  codec_get_fixed(r, (uint8_t *)out, PHARMA_GTIN_BYTES);
  if (!r->err && !gtin_bytes_ok((const uint8_t *)out)) codec_fail(r, VE_ERR_MALFORMED);
}

static void put_gtin(codec_writer_t *w, const char *g) {
  if (!pharma_gtin_ok(g)) {
    if (!w->err) w->err = VE_ERR_INVALID;
    return;
  }
  codec_put_fixed(w, (const uint8_t *)g, PHARMA_GTIN_BYTES);
}

/* A CSET 82 string of 1..max bytes into out (max + 1 bytes, NUL-terminated). */
static size_t get_code(codec_reader_t *r, char *out, size_t max) {
  memset(out, 0, max + 1);
  ve_slice_t s = codec_get_bytes(r, max);
  if (r->err) return 0;
  if (!pharma_cset82_ok(s.ptr, s.len, max)) {
    codec_fail(r, VE_ERR_MALFORMED);
    return 0;
  }
  memcpy(out, s.ptr, s.len);
  return s.len;
}

static void put_code(codec_writer_t *w, const char *s, size_t len, size_t max) {
  if (!pharma_cset82_ok((const uint8_t *)s, len, max)) {
    if (!w->err) w->err = VE_ERR_INVALID;
    return;
  }
  codec_put_bytes(w, (const uint8_t *)s, len, max);
}

static void get_sscc(codec_reader_t *r, char out[PHARMA_SSCC_BYTES + 1]) {
  memset(out, 0, PHARMA_SSCC_BYTES + 1);
  codec_get_fixed(r, (uint8_t *)out, PHARMA_SSCC_BYTES);
  if (!r->err && !sscc_bytes_ok((const uint8_t *)out)) codec_fail(r, VE_ERR_MALFORMED);
}

static void put_sscc(codec_writer_t *w, const char *s) {
  if (!pharma_sscc_ok(s)) {
    if (!w->err) w->err = VE_ERR_INVALID;
    return;
  }
  codec_put_fixed(w, (const uint8_t *)s, PHARMA_SSCC_BYTES);
}

static void get_enum(codec_reader_t *r, uint32_t *out, uint32_t lo, uint32_t hi) {
  uint8_t v = codec_get_u8(r);
  if (!r->err && (v < lo || v > hi)) codec_fail(r, VE_ERR_MALFORMED);
  *out = r->err ? 0 : v;
}

static void put_enum(codec_writer_t *w, uint32_t v, uint32_t lo, uint32_t hi) {
  if (v < lo || v > hi) {
    if (!w->err) w->err = VE_ERR_INVALID;
    return;
  }
  codec_put_u8(w, (uint8_t)v);
}

static void get_version(codec_reader_t *r, uint8_t want) {
  uint8_t v = codec_get_u8(r);
  if (!r->err && v != want) codec_fail(r, VE_ERR_VERSION);
}

static int finish_record(codec_reader_t *r, void *out, size_t size) {
  if (codec_reader_finish(r) == VE_OK) return VE_OK;
  memset(out, 0, size);
  return VE_ERR_CORRUPT;
}

/* Starts a value at the end of out; writer_end drops it again on failure, so
 * a refused encoding appends nothing. */
static size_t writer_start(codec_writer_t *w, ve_buf_t *out, uint8_t version) {
  size_t start = out->len;
  codec_writer_init(w, out);
  codec_put_u8(w, version);
  return start;
}

static int writer_end(codec_writer_t *w, size_t start) {
  int rc = codec_writer_finish(w);
  if (rc) w->buf->len = start;
  return rc;
}

/* ---- records ---- */

int pharma_jurisdiction_decode(ve_slice_t v, pharma_jurisdiction_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, v);
  get_version(&r, PHARMA_RECORD_VERSION);
  get_country(&r, out->country);
  out->height = codec_get_uvarint(&r);
  return finish_record(&r, out, sizeof *out);
}

int pharma_jurisdiction_encode(const pharma_jurisdiction_t *j, ve_buf_t *out) {
  codec_writer_t w;
  size_t start = writer_start(&w, out, PHARMA_RECORD_VERSION);
  put_country(&w, j->country);
  codec_put_uvarint(&w, j->height);
  return writer_end(&w, start);
}

int pharma_licence_decode(ve_slice_t v, pharma_licence_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, v);
  get_version(&r, PHARMA_RECORD_VERSION);
  get_enum(&r, &out->kinds, 1, PHARMA_KIND_MASK);
  uint32_t st;
  get_enum(&r, &st, PHARMA_LICENCE_ACTIVE, PHARMA_LICENCE_REVOKED);
  out->status = (pharma_licence_status_t)st;
  codec_get_fixed(&r, out->issuer, LEDGER_HASH_BYTES);
  out->height = codec_get_uvarint(&r);
  return finish_record(&r, out, sizeof *out);
}

int pharma_licence_encode(const pharma_licence_t *l, ve_buf_t *out) {
  codec_writer_t w;
  size_t start = writer_start(&w, out, PHARMA_RECORD_VERSION);
  put_enum(&w, l->kinds, 1, PHARMA_KIND_MASK);
  put_enum(&w, l->status, PHARMA_LICENCE_ACTIVE, PHARMA_LICENCE_REVOKED);
  codec_put_fixed(&w, l->issuer, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, l->height);
  return writer_end(&w, start);
}

int pharma_product_decode(ve_slice_t v, pharma_product_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, v);
  get_version(&r, PHARMA_RECORD_VERSION);
  codec_get_fixed(&r, out->manufacturer, LEDGER_HASH_BYTES);
  codec_get_fixed(&r, out->data_digest, PHARMA_DIGEST_BYTES);
  get_country(&r, out->country);
  out->height = codec_get_uvarint(&r);
  size_t n = codec_get_count(&r, PHARMA_PRODUCT_COUNTRIES_MAX, PHARMA_COUNTRY_BYTES);
  for (size_t i = 0; i < n && !r.err; i++) {
    get_country(&r, out->countries[i]);
    if (!r.err && i > 0 && memcmp(out->countries[i - 1], out->countries[i], PHARMA_COUNTRY_BYTES) >= 0)
      codec_fail(&r, VE_ERR_NONCANONICAL);
  }
  out->n_countries = r.err ? 0 : n;
  return finish_record(&r, out, sizeof *out);
}

int pharma_product_encode(const pharma_product_t *p, ve_buf_t *out) {
  if (p->n_countries > PHARMA_PRODUCT_COUNTRIES_MAX) return VE_ERR_INVALID;
  for (size_t i = 1; i < p->n_countries; i++)
    if (memcmp(p->countries[i - 1], p->countries[i], PHARMA_COUNTRY_BYTES) >= 0) return VE_ERR_INVALID;
  codec_writer_t w;
  size_t start = writer_start(&w, out, PHARMA_RECORD_VERSION);
  codec_put_fixed(&w, p->manufacturer, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, p->data_digest, PHARMA_DIGEST_BYTES);
  put_country(&w, p->country);
  codec_put_uvarint(&w, p->height);
  codec_put_uvarint(&w, p->n_countries);
  for (size_t i = 0; i < p->n_countries; i++) put_country(&w, p->countries[i]);
  return writer_end(&w, start);
}

int pharma_auth_decode(ve_slice_t v, pharma_auth_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, v);
  get_version(&r, PHARMA_RECORD_VERSION);
  uint32_t st;
  get_enum(&r, &st, PHARMA_AUTHORISED, PHARMA_WITHDRAWN);
  out->status = (pharma_auth_status_t)st;
  codec_get_fixed(&r, out->regulator, LEDGER_HASH_BYTES);
  out->height = codec_get_uvarint(&r);
  return finish_record(&r, out, sizeof *out);
}

int pharma_auth_encode(const pharma_auth_t *a, ve_buf_t *out) {
  codec_writer_t w;
  size_t start = writer_start(&w, out, PHARMA_RECORD_VERSION);
  put_enum(&w, a->status, PHARMA_AUTHORISED, PHARMA_WITHDRAWN);
  codec_put_fixed(&w, a->regulator, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, a->height);
  return writer_end(&w, start);
}

static void get_expiry(codec_reader_t *r, uint64_t *out) {
  *out = codec_get_uvarint(r);
  if (!r->err && !pharma_date_ok(*out)) codec_fail(r, VE_ERR_INVALID);
}

int pharma_batch_decode(ve_slice_t v, pharma_batch_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, v);
  get_version(&r, PHARMA_RECORD_VERSION);
  codec_get_fixed(&r, out->manufacturer, LEDGER_HASH_BYTES);
  get_expiry(&r, &out->expiry);
  out->packs = codec_get_uvarint(&r);
  if (!r.err && out->packs == 0) codec_fail(&r, VE_ERR_MALFORMED); /* a batch exists through its packs */
  out->height = codec_get_uvarint(&r);
  out->global_recall = codec_get_bool(&r);
  if (out->global_recall) {
    codec_get_fixed(&r, out->global_reason, PHARMA_DIGEST_BYTES);
    out->global_height = codec_get_uvarint(&r);
  }
  size_t n = codec_get_count(&r, PHARMA_RECALL_COUNTRIES_MAX, RECALL_BYTES_MIN);
  for (size_t i = 0; i < n && !r.err; i++) {
    pharma_recall_t *rc = &out->recalls[i];
    get_country(&r, rc->country);
    codec_get_fixed(&r, rc->regulator, LEDGER_HASH_BYTES);
    codec_get_fixed(&r, rc->reason, PHARMA_DIGEST_BYTES);
    rc->height = codec_get_uvarint(&r);
    if (!r.err && i > 0 && memcmp(out->recalls[i - 1].country, rc->country, PHARMA_COUNTRY_BYTES) >= 0)
      codec_fail(&r, VE_ERR_NONCANONICAL);
  }
  out->n_recalls = r.err ? 0 : n;
  return finish_record(&r, out, sizeof *out);
}

int pharma_batch_encode(const pharma_batch_t *b, ve_buf_t *out) {
  if (b->n_recalls > PHARMA_RECALL_COUNTRIES_MAX || !pharma_date_ok(b->expiry) || b->packs == 0)
    return VE_ERR_INVALID;
  for (size_t i = 1; i < b->n_recalls; i++)
    if (memcmp(b->recalls[i - 1].country, b->recalls[i].country, PHARMA_COUNTRY_BYTES) >= 0) return VE_ERR_INVALID;
  codec_writer_t w;
  size_t start = writer_start(&w, out, PHARMA_RECORD_VERSION);
  codec_put_fixed(&w, b->manufacturer, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, b->expiry);
  codec_put_uvarint(&w, b->packs);
  codec_put_uvarint(&w, b->height);
  codec_put_bool(&w, b->global_recall);
  if (b->global_recall) {
    codec_put_fixed(&w, b->global_reason, PHARMA_DIGEST_BYTES);
    codec_put_uvarint(&w, b->global_height);
  }
  codec_put_uvarint(&w, b->n_recalls);
  for (size_t i = 0; i < b->n_recalls; i++) {
    const pharma_recall_t *rc = &b->recalls[i];
    put_country(&w, rc->country);
    codec_put_fixed(&w, rc->regulator, LEDGER_HASH_BYTES);
    codec_put_fixed(&w, rc->reason, PHARMA_DIGEST_BYTES);
    codec_put_uvarint(&w, rc->height);
  }
  return writer_end(&w, start);
}

static void get_ref(codec_reader_t *r, pharma_pack_ref_t *ref) {
  get_gtin(r, ref->gtin);
  ref->serial_len = get_code(r, ref->serial, PHARMA_SERIAL_BYTES_MAX);
}

static void put_ref(codec_writer_t *w, const pharma_pack_ref_t *ref) {
  put_gtin(w, ref->gtin);
  put_code(w, ref->serial, ref->serial_len, PHARMA_SERIAL_BYTES_MAX);
}

/* The record's version byte: 1, or 2 when allowed (then *sscc = true). */
static void get_version_sscc(codec_reader_t *r, bool *sscc) {
  uint8_t v = codec_get_u8(r);
  *sscc = !r->err && v == PHARMA_RECORD_VERSION_SSCC;
  if (!r->err && v != PHARMA_RECORD_VERSION && !*sscc) codec_fail(r, VE_ERR_VERSION);
}

int pharma_pack_decode(ve_slice_t v, pharma_pack_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, v);
  get_version_sscc(&r, &out->in_container);
  get_ref(&r, &out->ref);
  out->batch_len = get_code(&r, out->batch, PHARMA_BATCH_BYTES_MAX);
  uint32_t st, reason = 0;
  get_enum(&r, &st, PHARMA_PACK_ACTIVE, PHARMA_PACK_DECOMMISSIONED);
  out->status = (pharma_pack_status_t)st;
  if (st == PHARMA_PACK_DECOMMISSIONED) get_enum(&r, &reason, 1, PHARMA_REASON_MAX);
  out->reason = (pharma_reason_t)reason;
  codec_get_fixed(&r, out->custodian, LEDGER_HASH_BYTES);
  get_country(&r, out->country);
  if (st == PHARMA_PACK_IN_TRANSIT) {
    codec_get_fixed(&r, out->recipient, LEDGER_HASH_BYTES);
    get_country(&r, out->dest);
  }
  out->n_events = (uint32_t)codec_get_uvarint_max(&r, PHARMA_PACK_EVENTS_MAX);
  if (!r.err && out->n_events == 0) codec_fail(&r, VE_ERR_MALFORMED);
  out->height = codec_get_uvarint(&r);
  if (out->in_container) {
    /* Only a pack that can still move is in a container. */
    if (!r.err && st != PHARMA_PACK_ACTIVE && st != PHARMA_PACK_IN_TRANSIT) codec_fail(&r, VE_ERR_MALFORMED);
    get_sscc(&r, out->sscc);
  }
  return finish_record(&r, out, sizeof *out);
}

int pharma_pack_encode(const pharma_pack_t *p, ve_buf_t *out) {
  if (p->n_events == 0 || p->n_events > PHARMA_PACK_EVENTS_MAX) return VE_ERR_INVALID;
  if ((p->status == PHARMA_PACK_DECOMMISSIONED) != (p->reason != PHARMA_REASON_NONE)) return VE_ERR_INVALID;
  if (p->in_container && p->status != PHARMA_PACK_ACTIVE && p->status != PHARMA_PACK_IN_TRANSIT)
    return VE_ERR_INVALID;
  codec_writer_t w;
  size_t start = writer_start(&w, out, p->in_container ? PHARMA_RECORD_VERSION_SSCC : PHARMA_RECORD_VERSION);
  put_ref(&w, &p->ref);
  put_code(&w, p->batch, p->batch_len, PHARMA_BATCH_BYTES_MAX);
  put_enum(&w, p->status, PHARMA_PACK_ACTIVE, PHARMA_PACK_DECOMMISSIONED);
  if (p->status == PHARMA_PACK_DECOMMISSIONED) put_enum(&w, p->reason, 1, PHARMA_REASON_MAX);
  codec_put_fixed(&w, p->custodian, LEDGER_HASH_BYTES);
  put_country(&w, p->country);
  if (p->status == PHARMA_PACK_IN_TRANSIT) {
    codec_put_fixed(&w, p->recipient, LEDGER_HASH_BYTES);
    put_country(&w, p->dest);
  }
  codec_put_uvarint(&w, p->n_events);
  codec_put_uvarint(&w, p->height);
  if (p->in_container) put_sscc(&w, p->sscc);
  return writer_end(&w, start);
}

static bool container_kind(uint32_t kind) {
  return kind == PHARMA_EVENT_AGGREGATE || kind == PHARMA_EVENT_DISAGGREGATE;
}

int pharma_event_decode(ve_slice_t v, pharma_event_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, v);
  bool v2;
  get_version_sscc(&r, &v2);
  uint32_t kind, reason = 0;
  get_enum(&r, &kind, PHARMA_EVENT_COMMISSION, PHARMA_EVENT_MAX);
  /* Version 2 exactly for the container kinds: one encoding per event. */
  if (!r.err && container_kind(kind) != v2) codec_fail(&r, VE_ERR_MALFORMED);
  out->kind = (pharma_event_kind_t)kind;
  if (kind == PHARMA_EVENT_DECOMMISSION) get_enum(&r, &reason, 1, PHARMA_REASON_MAX);
  out->reason = (pharma_reason_t)reason;
  out->height = codec_get_uvarint(&r);
  codec_get_fixed(&r, out->from, LEDGER_HASH_BYTES);
  codec_get_fixed(&r, out->to, LEDGER_HASH_BYTES);
  get_country(&r, out->country);
  if (v2) get_sscc(&r, out->sscc);
  return finish_record(&r, out, sizeof *out);
}

int pharma_event_encode(const pharma_event_t *e, ve_buf_t *out) {
  if ((e->kind == PHARMA_EVENT_DECOMMISSION) != (e->reason != PHARMA_REASON_NONE)) return VE_ERR_INVALID;
  bool v2 = container_kind(e->kind);
  codec_writer_t w;
  size_t start = writer_start(&w, out, v2 ? PHARMA_RECORD_VERSION_SSCC : PHARMA_RECORD_VERSION);
  put_enum(&w, e->kind, PHARMA_EVENT_COMMISSION, PHARMA_EVENT_MAX);
  if (e->kind == PHARMA_EVENT_DECOMMISSION) put_enum(&w, e->reason, 1, PHARMA_REASON_MAX);
  codec_put_uvarint(&w, e->height);
  codec_put_fixed(&w, e->from, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, e->to, LEDGER_HASH_BYTES);
  put_country(&w, e->country);
  if (v2) put_sscc(&w, e->sscc);
  return writer_end(&w, start);
}

int pharma_container_decode(ve_slice_t v, pharma_container_t *out) {
  memset(out, 0, offsetof(pharma_container_t, packs));
  codec_reader_t r;
  codec_reader_init(&r, v);
  if (v.len > PHARMA_CONTAINER_BYTES_MAX) codec_fail(&r, VE_ERR_TOO_BIG);
  get_version(&r, PHARMA_RECORD_VERSION);
  uint32_t st;
  get_enum(&r, &st, PHARMA_CONTAINER_CLOSED, PHARMA_CONTAINER_OPENED);
  out->status = (pharma_container_status_t)st;
  codec_get_fixed(&r, out->custodian, LEDGER_HASH_BYTES);
  get_country(&r, out->country);
  if (st == PHARMA_CONTAINER_IN_TRANSIT) {
    codec_get_fixed(&r, out->recipient, LEDGER_HASH_BYTES);
    get_country(&r, out->dest);
  }
  codec_get_fixed(&r, out->packer, LEDGER_HASH_BYTES);
  out->packed_height = codec_get_uvarint(&r);
  out->height = codec_get_uvarint(&r);
  size_t n = codec_get_count(&r, PHARMA_CONTAINER_PACKS_MAX, LEDGER_HASH_BYTES);
  if (!r.err && n == 0) codec_fail(&r, VE_ERR_MALFORMED);
  for (size_t i = 0; i < n && !r.err; i++) {
    codec_get_fixed(&r, out->packs[i], LEDGER_HASH_BYTES);
    if (!r.err && i > 0 && memcmp(out->packs[i - 1], out->packs[i], LEDGER_HASH_BYTES) >= 0)
      codec_fail(&r, VE_ERR_NONCANONICAL);
  }
  out->n_packs = r.err ? 0 : n;
  if (codec_reader_finish(&r) == VE_OK) return VE_OK;
  memset(out, 0, offsetof(pharma_container_t, packs));
  return VE_ERR_CORRUPT;
}

int pharma_container_encode(const pharma_container_t *c, ve_buf_t *out) {
  if (c->n_packs == 0 || c->n_packs > PHARMA_CONTAINER_PACKS_MAX || c->status > PHARMA_CONTAINER_OPENED)
    return VE_ERR_INVALID;
  for (size_t i = 1; i < c->n_packs; i++)
    if (memcmp(c->packs[i - 1], c->packs[i], LEDGER_HASH_BYTES) >= 0) return VE_ERR_INVALID;
  codec_writer_t w;
  size_t start = writer_start(&w, out, PHARMA_RECORD_VERSION);
  put_enum(&w, c->status, PHARMA_CONTAINER_CLOSED, PHARMA_CONTAINER_OPENED);
  codec_put_fixed(&w, c->custodian, LEDGER_HASH_BYTES);
  put_country(&w, c->country);
  if (c->status == PHARMA_CONTAINER_IN_TRANSIT) {
    codec_put_fixed(&w, c->recipient, LEDGER_HASH_BYTES);
    put_country(&w, c->dest);
  }
  codec_put_fixed(&w, c->packer, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, c->packed_height);
  codec_put_uvarint(&w, c->height);
  codec_put_uvarint(&w, c->n_packs);
  for (size_t i = 0; i < c->n_packs; i++) codec_put_fixed(&w, c->packs[i], LEDGER_HASH_BYTES);
  return writer_end(&w, start);
}

/* ---- payloads ---- */

/* A list of 1..PHARMA_TX_PACKS_MAX refs, strictly ascending. serials_only:
 * COMMISSION's serials, whose gtin is the tx's. */
static void get_refs(codec_reader_t *r, pharma_tx_t *tx, bool serials_only) {
  size_t n = codec_get_count(r, PHARMA_TX_PACKS_MAX, serials_only ? SERIAL_BYTES_MIN : PACK_REF_BYTES_MIN);
  if (!r->err && n == 0) codec_fail(r, VE_ERR_MALFORMED);
  for (size_t i = 0; i < n && !r->err; i++) {
    pharma_pack_ref_t *ref = &tx->packs[i];
    memset(ref, 0, sizeof *ref);
    if (serials_only) {
      memcpy(ref->gtin, tx->gtin, PHARMA_GTIN_BYTES);
      ref->serial_len = get_code(r, ref->serial, PHARMA_SERIAL_BYTES_MAX);
    } else {
      get_ref(r, ref);
    }
    if (!r->err && i > 0 && pharma_pack_ref_cmp(&tx->packs[i - 1], ref) >= 0) codec_fail(r, VE_ERR_NONCANONICAL);
  }
  tx->n_packs = r->err ? 0 : n;
}

static void put_refs(codec_writer_t *w, const pharma_tx_t *tx, bool serials_only) {
  if (tx->n_packs == 0 || tx->n_packs > PHARMA_TX_PACKS_MAX) {
    if (!w->err) w->err = VE_ERR_INVALID;
    return;
  }
  codec_put_uvarint(w, tx->n_packs);
  for (size_t i = 0; i < tx->n_packs && !w->err; i++) {
    const pharma_pack_ref_t *ref = &tx->packs[i];
    if (i > 0 && pharma_pack_ref_cmp(&tx->packs[i - 1], ref) >= 0) w->err = VE_ERR_INVALID;
    if (serials_only && memcmp(ref->gtin, tx->gtin, PHARMA_GTIN_BYTES) != 0 && !w->err) w->err = VE_ERR_INVALID;
    if (serials_only) put_code(w, ref->serial, ref->serial_len, PHARMA_SERIAL_BYTES_MAX);
    else put_ref(w, ref);
  }
}

static bool type_known(uint32_t type) {
  return type >= TX_TYPE_PHARMA_JURISDICTION_SET && type <= TX_TYPE_PHARMA_RECEIVE_CONTAINERS;
}

/* SHIP/RECEIVE_CONTAINERS: 1..PHARMA_TX_CONTAINERS_MAX SSCCs, strictly ascending. */
static void get_ssccs(codec_reader_t *r, pharma_tx_t *tx) {
  size_t n = codec_get_count(r, PHARMA_TX_CONTAINERS_MAX, PHARMA_SSCC_BYTES);
  if (!r->err && n == 0) codec_fail(r, VE_ERR_MALFORMED);
  for (size_t i = 0; i < n && !r->err; i++) {
    get_sscc(r, tx->ssccs[i]);
    if (!r->err && i > 0 && memcmp(tx->ssccs[i - 1], tx->ssccs[i], PHARMA_SSCC_BYTES) >= 0)
      codec_fail(r, VE_ERR_NONCANONICAL);
  }
  tx->n_ssccs = r->err ? 0 : n;
}

static void put_ssccs(codec_writer_t *w, const pharma_tx_t *tx) {
  if (tx->n_ssccs == 0 || tx->n_ssccs > PHARMA_TX_CONTAINERS_MAX) {
    if (!w->err) w->err = VE_ERR_INVALID;
    return;
  }
  codec_put_uvarint(w, tx->n_ssccs);
  for (size_t i = 0; i < tx->n_ssccs && !w->err; i++) {
    if (i > 0 && memcmp(tx->ssccs[i - 1], tx->ssccs[i], PHARMA_SSCC_BYTES) >= 0) w->err = VE_ERR_INVALID;
    put_sscc(w, tx->ssccs[i]);
  }
}

int pharma_payload_decode(uint32_t type, ve_slice_t payload, pharma_tx_t *tx) {
  memset(tx, 0, offsetof(pharma_tx_t, packs));
  tx->type = type;
  if (!type_known(type)) return VE_ERR_UNKNOWN_TYPE;
  if (payload.len > PHARMA_PAYLOAD_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_reader_t r;
  codec_reader_init(&r, payload);
  get_version(&r, PHARMA_PAYLOAD_VERSION);
  switch (type) {
    case TX_TYPE_PHARMA_JURISDICTION_SET:
      codec_get_fixed(&r, tx->party, LEDGER_HASH_BYTES);
      get_country(&r, tx->country);
      break;
    case TX_TYPE_PHARMA_LICENSE_SET:
      get_country(&r, tx->country);
      codec_get_fixed(&r, tx->party, LEDGER_HASH_BYTES);
      get_enum(&r, &tx->kinds, 1, PHARMA_KIND_MASK);
      get_enum(&r, &tx->status, PHARMA_LICENCE_ACTIVE, PHARMA_LICENCE_REVOKED);
      break;
    case TX_TYPE_PHARMA_PRODUCT_REGISTER:
      get_gtin(&r, tx->gtin);
      get_country(&r, tx->country);
      codec_get_fixed(&r, tx->digest, PHARMA_DIGEST_BYTES);
      break;
    case TX_TYPE_PHARMA_PRODUCT_AUTHORISE:
      get_gtin(&r, tx->gtin);
      get_country(&r, tx->country);
      get_enum(&r, &tx->status, PHARMA_AUTHORISED, PHARMA_WITHDRAWN);
      break;
    case TX_TYPE_PHARMA_COMMISSION:
      get_gtin(&r, tx->gtin);
      tx->batch_len = get_code(&r, tx->batch, PHARMA_BATCH_BYTES_MAX);
      get_expiry(&r, &tx->expiry);
      get_refs(&r, tx, true);
      break;
    case TX_TYPE_PHARMA_SHIP:
      codec_get_fixed(&r, tx->party, LEDGER_HASH_BYTES);
      get_country(&r, tx->country);
      get_refs(&r, tx, false);
      break;
    case TX_TYPE_PHARMA_RECEIVE:
    case TX_TYPE_PHARMA_DISPENSE:
      get_refs(&r, tx, false);
      break;
    case TX_TYPE_PHARMA_DECOMMISSION: {
      uint32_t reason;
      get_enum(&r, &reason, 1, PHARMA_REASON_MAX);
      tx->reason = (pharma_reason_t)reason;
      get_refs(&r, tx, false);
      break;
    }
    case TX_TYPE_PHARMA_RECALL:
      get_gtin(&r, tx->gtin);
      tx->batch_len = get_code(&r, tx->batch, PHARMA_BATCH_BYTES_MAX);
      tx->has_country = codec_get_bool(&r);
      if (tx->has_country) get_country(&r, tx->country);
      codec_get_fixed(&r, tx->digest, PHARMA_DIGEST_BYTES);
      break;
    case TX_TYPE_PHARMA_AGGREGATE:
      get_sscc(&r, tx->sscc);
      get_refs(&r, tx, false);
      break;
    case TX_TYPE_PHARMA_DISAGGREGATE:
      get_sscc(&r, tx->sscc);
      break;
    case TX_TYPE_PHARMA_SHIP_CONTAINERS:
      codec_get_fixed(&r, tx->party, LEDGER_HASH_BYTES);
      get_country(&r, tx->country);
      get_ssccs(&r, tx);
      break;
    case TX_TYPE_PHARMA_RECEIVE_CONTAINERS:
      get_ssccs(&r, tx);
      break;
  }
  int rc = codec_reader_finish(&r);
  if (rc) memset(tx, 0, offsetof(pharma_tx_t, packs));
  return rc;
}

int pharma_payload_encode(const pharma_tx_t *tx, ve_buf_t *out) {
  if (!type_known(tx->type)) return VE_ERR_INVALID;
  codec_writer_t w;
  size_t start = writer_start(&w, out, PHARMA_PAYLOAD_VERSION);
  switch (tx->type) {
    case TX_TYPE_PHARMA_JURISDICTION_SET:
      codec_put_fixed(&w, tx->party, LEDGER_HASH_BYTES);
      put_country(&w, tx->country);
      break;
    case TX_TYPE_PHARMA_LICENSE_SET:
      put_country(&w, tx->country);
      codec_put_fixed(&w, tx->party, LEDGER_HASH_BYTES);
      put_enum(&w, tx->kinds, 1, PHARMA_KIND_MASK);
      put_enum(&w, tx->status, PHARMA_LICENCE_ACTIVE, PHARMA_LICENCE_REVOKED);
      break;
    case TX_TYPE_PHARMA_PRODUCT_REGISTER:
      put_gtin(&w, tx->gtin);
      put_country(&w, tx->country);
      codec_put_fixed(&w, tx->digest, PHARMA_DIGEST_BYTES);
      break;
    case TX_TYPE_PHARMA_PRODUCT_AUTHORISE:
      put_gtin(&w, tx->gtin);
      put_country(&w, tx->country);
      put_enum(&w, tx->status, PHARMA_AUTHORISED, PHARMA_WITHDRAWN);
      break;
    case TX_TYPE_PHARMA_COMMISSION:
      put_gtin(&w, tx->gtin);
      put_code(&w, tx->batch, tx->batch_len, PHARMA_BATCH_BYTES_MAX);
      if (!pharma_date_ok(tx->expiry) && !w.err) w.err = VE_ERR_INVALID;
      codec_put_uvarint(&w, tx->expiry);
      put_refs(&w, tx, true);
      break;
    case TX_TYPE_PHARMA_SHIP:
      codec_put_fixed(&w, tx->party, LEDGER_HASH_BYTES);
      put_country(&w, tx->country);
      put_refs(&w, tx, false);
      break;
    case TX_TYPE_PHARMA_RECEIVE:
    case TX_TYPE_PHARMA_DISPENSE:
      put_refs(&w, tx, false);
      break;
    case TX_TYPE_PHARMA_DECOMMISSION:
      put_enum(&w, tx->reason, 1, PHARMA_REASON_MAX);
      put_refs(&w, tx, false);
      break;
    case TX_TYPE_PHARMA_RECALL:
      put_gtin(&w, tx->gtin);
      put_code(&w, tx->batch, tx->batch_len, PHARMA_BATCH_BYTES_MAX);
      codec_put_bool(&w, tx->has_country);
      if (tx->has_country) put_country(&w, tx->country);
      codec_put_fixed(&w, tx->digest, PHARMA_DIGEST_BYTES);
      break;
    case TX_TYPE_PHARMA_AGGREGATE:
      put_sscc(&w, tx->sscc);
      put_refs(&w, tx, false);
      break;
    case TX_TYPE_PHARMA_DISAGGREGATE:
      put_sscc(&w, tx->sscc);
      break;
    case TX_TYPE_PHARMA_SHIP_CONTAINERS:
      codec_put_fixed(&w, tx->party, LEDGER_HASH_BYTES);
      put_country(&w, tx->country);
      put_ssccs(&w, tx);
      break;
    case TX_TYPE_PHARMA_RECEIVE_CONTAINERS:
      put_ssccs(&w, tx);
      break;
  }
  if (!w.err && out->len - start > PHARMA_PAYLOAD_BYTES_MAX) w.err = VE_ERR_TOO_BIG;
  return writer_end(&w, start);
}

/* ---- builders ---- */

static pharma_tx_t *tx_new(uint32_t type) {
  pharma_tx_t *tx = calloc(1, sizeof *tx);
  if (tx) tx->type = type;
  return tx;
}

static int tx_finish(pharma_tx_t *tx, ve_buf_t *out) {
  int rc = pharma_payload_encode(tx, out);
  free(tx);
  return rc;
}

static int set_country(char out[PHARMA_COUNTRY_BYTES + 1], const char *c) {
  if (!pharma_country_ok(c)) return VE_ERR_INVALID;
  memcpy(out, c, PHARMA_COUNTRY_BYTES + 1);
  return VE_OK;
}

static int set_gtin(char out[PHARMA_GTIN_BYTES + 1], const char *g) {
  if (!pharma_gtin_ok(g)) return VE_ERR_INVALID;
  memcpy(out, g, PHARMA_GTIN_BYTES + 1);
  return VE_OK;
}

static int set_batch(pharma_tx_t *tx, const char *batch) {
  size_t n = batch ? strnlen(batch, PHARMA_BATCH_BYTES_MAX + 1) : 0;
  if (!pharma_cset82_ok((const uint8_t *)batch, n, PHARMA_BATCH_BYTES_MAX)) return VE_ERR_INVALID;
  memcpy(tx->batch, batch, n);
  tx->batch_len = n;
  return VE_OK;
}

static int ref_cmp_void(const void *a, const void *b) { return pharma_pack_ref_cmp(a, b); }

/* Copies packs[n] into tx sorted; VE_ERR_INVALID if empty, too many or repeated. */
static int set_packs(pharma_tx_t *tx, const pharma_pack_ref_t *packs, size_t n) {
  if (n == 0 || n > PHARMA_TX_PACKS_MAX) return VE_ERR_INVALID;
  memcpy(tx->packs, packs, n * sizeof *packs);
  qsort(tx->packs, n, sizeof *packs, ref_cmp_void);
  for (size_t i = 1; i < n; i++)
    if (pharma_pack_ref_cmp(&tx->packs[i - 1], &tx->packs[i]) == 0) return VE_ERR_INVALID;
  tx->n_packs = n;
  return VE_OK;
}

int pharma_payload_jurisdiction(ve_buf_t *out, const uint8_t regulator[LEDGER_HASH_BYTES], const char *country) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_JURISDICTION_SET);
  if (!tx) return VE_ERR_NOMEM;
  memcpy(tx->party, regulator, LEDGER_HASH_BYTES);
  int rc = set_country(tx->country, country);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

int pharma_payload_license(ve_buf_t *out, const char *country, const uint8_t party[LEDGER_HASH_BYTES],
                           uint32_t kinds, pharma_licence_status_t status) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_LICENSE_SET);
  if (!tx) return VE_ERR_NOMEM;
  memcpy(tx->party, party, LEDGER_HASH_BYTES);
  tx->kinds = kinds;
  tx->status = status;
  int rc = set_country(tx->country, country);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

int pharma_payload_product_register(ve_buf_t *out, const char *gtin, const char *country,
                                    const uint8_t data_digest[PHARMA_DIGEST_BYTES]) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_PRODUCT_REGISTER);
  if (!tx) return VE_ERR_NOMEM;
  memcpy(tx->digest, data_digest, PHARMA_DIGEST_BYTES);
  int rc = set_gtin(tx->gtin, gtin);
  if (!rc) rc = set_country(tx->country, country);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

int pharma_payload_product_authorise(ve_buf_t *out, const char *gtin, const char *country,
                                     pharma_auth_status_t status) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_PRODUCT_AUTHORISE);
  if (!tx) return VE_ERR_NOMEM;
  tx->status = status;
  int rc = set_gtin(tx->gtin, gtin);
  if (!rc) rc = set_country(tx->country, country);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

int pharma_payload_commission(ve_buf_t *out, const char *gtin, const char *batch, uint64_t expiry,
                              const char *const *serials, size_t n) {
  if (n == 0 || n > PHARMA_TX_PACKS_MAX) return VE_ERR_INVALID;
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_COMMISSION);
  pharma_pack_ref_t *refs = calloc(n, sizeof *refs);
  int rc = tx && refs ? VE_OK : VE_ERR_NOMEM;
  if (!rc) rc = set_gtin(tx->gtin, gtin);
  if (!rc) rc = set_batch(tx, batch);
  for (size_t i = 0; i < n && !rc; i++) rc = pharma_pack_ref_set(&refs[i], gtin, serials[i]);
  if (!rc) rc = set_packs(tx, refs, n);
  free(refs);
  if (rc) return free(tx), rc;
  tx->expiry = expiry;
  return tx_finish(tx, out);
}

int pharma_payload_ship(ve_buf_t *out, const uint8_t recipient[LEDGER_HASH_BYTES], const char *dest,
                        const pharma_pack_ref_t *packs, size_t n) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_SHIP);
  if (!tx) return VE_ERR_NOMEM;
  memcpy(tx->party, recipient, LEDGER_HASH_BYTES);
  int rc = set_country(tx->country, dest);
  if (!rc) rc = set_packs(tx, packs, n);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

int pharma_payload_packs(ve_buf_t *out, uint32_t type, const pharma_pack_ref_t *packs, size_t n) {
  if (type != TX_TYPE_PHARMA_RECEIVE && type != TX_TYPE_PHARMA_DISPENSE) return VE_ERR_INVALID;
  pharma_tx_t *tx = tx_new(type);
  if (!tx) return VE_ERR_NOMEM;
  int rc = set_packs(tx, packs, n);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

int pharma_payload_decommission(ve_buf_t *out, pharma_reason_t reason, const pharma_pack_ref_t *packs, size_t n) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_DECOMMISSION);
  if (!tx) return VE_ERR_NOMEM;
  tx->reason = reason;
  int rc = set_packs(tx, packs, n);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

int pharma_payload_recall(ve_buf_t *out, const char *gtin, const char *batch, const char *country,
                          const uint8_t reason[PHARMA_DIGEST_BYTES]) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_RECALL);
  if (!tx) return VE_ERR_NOMEM;
  memcpy(tx->digest, reason, PHARMA_DIGEST_BYTES);
  int rc = set_gtin(tx->gtin, gtin);
  if (!rc) rc = set_batch(tx, batch);
  if (!rc && country) tx->has_country = true, rc = set_country(tx->country, country);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

/* ---- container builders ---- */

static int set_sscc(char out[PHARMA_SSCC_BYTES + 1], const char *s) {
  if (!pharma_sscc_ok(s)) return VE_ERR_INVALID;
  memcpy(out, s, PHARMA_SSCC_BYTES + 1);
  return VE_OK;
}

static int sscc_cmp_void(const void *a, const void *b) { return memcmp(a, b, PHARMA_SSCC_BYTES); }

/* Copies ssccs[n] into tx sorted; VE_ERR_INVALID if empty, too many, malformed or repeated. */
static int set_ssccs(pharma_tx_t *tx, const char *const *ssccs, size_t n) {
  if (n == 0 || n > PHARMA_TX_CONTAINERS_MAX) return VE_ERR_INVALID;
  for (size_t i = 0; i < n; i++) VE_TRY(set_sscc(tx->ssccs[i], ssccs[i]));
  qsort(tx->ssccs, n, sizeof tx->ssccs[0], sscc_cmp_void);
  for (size_t i = 1; i < n; i++)
    if (!memcmp(tx->ssccs[i - 1], tx->ssccs[i], PHARMA_SSCC_BYTES)) return VE_ERR_INVALID;
  tx->n_ssccs = n;
  return VE_OK;
}

int pharma_payload_aggregate(ve_buf_t *out, const char *sscc, const pharma_pack_ref_t *packs, size_t n) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_AGGREGATE);
  if (!tx) return VE_ERR_NOMEM;
  int rc = set_sscc(tx->sscc, sscc);
  if (!rc) rc = set_packs(tx, packs, n);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

int pharma_payload_disaggregate(ve_buf_t *out, const char *sscc) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_DISAGGREGATE);
  if (!tx) return VE_ERR_NOMEM;
  int rc = set_sscc(tx->sscc, sscc);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

int pharma_payload_ship_containers(ve_buf_t *out, const uint8_t recipient[LEDGER_HASH_BYTES], const char *dest,
                                   const char *const *ssccs, size_t n) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_SHIP_CONTAINERS);
  if (!tx) return VE_ERR_NOMEM;
  memcpy(tx->party, recipient, LEDGER_HASH_BYTES);
  int rc = set_country(tx->country, dest);
  if (!rc) rc = set_ssccs(tx, ssccs, n);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}

int pharma_payload_receive_containers(ve_buf_t *out, const char *const *ssccs, size_t n) {
  pharma_tx_t *tx = tx_new(TX_TYPE_PHARMA_RECEIVE_CONTAINERS);
  if (!tx) return VE_ERR_NOMEM;
  int rc = set_ssccs(tx, ssccs, n);
  if (rc) return free(tx), rc;
  return tx_finish(tx, out);
}
