/* property.h — property titles (the land registry) on the ledger.
 *
 * A parcel is named by its cadastral number (1..64 bytes of [A-Za-z0-9:./-]);
 * its id is H("veche/property/parcel", cadastral bytes), so anyone computes the
 * id of a number. The ledger keeps, per parcel, a title record (who owns which
 * share, what burdens it), one history event per title version (so the owners
 * at any past version are provable from current state, also on a node that
 * prunes old state versions), and an owner index (what an identity owns). It
 * never keeps personal data or geometry: the survey plan and the deeds are
 * held off-chain and named by 32-byte digests. docs/property.md is the
 * specification (encodings, consent message, error table, API, CLI).
 *
 * Who may change a title. Every transaction is signed by an ACTIVE identity
 * holding ROLE_LAND_REGISTRAR (else VE_ERR_PERMISSION): the registrar records.
 * Changes after the first registration also need the parties' consents: an
 * Ed25519 signature by each consenter's *current* key (identity app) over
 *
 *     vcrypto_sign(tag "veche/property/consent",
 *                  u8 len(chain_id) || chain_id || be16(tx type) || action)
 *
 * where action is the tx payload encoded with an empty consent list
 * (property_action_bytes). It binds the parcel, the expected title version,
 * the new owners / kind / holder / number and the deed or document digest, so a
 * consent is good for exactly one change of one title on one chain, and dies
 * once the version moves. The consents in a payload must be EXACTLY the
 * required set (sorted by identity id, unique):
 *   TRANSFER  every current owner that is not REVOKED, every new owner, and
 *             every MORTGAGE holder;
 *   ENCUMBER  MORTGAGE / EASEMENT / LEASE: every owner and the holder;
 *             ARREST: nobody (a court order entered by the registrar);
 *   RELEASE   the holder of the encumbrance released (every kind).
 * Errors, checked in this order: a consent from someone outside the set
 * VE_ERR_INVALID; a required consent missing VE_ERR_QUORUM; a consenter
 * SUSPENDED / REVOKED VE_ERR_SUSPENDED / VE_ERR_REVOKED; a signature that does
 * not verify under the consenter's current key VE_ERR_BAD_SIG. (VE_ERR_PERMISSION
 * is kept for the signer's role, so the two failures are told apart.)
 *
 * A REVOKED current owner (typically deceased, or an identity replaced after a
 * lost key) is excused from consenting to a TRANSFER: inheritance and
 * re-identification go through a TRANSFER whose deed digest names the court's
 * or registrar's document, with the consents of the heirs (new owners), the
 * remaining owners and the mortgage holders. A SUSPENDED owner is not excused
 * (suspension is temporary: wait for the restore). Holders are never excused.
 *
 * A REVOKED holder (a bank wound up, a court reorganised) is replaced by
 * HOLDER_REPLACE (protocol >= 3): the new holder consents alone and the
 * document digest names the court decision or the successor's act.
 *
 * Lineage (protocol >= LEDGER_PROTOCOL_LINEAGE; below it the three types are
 * VE_ERR_UNKNOWN_TYPE before anything else is read, so older chains replay
 * identically). A parcel is split (SUBDIVIDE: one ACTIVE parent -> 2..16 new
 * children) or joined (MERGE: 2..16 ACTIVE parents with the same owner list ->
 * one new parcel). The parents become RETIRED (terminal: every later
 * transaction on them is VE_ERR_STATE) and keep their last picture (owners,
 * encumbrances) with `children` naming where the land went; the new titles
 * name their `parents`. Both lists are strictly ascending parcel ids, at most
 * PROPERTY_LINEAGE_MAX, so the ancestry of any title is provable from current
 * state one level at a time. Encumbrances follow the land: a subdivision
 * copies every one to every child under the same number (next_number kept); a
 * merger renumbers the union 1..m in (parent id, number) order and its ORIGIN
 * event records each new entry's (parent, old number).
 *   SUBDIVIDE consents: every non-REVOKED owner and every MORTGAGE holder;
 *   MERGE     consents: the same over the (common) owners and the distinct
 *             MORTGAGE holders of all parents (each consents once);
 *   HOLDER_REPLACE consents: the new holder, and the current holder unless
 *             its identity is REVOKED.
 * Refusals specific to them: a parent under ARREST VE_ERR_STATE; a child or
 * merged cadastral number already registered (RETIRED ones included: numbers
 * are never reused) VE_ERR_EXISTS; parents with different owner lists
 * VE_ERR_INVALID; more than PROPERTY_ENCUMBRANCES_MAX in the union
 * VE_ERR_LIMIT; HOLDER_REPLACE of an unknown number VE_ERR_NOT_FOUND, to the
 * current holder VE_ERR_INVALID.
 *
 * Title state machine (per parcel):
 *   absent --REGISTER--> ACTIVE v1 --TRANSFER|ENCUMBER|RELEASE|HOLDER_REPLACE--> ACTIVE v+1
 *   absent --(child of SUBDIVIDE | result of MERGE)--> ACTIVE v1 (parents set, event 1 ORIGIN)
 *   ACTIVE v --SUBDIVIDE|MERGE (as a parent)--> RETIRED v+1 (children set; terminal)
 * Invariants of a stored title: 1..PROPERTY_OWNERS_MAX owners, sorted by id,
 * unique, parts >= 1, gcd(parts) == 1, sum(parts) <= 2^32; at most
 * PROPERTY_ENCUMBRANCES_MAX encumbrances, sorted by number, every number <
 * next_number (numbers are never reused); history events 1..version exist and
 * event v is the change that made version v; event 1, and only it, is a
 * REGISTER or an ORIGIN; "prop/o/" || owner || parcel exists exactly for the
 * current owners of each ACTIVE parcel (a RETIRED one is in nobody's index).
 * RETIRED <=> children non-empty; parents and children strictly ascending,
 * each at most PROPERTY_LINEAGE_MAX. A TRANSFER, SUBDIVIDE or MERGE is refused
 * while any ARREST is registered (VE_ERR_STATE); encumbrances stay with the
 * parcel through transfers.
 *
 * Record versions: a title is written with version byte 1 (its exact old
 * bytes) while it is ACTIVE without lineage, and with version byte 2 (the same
 * fields, then status, parents, children) otherwise; only the protocol-3
 * types can produce the latter, so old chains' bytes never change.
 *
 * State keys: "prop/p/" || id -> title; "prop/h/" || id || be64(version) ->
 * event; "prop/o/" || owner id || parcel id -> empty value.
 *
 * Determinism: the app and every helper here are pure (no clock, files or
 * randomness); state only through ledger_state_* / ledger_reader_t.
 * Ownership: the caller owns every buffer; ve_buf_t outputs are appended to;
 * decoded structures are self-contained copies.
 */
