/* err.c — names and texts for the shared error codes. */
#include "base/err.h"

const char *ve_err_name(int err) {
  switch (err) {
#define VE_ERR_CASE(sym, val, name, text) \
  case sym:                               \
    return name;
    VE_ERR_LIST(VE_ERR_CASE)
#undef VE_ERR_CASE
  }
  return "unknown_error";
}

const char *ve_strerror(int err) {
  switch (err) {
#define VE_ERR_CASE(sym, val, name, text) \
  case sym:                               \
    return text;
    VE_ERR_LIST(VE_ERR_CASE)
#undef VE_ERR_CASE
  }
  return "unknown error";
}

_Noreturn void ve_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "veche: assertion failed: %s (%s:%d)\n", expr, file, line);
  fflush(stderr);
  abort();
}
