/* json.c — bounded JSON parsing for request bodies.
 *
 * jansson's parser recurses once per nesting level, so a hostile body of a
 * few megabytes of '[' could exhaust the stack of a server thread. Before
 * jansson ever sees the bytes, a flat loop measures the nesting depth, keeping
 * track of strings and their escapes so brackets inside strings don't count.
 */
#include "api/api.h"

#include <stdio.h>

#include "base/err.h"

int api_json_depth_check(const void *text, size_t len, size_t depth_max) {
  const uint8_t *p = text;
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = p[i];
    if (in_string) {
      if (c == '\\')
        i++; /* the escaped byte can't end the string */
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > depth_max) return VE_ERR_DEPTH;
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return VE_OK;
}

int api_json_parse(const void *text, size_t len, json_t **out, char *err_msg,
                   size_t err_msg_len) {
  VE_ASSERT(out && (text || len == 0));
  *out = NULL;
  if (err_msg_len) err_msg[0] = 0;
  if (len > API_BODY_BYTES_MAX) {
    if (err_msg_len) snprintf(err_msg, err_msg_len, "JSON text over %zu bytes", API_BODY_BYTES_MAX);
    return VE_ERR_TOO_BIG;
  }
  if (api_json_depth_check(text, len, API_JSON_DEPTH_MAX) < 0) {
    if (err_msg_len)
      snprintf(err_msg, err_msg_len, "arrays/objects nest deeper than %d", API_JSON_DEPTH_MAX);
    return VE_ERR_DEPTH;
  }
  json_error_t jerr;
  json_t *j = json_loadb(len ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
  if (!j) {
    if (err_msg_len) snprintf(err_msg, err_msg_len, "%d:%d: %s", jerr.line, jerr.column, jerr.text);
    return VE_ERR_MALFORMED;
  }
  if (!json_is_object(j) && !json_is_array(j)) { /* jansson already refuses; keep it so */
    json_decref(j);
    if (err_msg_len) snprintf(err_msg, err_msg_len, "1:1: top level must be an object or array");
    return VE_ERR_MALFORMED;
  }
  *out = j;
  return VE_OK;
}