#ifndef VECHE_APPS_PROPERTY_H
#define VECHE_APPS_PROPERTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "codec/codec.h"
#include "ledger/ledger.h"
#include "store/store.h"

#define PROPERTY_TX_TYPE_LO 0x0400
#define PROPERTY_TX_TYPE_HI 0x04ff

enum {
  TX_TYPE_PROPERTY_REGISTER = 0x0401,
  TX_TYPE_PROPERTY_TRANSFER = 0x0402,
  TX_TYPE_PROPERTY_ENCUMBER = 0x0403,
  TX_TYPE_PROPERTY_RELEASE = 0x0404,
  /* From protocol LEDGER_PROTOCOL_LINEAGE (3). */
  TX_TYPE_PROPERTY_SUBDIVIDE = 0x0405,
  TX_TYPE_PROPERTY_MERGE = 0x0406,
  TX_TYPE_PROPERTY_HOLDER_REPLACE = 0x0407,
};

/* ---- limits ---- */
#define PROPERTY_CADASTRAL_BYTES_MAX 64 /* [A-Za-z0-9:./-]{1,64} */
#define PROPERTY_DISTRICT_BYTES_MAX 16  /* [a-z0-9_]{0,16} (identity attribute convention) */
#define PROPERTY_OWNERS_MAX 16
#define PROPERTY_ENCUMBRANCES_MAX 16
/* Children of a subdivision, parents of a merger, and so the length of a
 * title's parents and children lists. */
