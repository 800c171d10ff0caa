/* router.h — private to src/api: route table validation and path matching.
 *
 * Patterns are compiled once at server start into segment lists that borrow
 * the caller's pattern strings. Matching works on a request path that the
 * caller has already split into percent-decoded segments.
 */
#ifndef VECHE_API_ROUTER_H
#define VECHE_API_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"

#define API_METHOD_BYTES_MAX 16

typedef struct {
  const char *ptr; /* into the route's pattern; not NUL-terminated */
  size_t len;
  bool param;      /* ":name" segment; ptr/len is the name without ':' */
} api_seg_t;

typedef struct {
  const api_route_t *route;
  size_t n_segs;
  api_seg_t segs[API_PATH_SEGMENTS_MAX];
  size_t body_bytes_max; /* effective limit (0: no body accepted) */
} api_route_compiled_t;

/* Validates and compiles routes[n] into out[n]. Returns 0 or VE_ERR_CONFIG
 * (logged with the offending route). */
int api_router_compile(const api_route_t *routes, size_t n, api_route_compiled_t *out);

/* Splits raw request path (starting with '/', no query) into percent-decoded
 * segments written into buf (buf_len >= strlen(path) + 1), pointers in segs.
 * "/" has zero segments. Returns 0, VE_ERR_MALFORMED (bad escape, a control
 * byte or %00) or VE_ERR_NOT_FOUND (an empty segment, or more than
 * API_PATH_SEGMENTS_MAX segments: no route can match). */
int api_path_split(const char *path, char *buf, size_t buf_len,
                   const char *segs[API_PATH_SEGMENTS_MAX], size_t *n_segs);

/* Result of routing one request. */
typedef enum { API_MATCH_OK, API_MATCH_NO_PATH, API_MATCH_NO_METHOD } api_match_t;

/* Finds the best route for method + segments. HEAD matches GET routes. On
 * API_MATCH_NO_METHOD, allow receives "GET, POST"-style text of the methods
 * that would match the path. */
api_match_t api_router_match(const api_route_compiled_t *routes, size_t n, const char *method,
                             const char *const *segs, size_t n_segs,
                             const api_route_compiled_t **out, char *allow, size_t allow_len);

#endif
