/* router.c — validates route tables and matches request paths against them.
 *
 * A route table is written by the node, so a bad one is a configuration error
 * reported at start, never at request time. Request paths come from clients:
 * they are split without recursion into at most API_PATH_SEGMENTS_MAX
 * segments, percent-decoded, and refused if they decode to NUL or control bytes.
 */
#include "api/router.h"

#include <string.h>

#include "base/err.h"
#include "base/log.h"

#define MOD "api"

/* ---------------------------------------------------------------- compile */

static bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_literal_char(char c) {
  return is_name_char(c) || c == '-' || c == '.' || c == '~';
}

static bool method_valid(const char *m) {
  size_t len = m ? strnlen(m, API_METHOD_BYTES_MAX + 1) : 0;
  if (len == 0 || len > API_METHOD_BYTES_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    if (m[i] < 'A' || m[i] > 'Z') return false;
  }
  return true;
}

static bool method_has_body(const char *m) {
  return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
}

/* Splits a pattern into segments; checks characters and param names. */
static int pattern_compile(const char *pattern, api_route_compiled_t *c) {
  size_t len = pattern ? strnlen(pattern, API_URL_BYTES_MAX + 1) : 0;
  if (len == 0 || len > API_URL_BYTES_MAX || pattern[0] != '/') return VE_ERR_CONFIG;
  c->n_segs = 0;
  if (len == 1) return VE_OK; /* "/" */
  size_t n_params = 0;
  size_t i = 1;
  while (i <= len) {
    size_t start = i;
    while (i < len && pattern[i] != '/') i++;
    if (i == start || c->n_segs >= API_PATH_SEGMENTS_MAX) return VE_ERR_CONFIG;
    api_seg_t *s = &c->segs[c->n_segs++];
    s->param = pattern[start] == ':';
    s->ptr = pattern + start + (s->param ? 1 : 0);
    s->len = i - start - (s->param ? 1 : 0);
    if (s->len == 0) return VE_ERR_CONFIG;
    for (size_t k = 0; k < s->len; k++) {
      if (!(s->param ? is_name_char(s->ptr[k]) : is_literal_char(s->ptr[k]))) return VE_ERR_CONFIG;
    }
    if (s->param) {
      if (++n_params > API_PATH_PARAMS_MAX) return VE_ERR_CONFIG;
      for (size_t k = 0; k + 1 < c->n_segs; k++) {
        const api_seg_t *o = &c->segs[k];
        if (o->param && o->len == s->len && memcmp(o->ptr, s->ptr, s->len) == 0)
          return VE_ERR_CONFIG; /* same :name twice */
      }
    }
    i++; /* skip '/' (or step past the end) */
  }
  return VE_OK;
}

static bool same_shape(const api_route_compiled_t *a, const api_route_compiled_t *b) {
  if (strcmp(a->route->method, b->route->method) != 0 || a->n_segs != b->n_segs) return false;
  for (size_t i = 0; i < a->n_segs; i++) {
    const api_seg_t *x = &a->segs[i], *y = &b->segs[i];
    if (x->param != y->param) return false;
    if (!x->param && (x->len != y->len || memcmp(x->ptr, y->ptr, x->len) != 0)) return false;
  }
  return true;
}

static int route_compile(const api_route_t *r, api_route_compiled_t *c) {
  c->route = r;
  if (!method_valid(r->method) || !r->fn) return VE_ERR_CONFIG;
  if ((r->flags & ~API_ROUTE_JSON) != 0 || r->body_bytes_max > API_BODY_BYTES_MAX)
    return VE_ERR_CONFIG;
  VE_TRY(pattern_compile(r->pattern, c));
  c->body_bytes_max = r->body_bytes_max;
  if (c->body_bytes_max == 0 && method_has_body(r->method)) c->body_bytes_max = API_BODY_BYTES_MAX;
  /* A JSON route that can never receive a body is a mistake in the table. */
  if ((r->flags & API_ROUTE_JSON) && c->body_bytes_max == 0) return VE_ERR_CONFIG;
  return VE_OK;
}