#define PROPERTY_LINEAGE_MAX 16
/* Required consenters at most: 16 current owners + 16 new + 16 mortgage holders
 * (a subdivision or merger needs at most 16 owners + 16 mortgage holders). */
#define PROPERTY_CONSENTS_MAX (2 * PROPERTY_OWNERS_MAX + PROPERTY_ENCUMBRANCES_MAX)
#define PROPERTY_PARTS_SUM_MAX (UINT64_C(1) << 32) /* sum of owners' parts */
#define PROPERTY_AREA_M2_MAX UINT64_C(1000000000000) /* 10^12 m² = 10^6 km²; keeps JSON exact */
#define PROPERTY_HISTORY_PAGE_MAX 256   /* events per history read */
#define PROPERTY_OWNED_PAGE_MAX 256     /* parcels per owner-index read */
#define PROPERTY_DIGEST_BYTES 32
#define PROPERTY_VERSION 1              /* of payloads, records and events */
#define PROPERTY_TITLE_VERSION_LINEAGE 2 /* title record with status and lineage */
/* Encoded sizes stay below these: a title at most about 2.2 KiB in version 1
 * and 3.2 KiB in version 2 (+ 2 lists of 16 ids); an event at most about
 * 1.4 KiB (ORIGIN: 16 owners, 16 parents, 16 origins); a payload at most about
 * 6.6 KiB (SUBDIVIDE: 16 children with 64-byte numbers and 32 consents, or any
 * type with 48 consents). The event bound was 1024 before ORIGIN. */
#define PROPERTY_RECORD_BYTES_MAX 4096
#define PROPERTY_EVENT_BYTES_MAX 2048
#define PROPERTY_PAYLOAD_BYTES_MAX 8192
#define PROPERTY_CONSENT_MSG_BYTES_MAX (1 + VE_CHAIN_ID_BYTES_MAX + 2 + PROPERTY_PAYLOAD_BYTES_MAX)

/* ---- domains (docs/crypto.md §2.2) ---- */
#define PROPERTY_TAG_PARCEL "veche/property/parcel"
#define PROPERTY_TAG_CONSENT "veche/property/consent"

/* ---- state keys ---- */
#define PROPERTY_TITLE_KEY_BYTES (7 + LEDGER_HASH_BYTES)          /* "prop/p/" || id */
#define PROPERTY_EVENT_KEY_BYTES (7 + LEDGER_HASH_BYTES + 8)      /* "prop/h/" || id || be64 */
#define PROPERTY_OWNER_KEY_BYTES (7 + 2 * LEDGER_HASH_BYTES)      /* "prop/o/" || owner || id */
#define PROPERTY_OWNER_PREFIX_BYTES (7 + LEDGER_HASH_BYTES)

typedef enum {
  PROPERTY_MORTGAGE = 1,
  PROPERTY_EASEMENT = 2,
  PROPERTY_LEASE = 3,
  PROPERTY_ARREST = 4, /* seizure by court order */
} property_enc_kind_t;
#define PROPERTY_ENC_KIND_MAX 4

typedef enum {
  PROPERTY_EV_REGISTER = 1,
  PROPERTY_EV_TRANSFER = 2,
  PROPERTY_EV_ENCUMBER = 3,
  PROPERTY_EV_RELEASE = 4,
  /* From protocol 3: */
  PROPERTY_EV_SUBDIVIDE = 5,      /* on the retired parent: the children */
  PROPERTY_EV_MERGE = 6,          /* on each retired parent: the result */
  PROPERTY_EV_ORIGIN = 7,         /* event 1 of a child or merger result */
  PROPERTY_EV_HOLDER_REPLACE = 8, /* an encumbrance's holder replaced */
} property_event_kind_t;
#define PROPERTY_EV_KIND_MAX 8

typedef enum {
  PROPERTY_ACTIVE = 0,
  PROPERTY_RETIRED = 1, /* its land lies in its children now; terminal */
} property_status_t;

