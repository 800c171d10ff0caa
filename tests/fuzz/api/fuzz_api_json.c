/* fuzz_api_json.c — the HTTP API's request body parser on arbitrary bytes.
 *
 * api_json_parse is the first thing a client's body meets. Whatever the bytes,
 * it refuses them with VE_ERR_TOO_BIG / VE_ERR_DEPTH / VE_ERR_MALFORMED and an
 * error message, or returns an object or array that nests at most
 * API_JSON_DEPTH_MAX deep (measured here by an explicit stack walk, not by
 * recursion); and the non-recursive depth scan agrees with the parser: text it
 * refuses is refused, text the parser accepts passes it. Accepted documents are
 * also dumped and parsed again (the server echoes parsed values in replies).
 * No clock, no randomness, nothing kept between runs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Depth of root's nesting (1 for a flat object or array), by an explicit
 * depth-first walk: every container takes at least 2 bytes of the text, so
 * text_len / 2 + 1 stack entries always suffice. */
typedef struct {
  json_t *v;
  size_t depth;
} frame_t;

static size_t json_depth(json_t *root, size_t text_len) {
  size_t cap = text_len / 2 + 1, top = 0, deepest = 0;
  frame_t *stack = malloc(cap * sizeof *stack);
  VE_ASSERT(stack);
  stack[top++] = (frame_t){root, 1};
  while (top) {
    frame_t f = stack[--top];
    if (f.depth > deepest) deepest = f.depth;
    json_t *c;
    if (json_is_array(f.v)) {
      for (size_t i = 0; i < json_array_size(f.v); i++) {
        c = json_array_get(f.v, i);
        if (!json_is_object(c) && !json_is_array(c)) continue;
        VE_ASSERT(top < cap);
        stack[top++] = (frame_t){c, f.depth + 1};
      }
    } else {
      const char *key;
      json_object_foreach(f.v, key, c) {
        if (!json_is_object(c) && !json_is_array(c)) continue;
        VE_ASSERT(top < cap);
        stack[top++] = (frame_t){c, f.depth + 1};
      }
    }
  }
  free(stack);
  return deepest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *j = (json_t *)1;
  char msg[160];
  memset(msg, 0x55, sizeof msg);
  int rc = api_json_parse(data, size, &j, msg, sizeof msg);
  int scan = api_json_depth_check(data, size, API_JSON_DEPTH_MAX);
  VE_ASSERT(scan == VE_OK || scan == VE_ERR_DEPTH);
  if (rc != VE_OK) {
    VE_ASSERT(rc == VE_ERR_TOO_BIG || rc == VE_ERR_DEPTH || rc == VE_ERR_MALFORMED);
    VE_ASSERT(j == NULL);
    VE_ASSERT(memchr(msg, 0, sizeof msg) != NULL && msg[0] != 0); /* a message, terminated */
    if (scan == VE_ERR_DEPTH && size <= API_BODY_BYTES_MAX) VE_ASSERT(rc == VE_ERR_DEPTH);
    return 0;
  }
  VE_ASSERT(scan == VE_OK && size <= API_BODY_BYTES_MAX);
  VE_ASSERT(j && (json_is_object(j) || json_is_array(j)));
  VE_ASSERT(json_depth(j, size) <= API_JSON_DEPTH_MAX);

  /* Round trip: what the server would echo parses again to an equal value. */
  char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
  VE_ASSERT(text);
  json_t *again = NULL;
  rc = api_json_parse(text, strlen(text), &again, NULL, 0);
  /* Dumping may escape characters, so the text can grow past the limit, but
   * never nests deeper. */
  if (rc == VE_OK) {
    VE_ASSERT(json_equal(j, again));
    json_decref(again);
  } else {
    VE_ASSERT(rc == VE_ERR_TOO_BIG);
  }
  free(text);
  json_decref(j);
  return 0;
}
