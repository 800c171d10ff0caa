/* pharma.h — pharmaceutical track-and-trace shared by several countries'
 * regulators (EU FMD / US DSCSA style serialisation: GS1 GTIN + serial + batch
 * + expiry). docs/pharma.md is the specification: payload and state encodings,
 * the permission table, every refusal and its error code.
 *
 * Actors. An ADMIN says which country a REGULATOR identity speaks for
 * (jurisdiction). A regulator licenses parties in its country (MANUFACTURER,
 * WHOLESALER, DISPENSER) and grants or withdraws the marketing authorisation of
 * a product in its country. A licensed manufacturer registers products (GTINs),
 * commissions serialised packs batch by batch, and may recall a batch
 * everywhere; a regulator recalls a batch in its own country. Custodians ship
 * packs to licensed recipients, who receive them; dispensers dispense;
 * custodians decommission (destroyed, stolen, sample, exported). Anyone checks
 * a pack (pharma_verify_pack), online or offline with a proof bundle.
 *
 * Pack state machine (one record per pack key, "phr/k/"):
 *
 *   (none) --commission--> ACTIVE --ship--> IN_TRANSIT --receive--> ACTIVE
 *   ACTIVE --dispense--> DISPENSED                      (terminal)
 *   ACTIVE --decommission--> DECOMMISSIONED(reason)     (terminal)
 *   IN_TRANSIT --decommission(stolen|destroyed), by the shipper--> DECOMMISSIONED
 *
 * Containers (protocol >= LEDGER_PROTOCOL_CONTAINERS; one record per GS1
 * SSCC, "phr/c/"): a custodian packs ACTIVE packs it holds in one country
 * into a case or pallet and ships and receives the case by its one code.
 * One level only: a container holds packs, never containers, so the work of
 * a transaction is bounded by the packs it names and a pack's state is
 * proved by one bundle.
 *
 *   (none) --aggregate--> CLOSED --ship_containers--> IN_TRANSIT
 *   IN_TRANSIT --receive_containers--> CLOSED
 *   CLOSED | IN_TRANSIT --disaggregate, by the custodian--> OPENED (terminal)
 *
 * Container invariants:
 *   - an SSCC is aggregated at most once, ever; an OPENED record stays, so
 *     its code is never reused;
 *   - a pack record names container C (version 2 with C's SSCC) iff C is
 *     CLOSED or IN_TRANSIT and lists the pack's key; a pack is in at most one
 *     container;
 *   - while in C the pack mirrors C: CLOSED <-> ACTIVE and IN_TRANSIT <->
 *     IN_TRANSIT with the same custodian, country, recipient, destination;
 *   - the pack-level SHIP, RECEIVE, DISPENSE and DECOMMISSION refuse a pack in
 *     a container (invalid_state): disaggregate first. Disaggregating is
 *     always possible for the custodian (the shipper while in transit), so a
 *     theft can always be reported.
 *
 * Event reserve (no pack is ever stranded by PHARMA_PACK_EVENTS_MAX):
 *   - SHIP needs events + 3 <= 64 (itself, the receive, a terminal event);
 *   - AGGREGATE needs events + 5 <= 64 (itself, a ship, a receive, the
 *     disaggregate, a terminal event);
 *   - SHIP_CONTAINERS needs events + 4 <= 64 for each pack (itself, the
 *     receive, the disaggregate, a terminal event).
 *   So after any transition the pack's remaining way out (receive,
 *   disaggregate, dispense / decommission) always has room.
 *
 * Invariants:
 *   - a pack key is commissioned at most once, ever; the record is never deleted;
 *   - ACTIVE: custodian holds the pack in `country`; no recipient;
 *     IN_TRANSIT: custodian is the shipper, recipient/dest name who may receive
 *     it and where; DISPENSED / DECOMMISSIONED: nothing moves it any more;
 *   - reason != 0 iff DECOMMISSIONED;
 *   - events 0..n_events-1 exist under "phr/e/" (event 0 is the commissioning),
 *     n_events <= PHARMA_PACK_EVENTS_MAX, and a ship leaves room for the receive
 *     and a terminal event (so a pack can never be stranded by the limit);
 *   - a batch's manufacturer and expiry are fixed by its first commission, its
 *     recall list is sorted by country, unique, and only grows;
 *   - a product's countries list names exactly the countries holding an
 *     authorisation record ("phr/a/"), sorted.
 *
 * Determinism: the app and every helper here are pure (no clock, files,
 * randomness); dates are compared with the block time through
 * pharma_date_from_ms, written here without libc time functions.
 *
 * Ownership: the caller owns every buffer; ve_buf_t outputs are appended to;
 * decoded records are self-contained copies (no pointers into the input).
 */
