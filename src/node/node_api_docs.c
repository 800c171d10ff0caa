/* node_api_docs.c — HTTP endpoints for documents and their encrypted blobs (docs/documents.md).
 * The table is concatenated with the others by node_routes_collect. */
#include "node/node_int.h"

/* No routes yet; the first entry only gives the array a size. */
const api_route_t node_doc_routes[] = {{0}};
const size_t node_doc_routes_n = 0;
