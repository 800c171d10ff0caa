/* upgrade.h — protocol upgrades decided on the ledger.
 *
 * The rules every node applies (transaction types, validation, execution) form
 * a protocol version. Version 1 is what chains start with. A release
 * implements versions 1 .. LEDGER_PROTOCOL_IMPLEMENTED (src/ledger). When the
 * consortium adopts a release with new rules, every node must switch at the
 * same height, and a node still running an older release must stop rather
 * than apply blocks by rules it does not know (which would fork it, or have it
 * refuse good blocks). So the switch is decided on the ledger:
 *
 *   PROTOCOL_UPGRADE (0x0020) schedules protocol P from height A, with the
 *   approvals of validators holding more than 2/3 of the power of the set
 *   governing the block that executes it (the threshold that commits a block:
 *   no single operator upgrades the chain alone). The envelope's signer is any
 *   active identity; the approvals are what authorise. Each approval is an
 *   Ed25519 signature, by a validator's key, of
 *
 *       vcrypto_sign(tag "veche/upgrade/approval",
 *                    u8 len(chain_id) || chain_id || be64(decision) ||
 *                    be64(P) || be64(A) || H_set (32))
 *
 *   where decision = the number of upgrade decisions applied so far + 1 (an
 *   approval is good for one decision only) and H_set = cons_valset_hash of
 *   the approving set.
 *
 * Rules, for a decision executed in block h (after the pending upgrade, if any,
 * has been settled: a pending (P', A') with A' <= h is the active protocol):
 *   - A >= h + UPGRADE_DELAY_MIN and A <= UPGRADE_HEIGHT_MAX;
 *   - with no upgrade pending: P > active, P <= UPGRADE_PROTOCOL_MAX;
 *   - with one pending (A' > h): the decision replaces it; P >= active, and
 *     P == active cancels it (nothing pending afterwards);
 *   - approvals: indices into the set governing h, strictly increasing, more
 *     than 2/3 of its power, each signature good.
 * A decision that breaks a rule fails its transaction (VE_ERR_INVALID for a
 * protocol or height outside the rules, VE_ERR_QUORUM, VE_ERR_BAD_SIG); the
 * block is still valid.
 *
 * State (one key):
 *   "upgrade/meta"  u8 version (1) | uvarint decisions | uvarint active |
 *                   uvarint pending_protocol | uvarint pending_from
 *                   (pending_from 0: nothing pending, pending_protocol 0).
 *   Absent: decisions 0, active 1, nothing pending (every chain before this
 *   app, so they replay identically). A genesis naming protocol P >= 2
 *   (genesis version 2) writes decisions 0, active P at genesis. The
 *   protocol governing height H (for any H above the last applied block) is
 *   pending_protocol if pending_from != 0 and H >= pending_from, else active:
 *   a pending upgrade takes effect at its height without a write; the next
 *   decision settles it.
 *
 * Payload (strict: trailing bytes, unknown version, zero approvals, unsorted
 * or repeated indices are refused):
 *   u8 version (1) | uvarint P | uvarint A |
 *   uvarint n (1..VE_VALIDATORS_MAX) | n × (uvarint index | fixed64 signature)
 *
 * Deterministic: execution reads and writes state only through ledger_state_*.
 * The chain's registry must also run valset_app (the approving set).
 */
#ifndef VECHE_APPS_UPGRADE_H
#define VECHE_APPS_UPGRADE_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/valset/valset.h"
#include "codec/codec.h"
#include "consensus/consensus.h"
#include "ledger/ledger.h"
#include "store/store.h"

#define TX_TYPE_PROTOCOL_UPGRADE 0x0020
#define UPGRADE_TAG_APPROVAL "veche/upgrade/approval"
#define UPGRADE_META_KEY "upgrade/meta"

/* A decision in block h takes effect at h + 2 at the earliest: the node that
 * commits h learns the protocol of h + 1 and h + 2 before it votes on them. */
#define UPGRADE_DELAY_MIN 2
#define UPGRADE_HEIGHT_MAX ((UINT64_C(1) << 40) - 1)
#define UPGRADE_PROTOCOL_MAX UINT32_MAX
#define UPGRADE_APPROVAL_MSG_BYTES_MAX (1 + VE_CHAIN_ID_BYTES_MAX + 3 * 8 + VCRYPTO_HASH_BYTES)
#define UPGRADE_META_BYTES_MAX (1 + 4 * CODEC_UVARINT_BYTES_MAX)
#define UPGRADE_PAYLOAD_BYTES_MAX \
  (1 + 2 * CODEC_UVARINT_BYTES_MAX + 3 + VE_VALIDATORS_MAX * (3 + VCRYPTO_SIG_BYTES))

typedef struct {
  uint64_t decisions;        /* decisions applied so far */
  uint64_t active;           /* protocol in force before pending_from */
  uint64_t pending_protocol; /* 0 when nothing is pending */
  uint64_t pending_from;     /* 0 when nothing is pending */
} upgrade_meta_t;

typedef struct {
  uint64_t protocol; /* P */
  uint64_t from;     /* A */
  uint32_t n_approvals;
  valset_approval_t approvals[VE_VALIDATORS_MAX]; /* index into the approving set, signature */
} upgrade_decision_t;

extern const ledger_app_t upgrade_app;

/* ---- encodings ---- */

int upgrade_meta_encode(ve_buf_t *out, const upgrade_meta_t *m);
int upgrade_meta_decode(ve_slice_t in, upgrade_meta_t *out);
/* Payload of a PROTOCOL_UPGRADE tx (approvals sorted by index, 1 or more). */
int upgrade_decision_encode(ve_buf_t *out, const upgrade_decision_t *d);
int upgrade_decision_decode(ve_slice_t payload, upgrade_decision_t *out);

/* ---- approvals (client side; execution checks the same) ---- */

/* The message an approval signs (see the top); out must hold
 * UPGRADE_APPROVAL_MSG_BYTES_MAX bytes. Returns its length. */
size_t upgrade_approval_msg(uint8_t *out, const char *chain_id, uint64_t decision, uint64_t protocol, uint64_t from,
                            const uint8_t set_hash[VCRYPTO_HASH_BYTES]);
void upgrade_approval_sign(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp, const char *chain_id,
                           uint64_t decision, uint64_t protocol, uint64_t from, const cons_valset_t *set);

/* ---- reading ---- */

/* The meta as committed in t (absent: decisions 0, active 1, nothing pending). */
int upgrade_meta_get(store_txn_t *t, upgrade_meta_t *out);
/* The protocol governing `height` (any height above the last applied block;
 * for lower heights, the answer is right unless a later decision settled or
 * replaced what governed them). */
uint64_t upgrade_protocol_at(const upgrade_meta_t *m, uint64_t height);
/* During execution: the protocol governing the executing block's height, for
 * apps whose rules differ between versions. */
int upgrade_protocol_exec(ledger_exec_t *ex, uint64_t *protocol);

#endif