#ifndef VECHE_APPS_PHARMA_H
#define VECHE_APPS_PHARMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "ledger/ledger.h"

/* ---- transaction types (app range 0x0500..0x05ff; see ledger.h) ---- */
#define PHARMA_TX_TYPE_LO 0x0500
#define PHARMA_TX_TYPE_HI 0x05ff
enum {
  TX_TYPE_PHARMA_JURISDICTION_SET = 0x0501,
  TX_TYPE_PHARMA_LICENSE_SET = 0x0502,
  TX_TYPE_PHARMA_PRODUCT_REGISTER = 0x0503,
  TX_TYPE_PHARMA_PRODUCT_AUTHORISE = 0x0504,
  TX_TYPE_PHARMA_COMMISSION = 0x0505,
  TX_TYPE_PHARMA_SHIP = 0x0506,
  TX_TYPE_PHARMA_RECEIVE = 0x0507,
  TX_TYPE_PHARMA_DISPENSE = 0x0508,
  TX_TYPE_PHARMA_DECOMMISSION = 0x0509,
  TX_TYPE_PHARMA_RECALL = 0x050a,
  /* From protocol LEDGER_PROTOCOL_CONTAINERS (before: unknown_type). */
  TX_TYPE_PHARMA_AGGREGATE = 0x050b,
  TX_TYPE_PHARMA_DISAGGREGATE = 0x050c,
  TX_TYPE_PHARMA_SHIP_CONTAINERS = 0x050d,
  TX_TYPE_PHARMA_RECEIVE_CONTAINERS = 0x050e,
};

/* ---- identifiers and limits ---- */
#define PHARMA_COUNTRY_BYTES 2          /* ISO 3166-1 alpha-2 shape: [A-Z]{2} */
#define PHARMA_GTIN_BYTES 14            /* GTIN-14, ASCII digits, GS1 mod-10 check digit */
#define PHARMA_SERIAL_BYTES_MAX 20      /* GS1 AI (21): 1..20 of CSET 82 */
#define PHARMA_BATCH_BYTES_MAX 20       /* GS1 AI (10): 1..20 of CSET 82 */
#define PHARMA_TX_PACKS_MAX 1000        /* packs named by one transaction */
#define PHARMA_BATCH_PACKS_MAX PHARMA_TX_PACKS_MAX /* serials of one COMMISSION */
#define PHARMA_RECALL_COUNTRIES_MAX 32  /* countries that recalled one batch */
#define PHARMA_PACK_EVENTS_MAX 64       /* custody history of one pack */
#define PHARMA_PRODUCT_COUNTRIES_MAX 64 /* countries with an authorisation record for one product */
#define PHARMA_DIGEST_BYTES 32
#define PHARMA_SSCC_BYTES 18               /* GS1 AI (00): 18 digits, GS1 mod-10 check digit */
#define PHARMA_CONTAINER_PACKS_MAX PHARMA_TX_PACKS_MAX /* packs in one container */
#define PHARMA_TX_CONTAINERS_MAX 16        /* containers named by SHIP/RECEIVE_CONTAINERS */
/* Largest container record: version, status, custodian, country, recipient,
 * destination, packer, two uvarint heights (<= 10 bytes each), the count (2),
 * the pack keys: 32 124 bytes (state values may be up to 64 KiB). */