typedef struct {
  uint8_t id[LEDGER_HASH_BYTES]; /* identity id */
  uint64_t parts;                /* >= 1; share = parts / sum of parts */
} property_owner_t;

typedef struct {
  uint64_t number;                          /* from the title's counter, never reused */
  uint8_t kind;                             /* property_enc_kind_t */
  uint8_t holder[LEDGER_HASH_BYTES];        /* bank, beneficiary, tenant, court */
  uint8_t document[PROPERTY_DIGEST_BYTES];  /* digest of the contract / court order */
  uint64_t height;                          /* registered at */
} property_encumbrance_t;

typedef struct {
  uint8_t id[LEDGER_HASH_BYTES];
  char cadastral[PROPERTY_CADASTRAL_BYTES_MAX + 1]; /* NUL-terminated */
  uint8_t registrar[LEDGER_HASH_BYTES];  /* land registrar who registered it */
  uint64_t registered_height;
  uint64_t version;                      /* 1 at registration, +1 per change */
  uint64_t updated_height;
  uint8_t plan_digest[PROPERTY_DIGEST_BYTES];
  uint64_t area_m2;                      /* 1..PROPERTY_AREA_M2_MAX */
  char district[PROPERTY_DISTRICT_BYTES_MAX + 1]; /* "" when absent */
  size_t n_owners;
  property_owner_t owners[PROPERTY_OWNERS_MAX];
  size_t n_encumbrances;
  property_encumbrance_t encumbrances[PROPERTY_ENCUMBRANCES_MAX];
  uint8_t last_deed[PROPERTY_DIGEST_BYTES]; /* digest of the last deed or document */
  uint64_t next_number;                  /* next encumbrance number (starts at 1) */
  /* Lineage (record version 2 only; ACTIVE and empty lists in version 1). */
  uint8_t status;                        /* property_status_t */
  size_t n_parents;                      /* 0: REGISTERed; 1: a child; 2..16: a merger */
  uint8_t parents[PROPERTY_LINEAGE_MAX][LEDGER_HASH_BYTES];
  size_t n_children;                     /* > 0 exactly when RETIRED */
  uint8_t children[PROPERTY_LINEAGE_MAX][LEDGER_HASH_BYTES];
} property_title_t;

/* Where an encumbrance of a title made by SUBDIVIDE or MERGE came from: its
 * parent (an index into the title's parents) and its number there. */
typedef struct {
  uint8_t parent;
  uint64_t number;
} property_origin_t;

/* One history event: the change that made title version `version`. */
typedef struct {
  uint64_t version;                      /* from the key, not the value */
  uint8_t kind;                          /* property_event_kind_t */
  uint64_t height;
  uint8_t signer[LEDGER_HASH_BYTES];     /* the registrar's identity */
  uint8_t digest[PROPERTY_DIGEST_BYTES]; /* deed (REGISTER/TRANSFER) or document */
  /* REGISTER / TRANSFER: the owners after it */
  size_t n_owners;
  property_owner_t owners[PROPERTY_OWNERS_MAX];
  /* ENCUMBER / RELEASE / HOLDER_REPLACE: the encumbrance entered, lifted or
   * reassigned (holder: the holder before a HOLDER_REPLACE) */
  uint64_t number;
  uint8_t enc_kind;
  uint8_t holder[LEDGER_HASH_BYTES];
  uint8_t new_holder[LEDGER_HASH_BYTES]; /* HOLDER_REPLACE */
  /* SUBDIVIDE: the children (2..16); MERGE: the result (1); ORIGIN: the
   * parents (1..16); strictly ascending. */
  size_t n_lineage;
  uint8_t lineage[PROPERTY_LINEAGE_MAX][LEDGER_HASH_BYTES];
  /* ORIGIN: the title's encumbrances in its order, each one's origin. A
   * subdivision child keeps the numbers; a merger's are 1..n_origins. */
  size_t n_origins;
  property_origin_t origins[PROPERTY_ENCUMBRANCES_MAX];
} property_event_t;

