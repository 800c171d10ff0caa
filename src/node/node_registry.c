/* node_registry.c — the applications this node runs, in dispatch order.
 *
 * Every node of a chain must run the same registry: a transaction type unknown
 * to one node and known to another would fork them. Adding an app is therefore
 * a protocol change (docs/architecture.md). */
#include "apps/documents/documents.h"
#include "apps/evidence/evidence.h"
#include "apps/gov/gov.h"
#include "apps/identity/identity.h"
#include "apps/pharma/pharma.h"
#include "apps/property/property.h"
#include "apps/upgrade/upgrade.h"
#include "apps/valset/valset.h"
#include "apps/voting/voting.h"
#include "node/node.h"

/* The protocol hook tells the ledger which rules govern each block (from
 * protocol 2, admin actions run only through gov_app's council decisions). */
static const ledger_registry_t REGISTRY = {
    &identity_auth,
    {&valset_app, &evidence_app, &identity_app, &documents_app, &voting_app, &upgrade_app, &property_app,
     &pharma_app, &gov_app},
    9,
    upgrade_protocol_exec,
};

const ledger_registry_t *node_registry(void) { return &REGISTRY; }