#define PHARMA_CONTAINER_BYTES_MAX                                                              \
  (2 + 3 * LEDGER_HASH_BYTES + 2 * PHARMA_COUNTRY_BYTES + 2 * 10 + 2 +                           \
   PHARMA_CONTAINER_PACKS_MAX * LEDGER_HASH_BYTES)
/* Expiry dates YYYYMMDD: years in [MIN, MAX]; day 00 = end of the month (GS1). */
#define PHARMA_YEAR_MIN 1900
#define PHARMA_YEAR_MAX 9999
/* Largest stored value but containers (a batch with 32 recalls is ~2.3 KiB;
 * a container is up to PHARMA_CONTAINER_BYTES_MAX). */
#define PHARMA_VALUE_BYTES_MAX 4096
#define PHARMA_PAYLOAD_BYTES_MAX VE_TX_PAYLOAD_BYTES_MAX

/* ---- hashing domains (docs/crypto.md §2.2) ---- */
#define PHARMA_TAG_PACK "veche/pharma/pack" /* pack key */

/* ---- licence kinds (bitmask) and statuses ---- */
enum {
  PHARMA_KIND_MANUFACTURER = 1,
  PHARMA_KIND_WHOLESALER = 2,
  PHARMA_KIND_DISPENSER = 4, /* pharmacy or hospital */
  PHARMA_KIND_MASK = 7,
};
typedef enum { PHARMA_LICENCE_ACTIVE = 0, PHARMA_LICENCE_SUSPENDED = 1, PHARMA_LICENCE_REVOKED = 2 } pharma_licence_status_t;
typedef enum { PHARMA_AUTHORISED = 0, PHARMA_WITHDRAWN = 1 } pharma_auth_status_t;
typedef enum {
  PHARMA_PACK_ACTIVE = 0,
  PHARMA_PACK_IN_TRANSIT = 1,
  PHARMA_PACK_DISPENSED = 2,
  PHARMA_PACK_DECOMMISSIONED = 3,
} pharma_pack_status_t;
typedef enum {
  PHARMA_REASON_NONE = 0,
  PHARMA_REASON_DESTROYED = 1,
  PHARMA_REASON_STOLEN = 2,
  PHARMA_REASON_SAMPLE = 3,
  PHARMA_REASON_EXPORTED = 4,
} pharma_reason_t;
#define PHARMA_REASON_MAX 4
typedef enum {
  PHARMA_EVENT_COMMISSION = 1,
  PHARMA_EVENT_SHIP = 2,
  PHARMA_EVENT_RECEIVE = 3,
  PHARMA_EVENT_DISPENSE = 4,
  PHARMA_EVENT_DECOMMISSION = 5,
  PHARMA_EVENT_AGGREGATE = 6,    /* packed into a container (event version 2: + SSCC) */
  PHARMA_EVENT_DISAGGREGATE = 7, /* taken out of it (event version 2: + SSCC) */
} pharma_event_kind_t;
#define PHARMA_EVENT_MAX 7
typedef enum {
  PHARMA_CONTAINER_CLOSED = 0,     /* packed, at its custodian */
  PHARMA_CONTAINER_IN_TRANSIT = 1, /* shipped, not yet received */
  PHARMA_CONTAINER_OPENED = 2,     /* disaggregated: terminal, the SSCC stays used */
} pharma_container_status_t;

/* Names used by the API and the CLI ("active", "stolen", ...); "unknown" for
 * values out of range. *_from_name: the value, or -1 if the name is unknown. */