typedef struct {
  uint8_t id[LEDGER_HASH_BYTES];
  uint8_t sig[VCRYPTO_SIG_BYTES];
} property_consent_t;

/* One piece of a SUBDIVIDE (a child: cadastral, plan_digest, area_m2,
 * district; id = its parcel id, derived) or of a MERGE (a parent: id and the
 * expected version). */
typedef struct {
  uint8_t id[LEDGER_HASH_BYTES];
  uint64_t version;
  char cadastral[PROPERTY_CADASTRAL_BYTES_MAX + 1];
  uint8_t plan_digest[PROPERTY_DIGEST_BYTES];
  uint64_t area_m2;
  char district[PROPERTY_DISTRICT_BYTES_MAX + 1];
} property_piece_t;

/* A transaction's payload, decoded. Which fields a type uses:
 *   REGISTER: cadastral, plan_digest, area_m2, district, owners, digest (deed)
 *   TRANSFER: parcel, version, owners, digest (deed), consents
 *   ENCUMBER: parcel, version, kind, holder, digest (document), consents
 *   RELEASE:  parcel, version, number, digest (document), consents
 *   SUBDIVIDE: parcel, version, pieces (the children, ascending by id),
 *             digest (deed), consents
 *   MERGE:    pieces (the parents: id, version; ascending by id), cadastral,
 *             plan_digest, area_m2, district (the new parcel), digest (deed),
 *             consents
 *   HOLDER_REPLACE: parcel, version, number, holder (the new one),
 *             digest (document), consents
 * Unused fields are zero. */
typedef struct {
  uint32_t type;
  uint8_t parcel[LEDGER_HASH_BYTES];
  uint64_t version;                      /* expected current title version */
  char cadastral[PROPERTY_CADASTRAL_BYTES_MAX + 1];
  uint8_t plan_digest[PROPERTY_DIGEST_BYTES];
  uint64_t area_m2;
  char district[PROPERTY_DISTRICT_BYTES_MAX + 1];
  size_t n_owners;
  property_owner_t owners[PROPERTY_OWNERS_MAX];
  uint8_t kind;
  uint8_t holder[LEDGER_HASH_BYTES];
  uint64_t number;
  uint8_t digest[PROPERTY_DIGEST_BYTES];
  size_t n_pieces;
  property_piece_t pieces[PROPERTY_LINEAGE_MAX];
  size_t n_consents;
  property_consent_t consents[PROPERTY_CONSENTS_MAX];
} property_action_t;

/* The app, for the ledger registry (after identity_app: it reads identities). */
extern const ledger_app_t property_app;

/* ---- names and ids ---- */

/* Is s (len bytes) a valid cadastral number / district code? */
bool property_cadastral_ok(const char *s, size_t len);
bool property_district_ok(const char *s, size_t len);
/* Parcel id of a cadastral number: 0, or VE_ERR_INVALID for a bad number. */
int property_parcel_id(uint8_t out[LEDGER_HASH_BYTES], const char *cadastral);
const char *property_enc_kind_name(unsigned kind);        /* "mortgage", ...; "unknown" */
unsigned property_enc_kind_from_name(const char *name);   /* 0 if unknown */
const char *property_event_kind_name(unsigned kind);      /* "register", ...; "unknown" */
const char *property_status_name(unsigned status);        /* "active", "retired"; "unknown" */
/* Checks an owner list against the rules above (count, order, parts, gcd,
 * sum): 0, VE_ERR_INVALID (empty, zero parts), VE_ERR_TOO_BIG (more than
 * PROPERTY_OWNERS_MAX, or the sum over 2^32), VE_ERR_NONCANONICAL (unsorted,
 * repeated, gcd != 1). */
int property_owners_check(const property_owner_t *owners, size_t n);
/* Greatest common divisor (gcd(a, 0) = a): the owners rule, and the reduced
 * share parts / sum the API shows. */
uint64_t property_gcd(uint64_t a, uint64_t b);
/* Sum of the parts (precondition: property_owners_check passed). */
uint64_t property_parts_sum(const property_owner_t *owners, size_t n);

