/* identity.h — identities on the ledger: keys, roles, status; no personal data.
 *
 * An identity is a public key plus a digest of attributes held off-chain (the
 * registrar keeps the personal data; the ledger keeps only its hash) and a few
 * optional public attributes such as a district code used for poll eligibility.
 * Its id is H("veche/identity/id", first public key), so a client can name an
 * identity before it is registered. Keys rotate (signed by the current key, with
 * proof of possession of the new one); registrars suspend, restore or revoke.
 *
 * Status machine:   ACTIVE --suspend--> SUSPENDED --restore--> ACTIVE
 *                   ACTIVE|SUSPENDED --revoke--> REVOKED (terminal)
 * Invariants: a key maps to at most one identity, ever (rotated-away keys stay
 * reserved as RETIRED); only an ACTIVE identity's current key can sign; an
 * identity holding any role is managed by ADMINs only, role-less (citizen)
 * identities by REGISTRARs or ADMINs.
 *
 * State keys: "id/" || id -> identity record; "idk/" || pk -> key record.
 */
#ifndef VECHE_APPS_IDENTITY_H
#define VECHE_APPS_IDENTITY_H

#include <stdint.h>
#include <stdbool.h>

#include "base/bytes.h"
#include "ledger/ledger.h"

#define IDENTITY_ATTRS_MAX 8
#define IDENTITY_ATTR_KEY_BYTES_MAX 16
#define IDENTITY_ATTR_VALUE_BYTES_MAX 64
#define IDENTITY_REASON_BYTES_MAX 256
#define IDENTITY_TAG_ID "veche/identity/id"
#define IDENTITY_TAG_ROTATE "veche/identity/rotate"

typedef enum { IDENTITY_ACTIVE = 0, IDENTITY_SUSPENDED = 1, IDENTITY_REVOKED = 2 } identity_status_t;

typedef struct {
  char key[IDENTITY_ATTR_KEY_BYTES_MAX + 1];
  char value[IDENTITY_ATTR_VALUE_BYTES_MAX + 1];
} identity_attr_t;

typedef struct {
  uint8_t id[LEDGER_HASH_BYTES];
  uint8_t pk[VCRYPTO_PK_BYTES];           /* current key */
  uint8_t attr_digest[LEDGER_HASH_BYTES]; /* hash of off-chain attributes */
  uint32_t roles;
  identity_status_t status;
  uint8_t registrar[LEDGER_HASH_BYTES];   /* registering identity; zero for genesis */
  uint64_t registered_height;
  uint64_t updated_height;
  uint32_t key_version;                   /* number of rotations */
  size_t n_attrs;
  identity_attr_t attrs[IDENTITY_ATTRS_MAX]; /* sorted by key, unique */
} identity_t;

/* The app and the signer authoriser, for the ledger registry. */
extern const ledger_app_t identity_app;
extern const ledger_auth_t identity_auth;

void identity_id_from_pk(uint8_t id[LEDGER_HASH_BYTES], const uint8_t pk[VCRYPTO_PK_BYTES]);
const char *identity_status_name(identity_status_t s);

/* Reads through the state (store txn, e.g. a read txn in an API thread).
 * VE_ERR_NOT_FOUND if absent. identity_get_by_key also says whether pk is the
 * identity's current key (false: it was rotated away). */
int identity_get(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], identity_t *out);
int identity_get_by_key(store_txn_t *t, const uint8_t pk[VCRYPTO_PK_BYTES], identity_t *out,
                        bool *current);
/* Decodes an identity record value (as found in state or a proof bundle). */
int identity_decode(ve_slice_t value, const uint8_t id[LEDGER_HASH_BYTES], identity_t *out);
/* Appends the record value of id (the inverse of identity_decode). */
int identity_encode(const identity_t *id, ve_buf_t *out);
/* State key of an identity record (for proofs): "id/" || id; out holds 35 bytes. */
size_t identity_state_key(uint8_t out[3 + LEDGER_HASH_BYTES], const uint8_t id[LEDGER_HASH_BYTES]);

/* Payload builders for clients (CLI, tests, load generator). out is appended. */
int identity_payload_register(ve_buf_t *out, const uint8_t pk[VCRYPTO_PK_BYTES],
                              const uint8_t attr_digest[LEDGER_HASH_BYTES],
                              const identity_attr_t *attrs, size_t n_attrs);
/* The holder rotates to new_kp; proves possession of the new key for this chain. */
int identity_payload_rotate(ve_buf_t *out, ve_slice_t chain_id, const uint8_t id[LEDGER_HASH_BYTES],
                            const vcrypto_keypair_t *new_kp);
/* Suspend, restore or revoke target with a reason (≤ IDENTITY_REASON_BYTES_MAX). */
int identity_payload_status(ve_buf_t *out, const uint8_t target[LEDGER_HASH_BYTES], const char *reason);
int identity_payload_set_roles(ve_buf_t *out, const uint8_t target[LEDGER_HASH_BYTES], uint32_t roles);

#endif