const char *pharma_licence_status_name(unsigned s);
const char *pharma_auth_status_name(unsigned s);
const char *pharma_pack_status_name(unsigned s);
const char *pharma_reason_name(unsigned r);
const char *pharma_event_kind_name(unsigned k);
const char *pharma_container_status_name(unsigned s);
int pharma_reason_from_name(const char *name);
int pharma_licence_status_from_name(const char *name);
/* "manufacturer,wholesaler" <-> bits; 0 for an unknown name or empty list. */
uint32_t pharma_kinds_from_names(const char *list);
/* Writes "manufacturer,wholesaler,dispenser" (or "none") into out (>= 40 bytes). */
void pharma_kinds_names(uint32_t kinds, char *out, size_t out_len);

/* ---- identifier checks (the decoders' rules, for clients to check first) ---- */
bool pharma_country_ok(const char *s);                       /* NUL-terminated */
bool pharma_gtin_ok(const char *s);                          /* 14 digits, check digit */
bool pharma_sscc_ok(const char *s);                          /* 18 digits, check digit */
/* The GS1 mod-10 check over s[0..n): all ASCII digits, and the last is the
 * check digit of the others (weights 3, 1, 3, ... from the digit next to the
 * check digit leftwards). GTIN-14 (n = 14) and SSCC (n = 18) share it. */
bool pharma_gs1_check_ok(const uint8_t *s, size_t n);
bool pharma_cset82_ok(const uint8_t *s, size_t len, size_t max); /* serial / batch */
/* A YYYYMMDD expiry date: year in [PHARMA_YEAR_MIN, MAX], month 1..12, day
 * 0..days of the month (0: end of month). */
bool pharma_date_ok(uint64_t yyyymmdd);
/* The UTC date YYYYMMDD of a Unix time in ms (proleptic Gregorian). */
uint64_t pharma_date_from_ms(uint64_t time_ms);
/* Is a pack of this expiry date expired on the UTC date of time_ms? A pack
 * may be used up to and including its expiry date (day 00: the month's last
 * day). Precondition: pharma_date_ok(expiry). */
bool pharma_expired(uint64_t expiry, uint64_t time_ms);

/* ---- records ---- */

typedef struct {
  char gtin[PHARMA_GTIN_BYTES + 1];
  size_t serial_len;
  char serial[PHARMA_SERIAL_BYTES_MAX + 1]; /* NUL-terminated too */
} pharma_pack_ref_t;

typedef struct {
  char country[PHARMA_COUNTRY_BYTES + 1];
  uint64_t height;
} pharma_jurisdiction_t;

typedef struct {
  uint32_t kinds;                     /* PHARMA_KIND_* bits, 1..7 */
  pharma_licence_status_t status;
  uint8_t issuer[LEDGER_HASH_BYTES];  /* the regulator identity that set it */
  uint64_t height;
} pharma_licence_t;

typedef struct {
  uint8_t manufacturer[LEDGER_HASH_BYTES];
  uint8_t data_digest[PHARMA_DIGEST_BYTES]; /* off-chain SmPC / label */
  char country[PHARMA_COUNTRY_BYTES + 1];   /* where the manufacturer is licensed */
  uint64_t height;
  size_t n_countries;                        /* countries with an authorisation record */
  char countries[PHARMA_PRODUCT_COUNTRIES_MAX][PHARMA_COUNTRY_BYTES + 1];
} pharma_product_t;

typedef struct {
  pharma_auth_status_t status;
  uint8_t regulator[LEDGER_HASH_BYTES];
  uint64_t height;
} pharma_auth_t;

typedef struct {
  char country[PHARMA_COUNTRY_BYTES + 1];
  uint8_t regulator[LEDGER_HASH_BYTES];
  uint8_t reason[PHARMA_DIGEST_BYTES];
  uint64_t height;
} pharma_recall_t;

