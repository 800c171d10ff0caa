/* node_api_polls.c — HTTP endpoints for polls, ballots, tallies (docs/voting.md).
 * The table is concatenated with the others by node_routes_collect. */
#include "node/node_int.h"

/* No routes yet; the first entry only gives the array a size. */
const api_route_t node_poll_routes[] = {{0}};
const size_t node_poll_routes_n = 0;
