/* property_codec.c — the canonical encodings of the property app: payloads,
 * the consent message, title records and history events, with the rules on
 * names and owner lists they enforce. One encoding per value; every decoder is
 * strict and every encoder refuses what the decoder would. Layouts:
 * docs/property.md, "Encodings". */
#include <string.h>

#include "apps/property/property.h"
#include "base/err.h"

/* Smallest encoded owner (id, 1-byte parts), encumbrance and consent: bounds
 * for codec_get_count, so a huge count is refused before anything is read. */
#define OWNER_BYTES_MIN (LEDGER_HASH_BYTES + 1)
#define ENC_BYTES_MIN (1 + 1 + LEDGER_HASH_BYTES + PROPERTY_DIGEST_BYTES + 1)
#define CONSENT_BYTES (LEDGER_HASH_BYTES + VCRYPTO_SIG_BYTES)
/* A subdivision child (cadastral of 1 byte, empty district), a merger parent,
 * an origin entry. */
#define CHILD_BYTES_MIN (2 + PROPERTY_DIGEST_BYTES + 1 + 1)
#define PARENT_BYTES_MIN (LEDGER_HASH_BYTES + 1)
#define ORIGIN_BYTES_MIN 2
/* Pieces of a SUBDIVIDE or MERGE: at least two (one would be a renaming). */
#define PIECES_MIN 2

_Static_assert(VE_CHAIN_ID_BYTES_MAX <= 255, "the consent message's chain id length is a u8");
_Static_assert(PROPERTY_TX_TYPE_HI <= 0xffff, "the consent message carries the type as be16");

/* ---- names, ids, keys ---- */