typedef struct {
  uint8_t manufacturer[LEDGER_HASH_BYTES];
  uint64_t expiry;                      /* YYYYMMDD */
  uint64_t packs;                       /* packs commissioned in it */
  uint64_t height;                      /* first commission */
  bool global_recall;                   /* by the manufacturer */
  uint8_t global_reason[PHARMA_DIGEST_BYTES];
  uint64_t global_height;
  size_t n_recalls;                     /* by regulators, sorted by country */
  pharma_recall_t recalls[PHARMA_RECALL_COUNTRIES_MAX];
} pharma_batch_t;

typedef struct {
  pharma_pack_ref_t ref;
  size_t batch_len;
  char batch[PHARMA_BATCH_BYTES_MAX + 1];
  pharma_pack_status_t status;
  pharma_reason_t reason;               /* when DECOMMISSIONED */
  uint8_t custodian[LEDGER_HASH_BYTES];
  char country[PHARMA_COUNTRY_BYTES + 1];
  uint8_t recipient[LEDGER_HASH_BYTES]; /* when IN_TRANSIT */
  char dest[PHARMA_COUNTRY_BYTES + 1];  /* when IN_TRANSIT */
  uint32_t n_events;                    /* 1..PHARMA_PACK_EVENTS_MAX */
  uint64_t height;                      /* last change */
  /* In a container (record version 2; status ACTIVE or IN_TRANSIT only).
   * Version 1 (no container) keeps the bytes it had before containers. */
  bool in_container;
  char sscc[PHARMA_SSCC_BYTES + 1];
} pharma_pack_t;

typedef struct {
  pharma_event_kind_t kind;
  pharma_reason_t reason;               /* DECOMMISSION only */
  uint64_t height;
  uint8_t from[LEDGER_HASH_BYTES];      /* custodian before */
  uint8_t to[LEDGER_HASH_BYTES];        /* after (recipient; zero when dispensed/decommissioned) */
  char country[PHARMA_COUNTRY_BYTES + 1];
  /* AGGREGATE / DISAGGREGATE only (event version 2); kinds 1..5 keep
   * version 1 and no SSCC. */
  char sscc[PHARMA_SSCC_BYTES + 1];
} pharma_event_t;

/* A container ("phr/c/" || sscc): ~32 KiB, allocate it. */
typedef struct {
  pharma_container_status_t status;
  uint8_t custodian[LEDGER_HASH_BYTES];  /* who holds it (the shipper while in transit) */
  char country[PHARMA_COUNTRY_BYTES + 1];
  uint8_t recipient[LEDGER_HASH_BYTES];  /* when IN_TRANSIT */
  char dest[PHARMA_COUNTRY_BYTES + 1];   /* when IN_TRANSIT */
  uint8_t packer[LEDGER_HASH_BYTES];     /* who aggregated it */
  uint64_t packed_height;
  uint64_t height;                       /* last change */
  size_t n_packs;                        /* 1..PHARMA_CONTAINER_PACKS_MAX */
  uint8_t packs[PHARMA_CONTAINER_PACKS_MAX][LEDGER_HASH_BYTES]; /* pack keys, strictly ascending */
} pharma_container_t;

/* The app, for the ledger registry (after identity_app: it reads identities). */
extern const ledger_app_t pharma_app;

/* ---- keys ---- */
#define PHARMA_KEY_BYTES_MAX (6 + LEDGER_HASH_BYTES + 4)
/* pack key = H("veche/pharma/pack", gtin || u8 len(serial) || serial). */
void pharma_pack_key(uint8_t out[LEDGER_HASH_BYTES], const pharma_pack_ref_t *ref);
/* State keys; each returns its length (<= PHARMA_KEY_BYTES_MAX). */
size_t pharma_jurisdiction_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const uint8_t regulator[LEDGER_HASH_BYTES]);
size_t pharma_licence_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const char *country,
                          const uint8_t party[LEDGER_HASH_BYTES]);
