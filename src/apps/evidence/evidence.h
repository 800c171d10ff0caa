/* evidence.h — equivocation evidence on the ledger.
 *
 * When a validator signs two conflicting consensus messages (two votes of one
 * type for one height and round, or two proposals), any node's engine packages
 * them as self-verifying evidence (src/consensus). This app puts that evidence
 * on the ledger so everyone can see, and prove, who misbehaved:
 *   - tx EVIDENCE_SUBMIT (0x0001), signed by any active identity (validators are
 *     role-less identities from genesis, so their nodes can submit);
 *   - execution checks the evidence against the validator set governing its
 *     height (valset_governing_exec: the genesis set, or the one a
 *     validator-set change installed, src/apps/valset), refuses duplicates,
 *     and records it under "ev/" || evidence id.
 * The chain's registry must also run valset_app, whose genesis writes the set
 * this app reads.
 * Deterministic: verification is signature checking over bytes in the tx.
 */
#ifndef VECHE_APPS_EVIDENCE_H
#define VECHE_APPS_EVIDENCE_H

#include <stdint.h>

#include "consensus/consensus.h"
#include "ledger/ledger.h"

#define TX_TYPE_EVIDENCE_SUBMIT 0x0001
#define EVIDENCE_TAG_ID "veche/evidence/id"

typedef struct {
  uint8_t id[LEDGER_HASH_BYTES];        /* H(EVIDENCE_TAG_ID, evidence bytes) */
  cons_evidence_info_t info;            /* guilty key, kind, height, round */
  uint64_t included_height;             /* block that recorded it */
  uint8_t submitter[LEDGER_HASH_BYTES]; /* identity that submitted it */
  ve_slice_t evidence;                  /* borrowed from the decoded value */
} evidence_record_t;

extern const ledger_app_t evidence_app;

void evidence_id(uint8_t out[LEDGER_HASH_BYTES], ve_slice_t evidence);
/* State key "ev/" || id (35 bytes). */
size_t evidence_state_key(uint8_t out[3 + LEDGER_HASH_BYTES], const uint8_t id[LEDGER_HASH_BYTES]);
int evidence_decode(ve_slice_t value, const uint8_t id[LEDGER_HASH_BYTES], evidence_record_t *out);
/* Client side: the payload of an EVIDENCE_SUBMIT tx. */
int evidence_payload(ve_buf_t *out, ve_slice_t evidence);

#endif
