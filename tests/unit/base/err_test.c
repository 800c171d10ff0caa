/* err_test.c — the shared error table: every code in VE_ERR_LIST has a unique,
 * non-empty snake_case name and a unique, non-empty text, codes are unique and
 * contiguous down to VE_ERR_MIN, and unknown codes still map to a string. Names
 * travel in JSON error bodies and codes in persisted results, so a duplicate or
 * a renumbering must fail here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"

typedef struct {
  int code;
  const char *sym;
  const char *name;
  const char *text;
} err_row_t;

static const err_row_t ERR_ROWS[] = {
#define ROW(sym, val, name, text) {val, #sym, name, text},
    VE_ERR_LIST(ROW)
#undef ROW
};
#define ERR_ROWS_N (sizeof ERR_ROWS / sizeof ERR_ROWS[0])

static bool is_snake_case(const char *s) {
  if (!*s || *s == '_') return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
  return true;
}

static void test_names_and_texts_non_empty(void **state) {
  (void)state;
  for (size_t i = 0; i < ERR_ROWS_N; i++) {
    const char *name = ve_err_name(ERR_ROWS[i].code);
    const char *text = ve_strerror(ERR_ROWS[i].code);
    assert_non_null(name);
    assert_non_null(text);
    assert_true(strlen(name) > 0);
    assert_true(strlen(text) > 0);
    assert_string_equal(name, ERR_ROWS[i].name);
    assert_string_equal(text, ERR_ROWS[i].text);
    if (!is_snake_case(name)) fail_msg("%s: name \"%s\" is not snake_case", ERR_ROWS[i].sym, name);
  }
}

static void test_names_texts_codes_unique(void **state) {
  (void)state;
  for (size_t i = 0; i < ERR_ROWS_N; i++) {
    for (size_t j = i + 1; j < ERR_ROWS_N; j++) {
      if (ERR_ROWS[i].code == ERR_ROWS[j].code)
        fail_msg("%s and %s share code %d", ERR_ROWS[i].sym, ERR_ROWS[j].sym, ERR_ROWS[i].code);
      if (strcmp(ve_err_name(ERR_ROWS[i].code), ve_err_name(ERR_ROWS[j].code)) == 0)
        fail_msg("%s and %s share a name", ERR_ROWS[i].sym, ERR_ROWS[j].sym);
      if (strcmp(ve_strerror(ERR_ROWS[i].code), ve_strerror(ERR_ROWS[j].code)) == 0)
        fail_msg("%s and %s share a text", ERR_ROWS[i].sym, ERR_ROWS[j].sym);
    }
  }
}

/* Codes are 0, -1, ..., VE_ERR_MIN with no gap, and VE_ERR_MIN is the last one. */
static void test_codes_contiguous(void **state) {
  (void)state;
  assert_int_equal(ERR_ROWS[0].code, VE_OK);
  assert_int_equal(VE_OK, 0);
  assert_int_equal(ERR_ROWS_N, (size_t)(1 - VE_ERR_MIN));
  for (size_t i = 0; i < ERR_ROWS_N; i++) assert_int_equal(ERR_ROWS[i].code, -(int)i);
}

static void test_unknown_codes(void **state) {
  (void)state;
  const int unknown[] = {1, 42, VE_ERR_MIN - 1, -1000, INT32_MIN};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    assert_string_equal(ve_err_name(unknown[i]), "unknown_error");
    assert_string_equal(ve_strerror(unknown[i]), "unknown error");
  }
  /* The fallback must not collide with a real name. */
  for (size_t i = 0; i < ERR_ROWS_N; i++) assert_string_not_equal(ERR_ROWS[i].name, "unknown_error");
}

static int try_helper(int rc, int *reached) {
  VE_TRY(rc);
  *reached = 1;
  return 7;
}

static void test_try_propagates(void **state) {
  (void)state;
  int reached = 0;
  assert_int_equal(try_helper(VE_ERR_MALFORMED, &reached), VE_ERR_MALFORMED);
  assert_int_equal(reached, 0);
  assert_int_equal(try_helper(VE_OK, &reached), 7);
  assert_int_equal(reached, 1);
  reached = 0;
  assert_int_equal(try_helper(3, &reached), 7); /* positive values are not errors */
  assert_int_equal(reached, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names_and_texts_non_empty),
      cmocka_unit_test(test_names_texts_codes_unique),
      cmocka_unit_test(test_codes_contiguous),
      cmocka_unit_test(test_unknown_codes),
      cmocka_unit_test(test_try_propagates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