size_t pharma_product_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const char *gtin);
size_t pharma_auth_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const char *gtin, const char *country);
size_t pharma_batch_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const char *gtin, const char *batch, size_t batch_len);
size_t pharma_pack_state_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const uint8_t pack_key[LEDGER_HASH_BYTES]);
size_t pharma_event_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const uint8_t pack_key[LEDGER_HASH_BYTES], uint32_t n);
/* "phr/c/" || sscc (18 bytes). Precondition: pharma_sscc_ok(sscc). */
size_t pharma_container_key(uint8_t out[PHARMA_KEY_BYTES_MAX], const char *sscc);

/* ---- strict decoders of state values, and their encoders ----
 * Decoders return 0 or VE_ERR_CORRUPT; encoders 0, VE_ERR_INVALID for a value
 * no decoder accepts, or VE_ERR_NOMEM. encode(decode(b)) == b. */
int pharma_jurisdiction_decode(ve_slice_t v, pharma_jurisdiction_t *out);
int pharma_jurisdiction_encode(const pharma_jurisdiction_t *j, ve_buf_t *out);
int pharma_licence_decode(ve_slice_t v, pharma_licence_t *out);
int pharma_licence_encode(const pharma_licence_t *l, ve_buf_t *out);
int pharma_product_decode(ve_slice_t v, pharma_product_t *out);
int pharma_product_encode(const pharma_product_t *p, ve_buf_t *out);
int pharma_auth_decode(ve_slice_t v, pharma_auth_t *out);
int pharma_auth_encode(const pharma_auth_t *a, ve_buf_t *out);
int pharma_batch_decode(ve_slice_t v, pharma_batch_t *out);
int pharma_batch_encode(const pharma_batch_t *b, ve_buf_t *out);
int pharma_pack_decode(ve_slice_t v, pharma_pack_t *out);
int pharma_pack_encode(const pharma_pack_t *p, ve_buf_t *out);
int pharma_event_decode(ve_slice_t v, pharma_event_t *out);
int pharma_event_encode(const pharma_event_t *e, ve_buf_t *out);
int pharma_container_decode(ve_slice_t v, pharma_container_t *out);
int pharma_container_encode(const pharma_container_t *c, ve_buf_t *out);

/* ---- transaction payloads ----
 * One decoded form for every type; which fields a type uses is in
 * docs/pharma.md ("Payloads"). packs: COMMISSION (serials; every ref's gtin is
 * the tx's gtin), SHIP, RECEIVE, DISPENSE, DECOMMISSION: 1..PHARMA_TX_PACKS_MAX,
 * strictly ascending by (gtin, serial bytes); AGGREGATE too. ssccs:
 * SHIP_CONTAINERS (with party = recipient, country = destination) and
 * RECEIVE_CONTAINERS. ~40 KiB: allocate it. */
typedef struct {
  uint32_t type;
  uint8_t party[LEDGER_HASH_BYTES];        /* JURISDICTION_SET regulator, LICENSE_SET party, SHIP recipient */
  char country[PHARMA_COUNTRY_BYTES + 1];  /* jurisdiction, licence, product, authorisation, ship destination, recall */
  bool has_country;                        /* RECALL: false = global (by the manufacturer) */
  uint32_t kinds;                          /* LICENSE_SET */
  uint32_t status;                         /* LICENSE_SET (licence status), PRODUCT_AUTHORISE (auth status) */
  char gtin[PHARMA_GTIN_BYTES + 1];        /* PRODUCT_*, COMMISSION, RECALL */
  uint8_t digest[PHARMA_DIGEST_BYTES];     /* PRODUCT_REGISTER data digest, RECALL reason digest */
  size_t batch_len;
  char batch[PHARMA_BATCH_BYTES_MAX + 1];  /* COMMISSION, RECALL */
  uint64_t expiry;                         /* COMMISSION */
  pharma_reason_t reason;                  /* DECOMMISSION */
  char sscc[PHARMA_SSCC_BYTES + 1];        /* AGGREGATE, DISAGGREGATE */
  size_t n_ssccs;                          /* SHIP_CONTAINERS, RECEIVE_CONTAINERS: 1..16, ascending */
  char ssccs[PHARMA_TX_CONTAINERS_MAX][PHARMA_SSCC_BYTES + 1];
  size_t n_packs;
  pharma_pack_ref_t packs[PHARMA_TX_PACKS_MAX];
} pharma_tx_t;