bool property_cadastral_ok(const char *s, size_t len) {
  if (len == 0 || len > PROPERTY_CADASTRAL_BYTES_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
              c == '.' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool property_district_ok(const char *s, size_t len) {
  if (len > PROPERTY_DISTRICT_BYTES_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

int property_parcel_id(uint8_t out[LEDGER_HASH_BYTES], const char *cadastral) {
  size_t n = strnlen(cadastral, PROPERTY_CADASTRAL_BYTES_MAX + 1);
  if (!property_cadastral_ok(cadastral, n)) return VE_ERR_INVALID;
  vcrypto_hash(out, PROPERTY_TAG_PARCEL, (const uint8_t *)cadastral, n);
  return VE_OK;
}

static const char *const ENC_NAMES[] = {NULL, "mortgage", "easement", "lease", "arrest"};
static const char *const EV_NAMES[] = {NULL,       "register", "transfer", "encumber",      "release",
                                       "subdivide", "merge",    "origin",   "holder_replace"};
_Static_assert(sizeof EV_NAMES / sizeof EV_NAMES[0] == PROPERTY_EV_KIND_MAX + 1, "a name per event kind");

const char *property_enc_kind_name(unsigned kind) {
  return kind >= 1 && kind <= PROPERTY_ENC_KIND_MAX ? ENC_NAMES[kind] : "unknown";
}

unsigned property_enc_kind_from_name(const char *name) {
  for (unsigned k = 1; k <= PROPERTY_ENC_KIND_MAX; k++)
    if (!strcmp(name, ENC_NAMES[k])) return k;
  return 0;
}

const char *property_event_kind_name(unsigned kind) {
  return kind >= PROPERTY_EV_REGISTER && kind <= PROPERTY_EV_KIND_MAX ? EV_NAMES[kind] : "unknown";
}

const char *property_status_name(unsigned status) {
  return status == PROPERTY_ACTIVE ? "active" : status == PROPERTY_RETIRED ? "retired" : "unknown";
}

size_t property_title_key(uint8_t out[PROPERTY_TITLE_KEY_BYTES], const uint8_t id[LEDGER_HASH_BYTES]) {
  memcpy(out, "prop/p/", 7);
  memcpy(out + 7, id, LEDGER_HASH_BYTES);
  return PROPERTY_TITLE_KEY_BYTES;
}

size_t property_event_key(uint8_t out[PROPERTY_EVENT_KEY_BYTES], const uint8_t id[LEDGER_HASH_BYTES],
                          uint64_t version) {
  memcpy(out, "prop/h/", 7);
  memcpy(out + 7, id, LEDGER_HASH_BYTES);
  ve_be64_put(out + 7 + LEDGER_HASH_BYTES, version);
  return PROPERTY_EVENT_KEY_BYTES;
}

size_t property_owner_key(uint8_t out[PROPERTY_OWNER_KEY_BYTES], const uint8_t owner[LEDGER_HASH_BYTES],
                          const uint8_t id[LEDGER_HASH_BYTES]) {
  memcpy(out, "prop/o/", 7);
  memcpy(out + 7, owner, LEDGER_HASH_BYTES);
  memcpy(out + 7 + LEDGER_HASH_BYTES, id, LEDGER_HASH_BYTES);
  return PROPERTY_OWNER_KEY_BYTES;
}

/* ---- owners ---- */

uint64_t property_gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

int property_owners_check(const property_owner_t *owners, size_t n) {
  if (n == 0) return VE_ERR_INVALID;
  if (n > PROPERTY_OWNERS_MAX) return VE_ERR_TOO_BIG;
  uint64_t sum = 0, g = 0;
  for (size_t i = 0; i < n; i++) {
    if (owners[i].parts == 0) return VE_ERR_INVALID;
    if (owners[i].parts > PROPERTY_PARTS_SUM_MAX || sum > PROPERTY_PARTS_SUM_MAX - owners[i].parts)
      return VE_ERR_TOO_BIG;
    sum += owners[i].parts;
    g = property_gcd(g, owners[i].parts);
    if (i > 0 && memcmp(owners[i - 1].id, owners[i].id, LEDGER_HASH_BYTES) >= 0) return VE_ERR_NONCANONICAL;
  }
  /* 1:1 and 2:2 are the same shares: only the reduced form is encodable. */
  return g == 1 ? VE_OK : VE_ERR_NONCANONICAL;
}

uint64_t property_parts_sum(const property_owner_t *owners, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) sum += owners[i].parts;
  return sum;
}

static void put_owners(codec_writer_t *w, const property_owner_t *owners, size_t n) {
  codec_put_uvarint(w, n);
  for (size_t i = 0; i < n; i++) {
    codec_put_fixed(w, owners[i].id, LEDGER_HASH_BYTES);
    codec_put_uvarint(w, owners[i].parts);
  }
}

static void get_owners(codec_reader_t *r, property_owner_t *owners, size_t *n_out) {
  *n_out = 0;
  size_t n = codec_get_count(r, PROPERTY_OWNERS_MAX, OWNER_BYTES_MIN);
  codec_enter(r);
  for (size_t i = 0; i < n && !r->err; i++) {
    codec_get_fixed(r, owners[i].id, LEDGER_HASH_BYTES);
    owners[i].parts = codec_get_uvarint_max(r, PROPERTY_PARTS_SUM_MAX);
  }
  codec_leave(r);
  if (!r->err) {
    int rc = property_owners_check(owners, n);
    if (rc) codec_fail(r, rc);
  }
  if (!r->err) *n_out = n;
}

/* ---- lists of parcel ids (lineage) ---- */

/* min..PROPERTY_LINEAGE_MAX ids, strictly ascending. */
static int ids_check(const uint8_t (*ids)[LEDGER_HASH_BYTES], size_t n, size_t min) {
  if (n < min) return VE_ERR_INVALID;
  if (n > PROPERTY_LINEAGE_MAX) return VE_ERR_TOO_BIG;
  for (size_t i = 1; i < n; i++)
    if (memcmp(ids[i - 1], ids[i], LEDGER_HASH_BYTES) >= 0) return VE_ERR_NONCANONICAL;
  return VE_OK;
}

static void put_ids(codec_writer_t *w, const uint8_t (*ids)[LEDGER_HASH_BYTES], size_t n) {
  codec_put_uvarint(w, n);
  for (size_t i = 0; i < n; i++) codec_put_fixed(w, ids[i], LEDGER_HASH_BYTES);
}

static void get_ids(codec_reader_t *r, uint8_t (*ids)[LEDGER_HASH_BYTES], size_t *n_out, size_t min) {
  *n_out = 0;
  size_t n = codec_get_count(r, PROPERTY_LINEAGE_MAX, LEDGER_HASH_BYTES);
  for (size_t i = 0; i < n && !r->err; i++) codec_get_fixed(r, ids[i], LEDGER_HASH_BYTES);
  if (!r->err) {
    int rc = ids_check((const uint8_t(*)[LEDGER_HASH_BYTES])ids, n, min);
    if (rc) codec_fail(r, rc);
  }
  if (!r->err) *n_out = n;
}

/* ---- consents ---- */

static int consents_check(const property_consent_t *c, size_t n) {
  if (n > PROPERTY_CONSENTS_MAX) return VE_ERR_TOO_BIG;
  for (size_t i = 1; i < n; i++)
    if (memcmp(c[i - 1].id, c[i].id, LEDGER_HASH_BYTES) >= 0) return VE_ERR_NONCANONICAL;
  return VE_OK;
}

static void put_consents(codec_writer_t *w, const property_consent_t *c, size_t n) {
  codec_put_uvarint(w, n);
  for (size_t i = 0; i < n; i++) {
    codec_put_fixed(w, c[i].id, LEDGER_HASH_BYTES);
    codec_put_fixed(w, c[i].sig, VCRYPTO_SIG_BYTES);
  }
}

static void get_consents(codec_reader_t *r, property_consent_t *c, size_t *n_out) {
  *n_out = 0;
  size_t n = codec_get_count(r, PROPERTY_CONSENTS_MAX, CONSENT_BYTES);
  codec_enter(r);
  for (size_t i = 0; i < n && !r->err; i++) {
    codec_get_fixed(r, c[i].id, LEDGER_HASH_BYTES);
    codec_get_fixed(r, c[i].sig, VCRYPTO_SIG_BYTES);
  }
  codec_leave(r);
  if (!r->err) {
    int rc = consents_check(c, n);
    if (rc) codec_fail(r, rc);
  }
  if (!r->err) *n_out = n;
}

int property_consent_add(property_action_t *a, const uint8_t id[LEDGER_HASH_BYTES],
                         const uint8_t sig[VCRYPTO_SIG_BYTES]) {
  size_t i = 0;
  while (i < a->n_consents && memcmp(a->consents[i].id, id, LEDGER_HASH_BYTES) < 0) i++;
  if (i < a->n_consents && !memcmp(a->consents[i].id, id, LEDGER_HASH_BYTES)) {
    memcpy(a->consents[i].sig, sig, VCRYPTO_SIG_BYTES);
    return VE_OK;
  }
  if (a->n_consents == PROPERTY_CONSENTS_MAX) return VE_ERR_LIMIT;
  memmove(&a->consents[i + 1], &a->consents[i], (a->n_consents - i) * sizeof a->consents[0]);
  memcpy(a->consents[i].id, id, LEDGER_HASH_BYTES);
  memcpy(a->consents[i].sig, sig, VCRYPTO_SIG_BYTES);
  a->n_consents++;
  return VE_OK;
}

/* ---- strings held as NUL-terminated arrays ---- */

static void put_str(codec_writer_t *w, const char *s, size_t max) {
  codec_put_bytes(w, (const uint8_t *)s, strnlen(s, max + 1), max);
}

static void get_str(codec_reader_t *r, char *out, size_t max, bool (*ok)(const char *, size_t)) {
  memset(out, 0, max + 1);
  ve_slice_t s = codec_get_bytes(r, max);
  if (r->err) return;
  if (!ok((const char *)s.ptr, s.len)) {
    codec_fail(r, VE_ERR_MALFORMED);
    return;
  }
  memcpy(out, s.ptr, s.len);
}

/* ---- payloads ---- */

static bool is_property_type(uint32_t type) {
  return type >= TX_TYPE_PROPERTY_REGISTER && type <= TX_TYPE_PROPERTY_HOLDER_REPLACE;
}

/* A parcel's land as a payload describes it: cadastral number, plan digest,
 * area and district (REGISTER, each SUBDIVIDE child, the MERGE result). */
static int land_check(const char *cad, const char *district, uint64_t area_m2) {
  size_t cl = strnlen(cad, PROPERTY_CADASTRAL_BYTES_MAX + 1), dl = strnlen(district, PROPERTY_DISTRICT_BYTES_MAX + 1);
  if (!property_cadastral_ok(cad, cl) || !property_district_ok(district, dl)) return VE_ERR_INVALID;
  if (area_m2 == 0) return VE_ERR_INVALID;
  return area_m2 > PROPERTY_AREA_M2_MAX ? VE_ERR_TOO_BIG : VE_OK;
}

static void put_land(codec_writer_t *w, const char *cad, const uint8_t plan[PROPERTY_DIGEST_BYTES], uint64_t area_m2,
                     const char *district) {
  put_str(w, cad, PROPERTY_CADASTRAL_BYTES_MAX);
  codec_put_fixed(w, plan, PROPERTY_DIGEST_BYTES);
  codec_put_uvarint(w, area_m2);
  put_str(w, district, PROPERTY_DISTRICT_BYTES_MAX);
}

static void get_land(codec_reader_t *r, char *cad, uint8_t plan[PROPERTY_DIGEST_BYTES], uint64_t *area_m2,
                     char *district) {
  get_str(r, cad, PROPERTY_CADASTRAL_BYTES_MAX, property_cadastral_ok);
  codec_get_fixed(r, plan, PROPERTY_DIGEST_BYTES);
  *area_m2 = codec_get_uvarint_max(r, PROPERTY_AREA_M2_MAX);
  if (!r->err && *area_m2 == 0) codec_fail(r, VE_ERR_INVALID);
  get_str(r, district, PROPERTY_DISTRICT_BYTES_MAX, property_district_ok);
}

/* The pieces of a SUBDIVIDE (children: land, ids derived from the numbers)
 * or MERGE (parents: ids): PIECES_MIN..PROPERTY_LINEAGE_MAX, ascending by id,
 * so a split or a join has one encoding. */
static int pieces_check(const property_action_t *a) {
  if (a->n_pieces < PIECES_MIN) return VE_ERR_INVALID;
  if (a->n_pieces > PROPERTY_LINEAGE_MAX) return VE_ERR_TOO_BIG;
  uint8_t prev[LEDGER_HASH_BYTES], id[LEDGER_HASH_BYTES];
  for (size_t i = 0; i < a->n_pieces; i++) {
    const property_piece_t *p = &a->pieces[i];
    if (a->type == TX_TYPE_PROPERTY_SUBDIVIDE) {
      VE_TRY(land_check(p->cadastral, p->district, p->area_m2));
      VE_TRY(property_parcel_id(id, p->cadastral));
    } else {
      memcpy(id, p->id, LEDGER_HASH_BYTES);
    }
    if (i > 0 && memcmp(prev, id, LEDGER_HASH_BYTES) >= 0) return VE_ERR_NONCANONICAL;
    memcpy(prev, id, LEDGER_HASH_BYTES);
  }
  return VE_OK;
}

static void put_pieces(codec_writer_t *w, const property_action_t *a) {
  codec_put_uvarint(w, a->n_pieces);
  for (size_t i = 0; i < a->n_pieces; i++) {
    const property_piece_t *p = &a->pieces[i];
    if (a->type == TX_TYPE_PROPERTY_SUBDIVIDE) {
      put_land(w, p->cadastral, p->plan_digest, p->area_m2, p->district);
    } else {
      codec_put_fixed(w, p->id, LEDGER_HASH_BYTES);
      codec_put_uvarint(w, p->version);
    }
  }
}

static void get_pieces(codec_reader_t *r, property_action_t *a) {
  bool children = a->type == TX_TYPE_PROPERTY_SUBDIVIDE;
  size_t n = codec_get_count(r, PROPERTY_LINEAGE_MAX, children ? CHILD_BYTES_MIN : PARENT_BYTES_MIN);
  if (!r->err && n < PIECES_MIN) codec_fail(r, VE_ERR_INVALID);
  codec_enter(r);
  for (size_t i = 0; i < n && !r->err; i++) {
    property_piece_t *p = &a->pieces[i];
    if (children) {
      get_land(r, p->cadastral, p->plan_digest, &p->area_m2, p->district);
      if (!r->err) property_parcel_id(p->id, p->cadastral); /* valid: get_land checked it */
    } else {
      codec_get_fixed(r, p->id, LEDGER_HASH_BYTES);
      p->version = codec_get_uvarint(r);
    }
    if (!r->err && i > 0 && memcmp(a->pieces[i - 1].id, p->id, LEDGER_HASH_BYTES) >= 0)
      codec_fail(r, VE_ERR_NONCANONICAL);
  }
  codec_leave(r);
  if (!r->err) a->n_pieces = n;
}

/* What encode refuses: exactly what decode would. */
static int action_check(const property_action_t *a, bool with_consents) {
  if (!is_property_type(a->type)) return VE_ERR_UNKNOWN_TYPE;
  switch (a->type) {
    case TX_TYPE_PROPERTY_REGISTER: {
      size_t cl = strnlen(a->cadastral, sizeof a->cadastral), dl = strnlen(a->district, sizeof a->district);
      if (!property_cadastral_ok(a->cadastral, cl) || !property_district_ok(a->district, dl)) return VE_ERR_INVALID;
      if (a->area_m2 == 0) return VE_ERR_INVALID;
      if (a->area_m2 > PROPERTY_AREA_M2_MAX) return VE_ERR_TOO_BIG;
      if (a->n_consents) return VE_ERR_INVALID;
      return property_owners_check(a->owners, a->n_owners);
    }
    case TX_TYPE_PROPERTY_TRANSFER: VE_TRY(property_owners_check(a->owners, a->n_owners)); break;
    case TX_TYPE_PROPERTY_ENCUMBER:
      if (a->kind < 1 || a->kind > PROPERTY_ENC_KIND_MAX) return VE_ERR_INVALID;
      break;
    case TX_TYPE_PROPERTY_SUBDIVIDE: VE_TRY(pieces_check(a)); break;
    case TX_TYPE_PROPERTY_MERGE:
      VE_TRY(pieces_check(a));
      VE_TRY(land_check(a->cadastral, a->district, a->area_m2));
      break;
    default: break;
  }
  return with_consents ? consents_check(a->consents, a->n_consents) : VE_OK;
}

static void put_action(codec_writer_t *w, const property_action_t *a, bool with_consents) {
  codec_put_u8(w, PROPERTY_VERSION);
  if (a->type == TX_TYPE_PROPERTY_REGISTER) {
    put_str(w, a->cadastral, PROPERTY_CADASTRAL_BYTES_MAX);
    codec_put_fixed(w, a->plan_digest, PROPERTY_DIGEST_BYTES);
    codec_put_uvarint(w, a->area_m2);
    put_str(w, a->district, PROPERTY_DISTRICT_BYTES_MAX);
    put_owners(w, a->owners, a->n_owners);
    codec_put_fixed(w, a->digest, PROPERTY_DIGEST_BYTES);
    return; /* no consents: it records an existing title */
  }
  if (a->type == TX_TYPE_PROPERTY_MERGE) {
    put_pieces(w, a);
    put_land(w, a->cadastral, a->plan_digest, a->area_m2, a->district);
  } else {
    codec_put_fixed(w, a->parcel, LEDGER_HASH_BYTES);
    codec_put_uvarint(w, a->version);
  }
  if (a->type == TX_TYPE_PROPERTY_TRANSFER) {
    put_owners(w, a->owners, a->n_owners);
  } else if (a->type == TX_TYPE_PROPERTY_ENCUMBER) {
    codec_put_u8(w, a->kind);
    codec_put_fixed(w, a->holder, LEDGER_HASH_BYTES);
  } else if (a->type == TX_TYPE_PROPERTY_SUBDIVIDE) {
    put_pieces(w, a);
  } else if (a->type == TX_TYPE_PROPERTY_HOLDER_REPLACE) {
    codec_put_uvarint(w, a->number);
    codec_put_fixed(w, a->holder, LEDGER_HASH_BYTES);
  } else if (a->type == TX_TYPE_PROPERTY_RELEASE) {
    codec_put_uvarint(w, a->number);
  }
  codec_put_fixed(w, a->digest, PROPERTY_DIGEST_BYTES);
  if (with_consents) put_consents(w, a->consents, a->n_consents);
  else codec_put_uvarint(w, 0);
}

static int encode_action(ve_buf_t *out, const property_action_t *a, bool with_consents) {
  VE_TRY(action_check(a, with_consents));
  size_t mark = out->len;
  codec_writer_t w;
  codec_writer_init(&w, out);
  put_action(&w, a, with_consents);
  int rc = codec_writer_finish(&w);
  if (rc) out->len = mark;
  return rc;
}

int property_payload_encode(ve_buf_t *out, const property_action_t *a) { return encode_action(out, a, true); }

int property_action_bytes(ve_buf_t *out, const property_action_t *a) { return encode_action(out, a, false); }

int property_payload_decode(uint32_t type, ve_slice_t payload, property_action_t *out) {
  memset(out, 0, sizeof *out);
  if (!is_property_type(type)) return VE_ERR_UNKNOWN_TYPE;
  out->type = type;
  codec_reader_t r;
  codec_reader_init(&r, payload);
  if (codec_get_u8(&r) != PROPERTY_VERSION) codec_fail(&r, VE_ERR_VERSION);
  if (type == TX_TYPE_PROPERTY_REGISTER) {
    get_str(&r, out->cadastral, PROPERTY_CADASTRAL_BYTES_MAX, property_cadastral_ok);
    codec_get_fixed(&r, out->plan_digest, PROPERTY_DIGEST_BYTES);
    out->area_m2 = codec_get_uvarint_max(&r, PROPERTY_AREA_M2_MAX);
    if (!r.err && out->area_m2 == 0) codec_fail(&r, VE_ERR_INVALID);
    get_str(&r, out->district, PROPERTY_DISTRICT_BYTES_MAX, property_district_ok);
    get_owners(&r, out->owners, &out->n_owners);
    codec_get_fixed(&r, out->digest, PROPERTY_DIGEST_BYTES);
  } else {
    if (type == TX_TYPE_PROPERTY_MERGE) {
      get_pieces(&r, out);
      get_land(&r, out->cadastral, out->plan_digest, &out->area_m2, out->district);
    } else {
      codec_get_fixed(&r, out->parcel, LEDGER_HASH_BYTES);
      out->version = codec_get_uvarint(&r);
    }
    if (type == TX_TYPE_PROPERTY_TRANSFER) {
      get_owners(&r, out->owners, &out->n_owners);
    } else if (type == TX_TYPE_PROPERTY_ENCUMBER) {
      out->kind = codec_get_u8(&r);
      if (!r.err && (out->kind < 1 || out->kind > PROPERTY_ENC_KIND_MAX)) codec_fail(&r, VE_ERR_INVALID);
      codec_get_fixed(&r, out->holder, LEDGER_HASH_BYTES);
    } else if (type == TX_TYPE_PROPERTY_SUBDIVIDE) {
      get_pieces(&r, out);
    } else if (type == TX_TYPE_PROPERTY_HOLDER_REPLACE) {
      out->number = codec_get_uvarint(&r);
      codec_get_fixed(&r, out->holder, LEDGER_HASH_BYTES);
    } else if (type == TX_TYPE_PROPERTY_RELEASE) {
      out->number = codec_get_uvarint(&r);
    }
    codec_get_fixed(&r, out->digest, PROPERTY_DIGEST_BYTES);
    get_consents(&r, out->consents, &out->n_consents);
  }
  int rc = codec_reader_finish(&r);
  if (rc) {
    memset(out, 0, sizeof *out);
    out->type = type;
  }
  return rc;
}

/* ---- consents ---- */

int property_consent_msg(ve_buf_t *out, ve_slice_t chain_id, const property_action_t *a) {
  if (chain_id.len == 0 || chain_id.len > VE_CHAIN_ID_BYTES_MAX) return VE_ERR_INVALID;
  if (a->type == TX_TYPE_PROPERTY_REGISTER) return VE_ERR_INVALID;
  size_t mark = out->len;
  uint8_t head[1 + VE_CHAIN_ID_BYTES_MAX + 2];
  head[0] = (uint8_t)chain_id.len;
  memcpy(head + 1, chain_id.ptr, chain_id.len);
  head[1 + chain_id.len] = (uint8_t)(a->type >> 8);
  head[2 + chain_id.len] = (uint8_t)a->type;
  int rc = ve_buf_append(out, head, 3 + chain_id.len);
  if (rc == VE_OK) rc = property_action_bytes(out, a);
  if (rc) out->len = mark;
  return rc;
}

int property_consent_sign(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp, ve_slice_t chain_id,
                          const property_action_t *a) {
  uint8_t mem[PROPERTY_CONSENT_MSG_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  memset(sig, 0, VCRYPTO_SIG_BYTES);
  VE_TRY(property_consent_msg(&b, chain_id, a));
  vcrypto_sign(sig, kp, PROPERTY_TAG_CONSENT, mem, b.len);
  return VE_OK;
}

int property_consent_verify(const uint8_t sig[VCRYPTO_SIG_BYTES], const uint8_t pk[VCRYPTO_PK_BYTES],
                            ve_slice_t chain_id, const property_action_t *a) {
  uint8_t mem[PROPERTY_CONSENT_MSG_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(property_consent_msg(&b, chain_id, a));
  return vcrypto_verify(sig, pk, PROPERTY_TAG_CONSENT, mem, b.len);
}

/* ---- title records ---- */

static int encumbrances_check(const property_encumbrance_t *e, size_t n, uint64_t next_number) {
  if (n > PROPERTY_ENCUMBRANCES_MAX) return VE_ERR_TOO_BIG;
  for (size_t i = 0; i < n; i++) {
    if (e[i].kind < 1 || e[i].kind > PROPERTY_ENC_KIND_MAX) return VE_ERR_INVALID;
    if (e[i].number == 0 || e[i].number >= next_number) return VE_ERR_INVALID;
    if (i > 0 && e[i - 1].number >= e[i].number) return VE_ERR_NONCANONICAL;
  }
  return VE_OK;
}

/* Every invariant of a stored title (property.h), id included. */
static int title_check(const property_title_t *t) {
  size_t cl = strnlen(t->cadastral, sizeof t->cadastral), dl = strnlen(t->district, sizeof t->district);
  if (!property_cadastral_ok(t->cadastral, cl) || !property_district_ok(t->district, dl)) return VE_ERR_INVALID;
  uint8_t id[LEDGER_HASH_BYTES];
  VE_TRY(property_parcel_id(id, t->cadastral));
  if (memcmp(id, t->id, LEDGER_HASH_BYTES)) return VE_ERR_INVALID;
  if (t->version == 0 || t->updated_height < t->registered_height) return VE_ERR_INVALID;
  if (t->area_m2 == 0 || t->area_m2 > PROPERTY_AREA_M2_MAX) return VE_ERR_INVALID;
  if (t->next_number == 0) return VE_ERR_INVALID;
  VE_TRY(property_owners_check(t->owners, t->n_owners));
  VE_TRY(encumbrances_check(t->encumbrances, t->n_encumbrances, t->next_number));
  /* Lineage: a RETIRED title names where its land went; an ACTIVE one has no
   * children. */
  if (t->status > PROPERTY_RETIRED) return VE_ERR_INVALID;
  if ((t->status == PROPERTY_RETIRED) != (t->n_children > 0)) return VE_ERR_INVALID;
  VE_TRY(ids_check((const uint8_t(*)[LEDGER_HASH_BYTES])t->parents, t->n_parents, 0));
  return ids_check((const uint8_t(*)[LEDGER_HASH_BYTES])t->children, t->n_children, 0);
}

/* Version 2 exactly when version 1 cannot hold the title: old bytes stay. */
static bool title_has_lineage(const property_title_t *t) {
  return t->status != PROPERTY_ACTIVE || t->n_parents || t->n_children;
}

int property_title_encode(ve_buf_t *out, const property_title_t *t) {
  VE_TRY(title_check(t));
  size_t mark = out->len;
  codec_writer_t w;
  codec_writer_init(&w, out);
  bool lineage = title_has_lineage(t);
  codec_put_u8(&w, lineage ? PROPERTY_TITLE_VERSION_LINEAGE : PROPERTY_VERSION);
  put_str(&w, t->cadastral, PROPERTY_CADASTRAL_BYTES_MAX);
  codec_put_fixed(&w, t->registrar, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, t->registered_height);
  codec_put_uvarint(&w, t->version);
  codec_put_uvarint(&w, t->updated_height);
  codec_put_fixed(&w, t->plan_digest, PROPERTY_DIGEST_BYTES);
  codec_put_uvarint(&w, t->area_m2);
  put_str(&w, t->district, PROPERTY_DISTRICT_BYTES_MAX);
  put_owners(&w, t->owners, t->n_owners);
  codec_put_uvarint(&w, t->n_encumbrances);
  for (size_t i = 0; i < t->n_encumbrances; i++) {
    const property_encumbrance_t *e = &t->encumbrances[i];
    codec_put_uvarint(&w, e->number);
    codec_put_u8(&w, e->kind);
    codec_put_fixed(&w, e->holder, LEDGER_HASH_BYTES);
    codec_put_fixed(&w, e->document, PROPERTY_DIGEST_BYTES);
    codec_put_uvarint(&w, e->height);
  }
  codec_put_fixed(&w, t->last_deed, PROPERTY_DIGEST_BYTES);
  codec_put_uvarint(&w, t->next_number);
  if (lineage) {
    codec_put_u8(&w, t->status);
    put_ids(&w, (const uint8_t(*)[LEDGER_HASH_BYTES])t->parents, t->n_parents);
    put_ids(&w, (const uint8_t(*)[LEDGER_HASH_BYTES])t->children, t->n_children);
  }
  int rc = codec_writer_finish(&w);
  if (rc) out->len = mark;
  return rc;
}

int property_title_decode(ve_slice_t value, const uint8_t id[LEDGER_HASH_BYTES], property_title_t *out) {
  memset(out, 0, sizeof *out);
  memcpy(out->id, id, LEDGER_HASH_BYTES);
  codec_reader_t r;
  codec_reader_init(&r, value);
  uint8_t version = codec_get_u8(&r);
  if (version != PROPERTY_VERSION && version != PROPERTY_TITLE_VERSION_LINEAGE) codec_fail(&r, VE_ERR_VERSION);
  get_str(&r, out->cadastral, PROPERTY_CADASTRAL_BYTES_MAX, property_cadastral_ok);
  codec_get_fixed(&r, out->registrar, LEDGER_HASH_BYTES);
  out->registered_height = codec_get_uvarint(&r);
  out->version = codec_get_uvarint(&r);
  out->updated_height = codec_get_uvarint(&r);
  codec_get_fixed(&r, out->plan_digest, PROPERTY_DIGEST_BYTES);
  out->area_m2 = codec_get_uvarint(&r);
  get_str(&r, out->district, PROPERTY_DISTRICT_BYTES_MAX, property_district_ok);
  get_owners(&r, out->owners, &out->n_owners);
  size_t n = codec_get_count(&r, PROPERTY_ENCUMBRANCES_MAX, ENC_BYTES_MIN);
  codec_enter(&r);
  for (size_t i = 0; i < n && !r.err; i++) {
    property_encumbrance_t *e = &out->encumbrances[i];
    e->number = codec_get_uvarint(&r);
    e->kind = codec_get_u8(&r);
    codec_get_fixed(&r, e->holder, LEDGER_HASH_BYTES);
    codec_get_fixed(&r, e->document, PROPERTY_DIGEST_BYTES);
    e->height = codec_get_uvarint(&r);
  }
  codec_leave(&r);
  out->n_encumbrances = r.err ? 0 : n;
  codec_get_fixed(&r, out->last_deed, PROPERTY_DIGEST_BYTES);
  out->next_number = codec_get_uvarint(&r);
  if (version == PROPERTY_TITLE_VERSION_LINEAGE) {
    out->status = codec_get_u8(&r);
    get_ids(&r, out->parents, &out->n_parents, 0);
    get_ids(&r, out->children, &out->n_children, 0);
    /* A version 2 that version 1 could hold has two encodings: refused. */
    if (!r.err && !title_has_lineage(out)) codec_fail(&r, VE_ERR_NONCANONICAL);
  }
  if (codec_reader_finish(&r) || title_check(out)) {
    memset(out, 0, sizeof *out);
    return VE_ERR_CORRUPT;
  }
  return VE_OK;
}

/* ---- history events ---- */

static bool event_has_owners(unsigned kind) {
  return kind == PROPERTY_EV_REGISTER || kind == PROPERTY_EV_TRANSFER;
}

/* An ORIGIN's encumbrance origins: parent indexes within the parents,
 * numbers >= 1, strictly ascending by (parent, number) (the order a merger
 * renumbers in; a subdivision copies in number order from parent 0). */
static int origins_check(const property_event_t *e) {
  if (e->n_origins > PROPERTY_ENCUMBRANCES_MAX) return VE_ERR_TOO_BIG;
  for (size_t i = 0; i < e->n_origins; i++) {
    const property_origin_t *o = &e->origins[i], *p = &e->origins[i ? i - 1 : 0];
    if (o->parent >= e->n_lineage || o->number == 0) return VE_ERR_INVALID;
    if (i > 0 && (p->parent > o->parent || (p->parent == o->parent && p->number >= o->number)))
      return VE_ERR_NONCANONICAL;
  }
  return VE_OK;
}

static int event_check(const property_event_t *e) {
  if (e->kind < PROPERTY_EV_REGISTER || e->kind > PROPERTY_EV_KIND_MAX) return VE_ERR_INVALID;
  /* Version 1 is the registration or origin, and only version 1. */
  bool first = e->kind == PROPERTY_EV_REGISTER || e->kind == PROPERTY_EV_ORIGIN;
  if (e->version == 0 || (e->version == 1) != first) return VE_ERR_INVALID;
  const uint8_t(*lineage)[LEDGER_HASH_BYTES] = (const uint8_t(*)[LEDGER_HASH_BYTES])e->lineage;
  switch (e->kind) {
    case PROPERTY_EV_REGISTER:
    case PROPERTY_EV_TRANSFER: return property_owners_check(e->owners, e->n_owners);
    case PROPERTY_EV_ORIGIN:
      VE_TRY(property_owners_check(e->owners, e->n_owners));
      VE_TRY(ids_check(lineage, e->n_lineage, 1));
      return origins_check(e);
    case PROPERTY_EV_SUBDIVIDE: return ids_check(lineage, e->n_lineage, PIECES_MIN);
    case PROPERTY_EV_MERGE: return e->n_lineage == 1 ? VE_OK : VE_ERR_INVALID;
    default: break;
  }
  if (e->n_owners) return VE_ERR_INVALID;
  if (e->number == 0 || e->enc_kind < 1 || e->enc_kind > PROPERTY_ENC_KIND_MAX) return VE_ERR_INVALID;
  if (e->kind == PROPERTY_EV_HOLDER_REPLACE && !memcmp(e->holder, e->new_holder, LEDGER_HASH_BYTES))
    return VE_ERR_INVALID;
  return VE_OK;
}

int property_event_encode(ve_buf_t *out, const property_event_t *e) {
  VE_TRY(event_check(e));
  size_t mark = out->len;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, PROPERTY_VERSION);
  codec_put_u8(&w, e->kind);
  codec_put_uvarint(&w, e->height);
  codec_put_fixed(&w, e->signer, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, e->digest, PROPERTY_DIGEST_BYTES);
  const uint8_t(*lineage)[LEDGER_HASH_BYTES] = (const uint8_t(*)[LEDGER_HASH_BYTES])e->lineage;
  if (event_has_owners(e->kind)) {
    put_owners(&w, e->owners, e->n_owners);
  } else if (e->kind == PROPERTY_EV_ORIGIN) {
    put_owners(&w, e->owners, e->n_owners);
    put_ids(&w, lineage, e->n_lineage);
    codec_put_uvarint(&w, e->n_origins);
    for (size_t i = 0; i < e->n_origins; i++) {
      codec_put_u8(&w, e->origins[i].parent);
      codec_put_uvarint(&w, e->origins[i].number);
    }
  } else if (e->kind == PROPERTY_EV_SUBDIVIDE) {
    put_ids(&w, lineage, e->n_lineage);
  } else if (e->kind == PROPERTY_EV_MERGE) {
    codec_put_fixed(&w, e->lineage[0], LEDGER_HASH_BYTES);
  } else {
    codec_put_uvarint(&w, e->number);
    codec_put_u8(&w, e->enc_kind);
    codec_put_fixed(&w, e->holder, LEDGER_HASH_BYTES);
    if (e->kind == PROPERTY_EV_HOLDER_REPLACE) codec_put_fixed(&w, e->new_holder, LEDGER_HASH_BYTES);
  }
  int rc = codec_writer_finish(&w);
  if (rc) out->len = mark;
  return rc;
}

int property_event_decode(ve_slice_t value, uint64_t version, property_event_t *out) {
  memset(out, 0, sizeof *out);
  out->version = version;
  codec_reader_t r;
  codec_reader_init(&r, value);
  if (codec_get_u8(&r) != PROPERTY_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->kind = codec_get_u8(&r);
  if (!r.err && (out->kind < PROPERTY_EV_REGISTER || out->kind > PROPERTY_EV_KIND_MAX))
    codec_fail(&r, VE_ERR_MALFORMED);
  out->height = codec_get_uvarint(&r);
  codec_get_fixed(&r, out->signer, LEDGER_HASH_BYTES);
  codec_get_fixed(&r, out->digest, PROPERTY_DIGEST_BYTES);
  if (event_has_owners(out->kind)) {
    get_owners(&r, out->owners, &out->n_owners);
  } else if (out->kind == PROPERTY_EV_ORIGIN) {
    get_owners(&r, out->owners, &out->n_owners);
    get_ids(&r, out->lineage, &out->n_lineage, 1);
    size_t n = codec_get_count(&r, PROPERTY_ENCUMBRANCES_MAX, ORIGIN_BYTES_MIN);
    for (size_t i = 0; i < n && !r.err; i++) {
      out->origins[i].parent = codec_get_u8(&r);
      out->origins[i].number = codec_get_uvarint(&r);
    }
    if (!r.err) out->n_origins = n;
  } else if (out->kind == PROPERTY_EV_SUBDIVIDE) {
    get_ids(&r, out->lineage, &out->n_lineage, PIECES_MIN);
  } else if (out->kind == PROPERTY_EV_MERGE) {
    codec_get_fixed(&r, out->lineage[0], LEDGER_HASH_BYTES);
    out->n_lineage = 1;
  } else {
    out->number = codec_get_uvarint(&r);
    out->enc_kind = codec_get_u8(&r);
    codec_get_fixed(&r, out->holder, LEDGER_HASH_BYTES);
    if (out->kind == PROPERTY_EV_HOLDER_REPLACE) codec_get_fixed(&r, out->new_holder, LEDGER_HASH_BYTES);
  }
  if (codec_reader_finish(&r) || event_check(out)) {
    memset(out, 0, sizeof *out);
    return VE_ERR_CORRUPT;
  }
  return VE_OK;
}