size_t property_title_key(uint8_t out[PROPERTY_TITLE_KEY_BYTES], const uint8_t id[LEDGER_HASH_BYTES]);
size_t property_event_key(uint8_t out[PROPERTY_EVENT_KEY_BYTES], const uint8_t id[LEDGER_HASH_BYTES],
                          uint64_t version);
size_t property_owner_key(uint8_t out[PROPERTY_OWNER_KEY_BYTES], const uint8_t owner[LEDGER_HASH_BYTES],
                          const uint8_t id[LEDGER_HASH_BYTES]);

/* ---- encodings (strict: encode(decode(b)) == b for every accepted b) ---- */

/* Appends the payload of a->type. Returns 0; VE_ERR_UNKNOWN_TYPE; VE_ERR_INVALID
 * etc. for a value no node would accept (bad cadastral or district, owners
 * breaking the rules, unknown kind, unsorted consents, pieces out of order or
 * too few): nothing is appended then. REGISTER has no consent list (n_consents
 * must be 0). For SUBDIVIDE the pieces' ids are derived from their cadastral
 * numbers here (a->pieces[i].id is ignored) and must come out ascending. */
int property_payload_encode(ve_buf_t *out, const property_action_t *a);
/* Strict decode of a payload of type. Returns 0, VE_ERR_UNKNOWN_TYPE, a codec
 * error, VE_ERR_VERSION, or the owners/consents rule broken. */
int property_payload_decode(uint32_t type, ve_slice_t payload, property_action_t *out);
/* The action a consent signs: the payload with an empty consent list. */
int property_action_bytes(ve_buf_t *out, const property_action_t *a);
/* The message signed (without the tag): u8 len(chain_id) || chain_id ||
 * be16(type) || action. Appends to out. */
int property_consent_msg(ve_buf_t *out, ve_slice_t chain_id, const property_action_t *a);
/* Signs / verifies a consent to a (REGISTER takes none: VE_ERR_INVALID). */
int property_consent_sign(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp, ve_slice_t chain_id,
                          const property_action_t *a);
__attribute__((warn_unused_result)) int property_consent_verify(const uint8_t sig[VCRYPTO_SIG_BYTES],
                                                                const uint8_t pk[VCRYPTO_PK_BYTES],
                                                                ve_slice_t chain_id, const property_action_t *a);
/* Inserts (id, sig) into a->consents in id order, replacing a consent by the
 * same id. VE_ERR_LIMIT when full. */
int property_consent_add(property_action_t *a, const uint8_t id[LEDGER_HASH_BYTES],
                         const uint8_t sig[VCRYPTO_SIG_BYTES]);

/* Title record value (state "prop/p/" || id): version 1, or version 2 when
 * the title is RETIRED or has lineage (a version 2 that could be a version 1
 * is refused). Decode checks every invariant above and that id is the
 * cadastral number's id; VE_ERR_CORRUPT otherwise. */
int property_title_encode(ve_buf_t *out, const property_title_t *t);
int property_title_decode(ve_slice_t value, const uint8_t id[LEDGER_HASH_BYTES], property_title_t *out);
/* History event value (state "prop/h/" || id || be64(version)). */
int property_event_encode(ve_buf_t *out, const property_event_t *e);
int property_event_decode(ve_slice_t value, uint64_t version, property_event_t *out);

/* ---- reads (a store txn, e.g. an API thread's read txn) ----
 * Return 0, VE_ERR_NOT_FOUND, VE_ERR_CORRUPT or store errors. */
int property_get(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], property_title_t *out);
int property_history_get(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], uint64_t version,
                         property_event_t *out);
/* Parcels owned by owner, ascending by parcel id, strictly after *after (NULL:
 * from the first), at most limit (1..PROPERTY_OWNED_PAGE_MAX, else
 * VE_ERR_INVALID). Out: ids[0..*n), *more: another page follows. */
int property_owned_list(store_txn_t *t, const uint8_t owner[LEDGER_HASH_BYTES], const uint8_t *after,
                        size_t limit, uint8_t (*ids)[LEDGER_HASH_BYTES], size_t *n, bool *more);

#endif