/* Strict: unknown type VE_ERR_UNKNOWN_TYPE, version VE_ERR_VERSION, bad
 * identifiers VE_ERR_MALFORMED, bad expiry date VE_ERR_INVALID, unsorted or
 * repeated packs VE_ERR_NONCANONICAL, too many VE_ERR_TOO_BIG, trailing bytes. */
int pharma_payload_decode(uint32_t type, ve_slice_t payload, pharma_tx_t *out);
/* Encodes tx (tx->type says which); VE_ERR_INVALID for anything the decoder
 * would refuse (so a builder never produces a payload nodes refuse to decode). */
int pharma_payload_encode(const pharma_tx_t *tx, ve_buf_t *out);

/* Pack order of the payload lists: gtin, then serial bytes (a prefix first). */
int pharma_pack_ref_cmp(const pharma_pack_ref_t *a, const pharma_pack_ref_t *b);
/* Fills ref from strings; VE_ERR_INVALID unless both are well formed. */
int pharma_pack_ref_set(pharma_pack_ref_t *ref, const char *gtin, const char *serial);

/* Builders for clients (CLI, tests). out is appended to. */
int pharma_payload_jurisdiction(ve_buf_t *out, const uint8_t regulator[LEDGER_HASH_BYTES], const char *country);
int pharma_payload_license(ve_buf_t *out, const char *country, const uint8_t party[LEDGER_HASH_BYTES],
                           uint32_t kinds, pharma_licence_status_t status);
int pharma_payload_product_register(ve_buf_t *out, const char *gtin, const char *country,
                                    const uint8_t data_digest[PHARMA_DIGEST_BYTES]);
int pharma_payload_product_authorise(ve_buf_t *out, const char *gtin, const char *country,
                                     pharma_auth_status_t status);
/* serials[n] in any order: they are sorted here (VE_ERR_INVALID if repeated). */
int pharma_payload_commission(ve_buf_t *out, const char *gtin, const char *batch, uint64_t expiry,
                              const char *const *serials, size_t n);
/* packs[n] in any order: sorted here (VE_ERR_INVALID if repeated). */
int pharma_payload_ship(ve_buf_t *out, const uint8_t recipient[LEDGER_HASH_BYTES], const char *dest,
                        const pharma_pack_ref_t *packs, size_t n);
int pharma_payload_packs(ve_buf_t *out, uint32_t type, const pharma_pack_ref_t *packs, size_t n); /* RECEIVE, DISPENSE */
int pharma_payload_decommission(ve_buf_t *out, pharma_reason_t reason, const pharma_pack_ref_t *packs, size_t n);
/* Containers. packs[n] / ssccs[n] in any order: sorted here (VE_ERR_INVALID
 * if repeated, malformed, empty or too many). */
int pharma_payload_aggregate(ve_buf_t *out, const char *sscc, const pharma_pack_ref_t *packs, size_t n);
int pharma_payload_disaggregate(ve_buf_t *out, const char *sscc);
int pharma_payload_ship_containers(ve_buf_t *out, const uint8_t recipient[LEDGER_HASH_BYTES], const char *dest,
                                   const char *const *ssccs, size_t n);
int pharma_payload_receive_containers(ve_buf_t *out, const char *const *ssccs, size_t n);
/* country NULL: a global recall (by the manufacturer). */
int pharma_payload_recall(ve_buf_t *out, const char *gtin, const char *batch, const char *country,
                          const uint8_t reason[PHARMA_DIGEST_BYTES]);

/* ---- reads (over a block's overlay or a store txn) ----
 * Return 0, VE_ERR_NOT_FOUND, VE_ERR_CORRUPT or a store error. */