int api_router_compile(const api_route_t *routes, size_t n, api_route_compiled_t *out) {
  if (n > API_ROUTES_MAX || (n > 0 && !routes)) {
    VE_ERROR(MOD, "route table: %zu routes (max %d)", n, API_ROUTES_MAX);
    return VE_ERR_CONFIG;
  }
  for (size_t i = 0; i < n; i++) {
    if (route_compile(&routes[i], &out[i]) < 0) {
      VE_ERROR(MOD, "route %zu (%s %s) is invalid", i, routes[i].method ? routes[i].method : "?",
               routes[i].pattern ? routes[i].pattern : "?");
      return VE_ERR_CONFIG;
    }
    for (size_t j = 0; j < i; j++) {
      if (same_shape(&out[i], &out[j])) {
        VE_ERROR(MOD, "route %zu (%s %s) duplicates route %zu", i, routes[i].method,
                 routes[i].pattern, j);
        return VE_ERR_CONFIG;
      }
    }
  }
  return VE_OK;
}

/* ---------------------------------------------------------------- paths */

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int api_path_split(const char *path, char *buf, size_t buf_len,
                   const char *segs[API_PATH_SEGMENTS_MAX], size_t *n_segs) {
  size_t len = strlen(path);
  VE_ASSERT(buf_len > len);
  *n_segs = 0;
  if (len == 0 || path[0] != '/') return VE_ERR_MALFORMED;
  if (len == 1) return VE_OK;
  size_t i = 1, o = 0;
  while (i <= len) {
    if (*n_segs >= API_PATH_SEGMENTS_MAX) return VE_ERR_NOT_FOUND;
    segs[(*n_segs)++] = buf + o;
    size_t seg_start = o;
    for (; i < len && path[i] != '/'; i++) {
      unsigned char c = (unsigned char)path[i];
      if (c == '%') {
        if (i + 2 >= len) return VE_ERR_MALFORMED;
        int hi = hex_digit(path[i + 1]), lo = hex_digit(path[i + 2]);
        if (hi < 0 || lo < 0) return VE_ERR_MALFORMED;
        c = (unsigned char)(hi << 4 | lo);
        i += 2;
      }
      if (c < 0x20 || c == 0x7f) return VE_ERR_MALFORMED;
      buf[o++] = (char)c;
    }
    if (o == seg_start) return VE_ERR_NOT_FOUND; /* "//" or trailing '/' */
    buf[o++] = 0;
    i++;
  }
  return VE_OK;
}

/* ---------------------------------------------------------------- match */

static bool route_matches(const api_route_compiled_t *c, const char *const *segs, size_t n) {
  if (c->n_segs != n) return false;
  for (size_t i = 0; i < n; i++) {
    const api_seg_t *s = &c->segs[i];
    if (s->param) continue;
    if (strlen(segs[i]) != s->len || memcmp(segs[i], s->ptr, s->len) != 0) return false;
  }
  return true;
}

/* True if a ranks above b: at the first position where one has a literal and
 * the other a parameter, the literal wins. */
static bool route_better(const api_route_compiled_t *a, const api_route_compiled_t *b) {
  for (size_t i = 0; i < a->n_segs; i++) {
    if (a->segs[i].param != b->segs[i].param) return !a->segs[i].param;
  }
  return false;
}

static void allow_add(char *allow, size_t allow_len, const char *method) {
  size_t used = strlen(allow);
  /* Skip duplicates: "GET" may appear for two patterns matching the path. */
  for (const char *p = allow; (p = strstr(p, method)) != NULL; p += strlen(method)) {
    bool start_ok = p == allow || p[-1] == ' ';
    char end = p[strlen(method)];
    if (start_ok && (end == 0 || end == ',')) return;
  }
  snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", method);
}

api_match_t api_router_match(const api_route_compiled_t *routes, size_t n, const char *method,
                             const char *const *segs, size_t n_segs,
                             const api_route_compiled_t **out, char *allow, size_t allow_len) {
  const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
  const api_route_compiled_t *best = NULL;
  bool path_seen = false;
  if (allow_len) allow[0] = 0;
  for (size_t i = 0; i < n; i++) {
    const api_route_compiled_t *c = &routes[i];
    if (!route_matches(c, segs, n_segs)) continue;
    path_seen = true;
    if (allow_len) allow_add(allow, allow_len, c->route->method);
    if (strcmp(c->route->method, want) != 0) continue;
    if (!best || route_better(c, best)) best = c;
  }
  *out = best;
  if (best) return API_MATCH_OK;
  return path_seen ? API_MATCH_NO_METHOD : API_MATCH_NO_PATH;
}