int pharma_jurisdiction_get(const ledger_reader_t *rd, const uint8_t regulator[LEDGER_HASH_BYTES],
                            pharma_jurisdiction_t *out);
int pharma_licence_get(const ledger_reader_t *rd, const char *country, const uint8_t party[LEDGER_HASH_BYTES],
                       pharma_licence_t *out);
int pharma_product_get(const ledger_reader_t *rd, const char *gtin, pharma_product_t *out);
int pharma_auth_get(const ledger_reader_t *rd, const char *gtin, const char *country, pharma_auth_t *out);
int pharma_batch_get(const ledger_reader_t *rd, const char *gtin, const char *batch, size_t batch_len,
                     pharma_batch_t *out);
int pharma_pack_get(const ledger_reader_t *rd, const pharma_pack_ref_t *ref, pharma_pack_t *out);
/* The pack under a pack key (a container's list); VE_ERR_CORRUPT if the
 * record's code does not hash to the key. */
int pharma_pack_get_by_key(const ledger_reader_t *rd, const uint8_t pack_key[LEDGER_HASH_BYTES], pharma_pack_t *out);
int pharma_container_get(const ledger_reader_t *rd, const char *sscc, pharma_container_t *out);
/* Events [first, first + cap) of a pack that has n_events (from its record):
 * *n receives how many were read. */
int pharma_events_get(const ledger_reader_t *rd, const pharma_pack_ref_t *ref, uint32_t first,
                      pharma_event_t *events, size_t cap, size_t *n);

/* Is the batch recalled globally or in country? */
bool pharma_batch_recalled(const pharma_batch_t *b, const char *country);

/* ---- the verification answer ----
 * What a pharmacist, patient, customs officer or foreign regulator acts on.
 * Order of the checks (the first that applies wins): UNKNOWN, DECOMMISSIONED,
 * ALREADY_DISPENSED, RECALLED, EXPIRED, IN_TRANSIT, ELSEWHERE,
 * NOT_AUTHORISED_HERE, GENUINE_ACTIVE. */
typedef enum {
  PHARMA_VERDICT_GENUINE_ACTIVE = 0,  /* genuine, in custody here: dispensable */
  PHARMA_VERDICT_UNKNOWN,             /* never commissioned: suspect counterfeit */
  PHARMA_VERDICT_ALREADY_DISPENSED,   /* a second pack with this code: suspect */
  PHARMA_VERDICT_DECOMMISSIONED,      /* reason says why (stolen!) */
  PHARMA_VERDICT_RECALLED,            /* batch recalled globally or here */
  PHARMA_VERDICT_EXPIRED,
  PHARMA_VERDICT_NOT_AUTHORISED_HERE, /* no marketing authorisation in this country */
  PHARMA_VERDICT_IN_TRANSIT,          /* shipped, not yet received */
  PHARMA_VERDICT_ELSEWHERE,           /* the ledger places the pack in another country: diversion */
} pharma_verdict_t;
const char *pharma_verdict_name(pharma_verdict_t v);

typedef struct {
  pharma_verdict_t verdict;
  pharma_reason_t reason;     /* DECOMMISSIONED */
  bool found;                 /* pack (and batch) below are filled */
  pharma_pack_t pack;
  bool has_batch;
  pharma_batch_t batch;
  char country[PHARMA_COUNTRY_BYTES + 1]; /* the country the verdict is for */
} pharma_verify_t;

/* country: where the pack is checked (NULL: the pack's own country); time_ms:
 * the time the verdict is for (a block time). Returns 0 with out filled
 * (UNKNOWN included), VE_ERR_INVALID for malformed identifiers, or a read
 * error. */
int pharma_verify_pack(const ledger_reader_t *rd, const char *gtin, const char *serial, const char *country,
                       uint64_t time_ms, pharma_verify_t *out);

#endif
