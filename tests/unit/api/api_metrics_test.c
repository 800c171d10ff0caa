/* api_metrics_test.c — the metrics registry: registration rules, updates from
 * several threads, and the Prometheus text rendering, checked by parsing it
 * back line by line. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "base/err.h"

/* ================================================================ a tiny parser */

/* One parsed exposition: HELP/TYPE per family and every sample. */
typedef struct {
  char name[128];
  char labels[320];
  double value;
} sample_t;

typedef struct {
  size_t n_samples;
  sample_t samples[256];
  size_t n_types;
  char type_names[64][128];
  char type_kinds[64][16];
  char help_names[64][128];
  size_t n_helps;
} expo_t;

/* Parses text strictly enough that a format slip fails the test. */
static void expo_parse(const char *text, size_t len, expo_t *e) {
  memset(e, 0, sizeof *e);
  assert_true(len > 0 && text[len - 1] == '\n');
  const char *line = text, *end = text + len;
  while (line < end) {
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    assert_non_null(eol);
    char buf[1024];
    size_t n = (size_t)(eol - line);
    assert_true(n > 0 && n < sizeof buf);
    memcpy(buf, line, n);
    buf[n] = 0;
    if (strncmp(buf, "# HELP ", 7) == 0) {
      assert_true(e->n_helps < 64);
      assert_int_equal(sscanf(buf + 7, "%127s", e->help_names[e->n_helps]), 1);
      e->n_helps++;
    } else if (strncmp(buf, "# TYPE ", 7) == 0) {
      assert_true(e->n_types < 64);
      assert_int_equal(sscanf(buf + 7, "%127s %15s", e->type_names[e->n_types],
                              e->type_kinds[e->n_types]), 2);
      /* TYPE directly follows the HELP of the same family. */
      assert_string_equal(e->type_names[e->n_types], e->help_names[e->n_helps - 1]);
      e->n_types++;
    } else {
      assert_true(buf[0] != '#');
      sample_t *s = &e->samples[e->n_samples++];
      assert_true(e->n_samples <= 256);
      char *brace = strchr(buf, '{'), *sp;
      if (brace) {
        char *close = strstr(brace, "} ");
        assert_non_null(close);
        *brace = 0;
        *close = 0;
        snprintf(s->labels, sizeof s->labels, "%.319s", brace + 1);
        sp = close + 1;
      } else {
        sp = strchr(buf, ' ');
        assert_non_null(sp);
        *sp = 0;
      }
      snprintf(s->name, sizeof s->name, "%.127s", buf);
      char *num_end;
      const char *num = sp + 1;
      if (strcmp(num, "+Inf") == 0)
        s->value = INFINITY;
      else if (strcmp(num, "NaN") == 0)
        s->value = NAN;
      else {
        s->value = strtod(num, &num_end);
        assert_true(*num_end == 0 && num_end != num);
      }
    }
    line = eol + 1;
  }
}

static const sample_t *find(const expo_t *e, const char *name, const char *labels) {
  for (size_t i = 0; i < e->n_samples; i++) {
    if (strcmp(e->samples[i].name, name) == 0 && strcmp(e->samples[i].labels, labels) == 0)
      return &e->samples[i];
  }
  return NULL;
}

static double value_of(const expo_t *e, const char *name, const char *labels) {
  const sample_t *s = find(e, name, labels);
  if (!s) fail_msg("no sample %s{%s}", name, labels);
  return s->value;
}

static void render(api_metrics_t *m, expo_t *e) {
  ve_buf_t b;
  ve_buf_init(&b, 1 << 20);
  assert_int_equal(api_metrics_render(m, &b), 0);
  expo_parse((const char *)b.ptr, b.len, e);
  ve_buf_free(&b);
}

/* ================================================================ tests */

static void test_counter_gauge(void **state) {
  api_metrics_t *m;
  assert_int_equal(api_metrics_new(&m), 0);
  api_metric_t *c, *g, *c2, *again;
  assert_int_equal(api_metrics_counter(m, "veche_tx_total", NULL, "Transactions", &c), 0);
  assert_int_equal(api_metrics_gauge(m, "veche_height", "", "Chain height", &g), 0);
  assert_int_equal(api_metrics_counter(m, "veche_rej_total", "reason=\"bad_sig\",app=\"id\"",
                                       "Rejected", &c2), 0);
  /* Idempotent: same name+labels+kind gives the same handle. */
  assert_int_equal(api_metrics_counter(m, "veche_tx_total", NULL, "other help", &again), 0);
  assert_ptr_equal(again, c);

  api_metric_add(c, 5);
  api_metric_inc(c);
  api_metric_set(g, 1234);
  api_metric_add(g, 6);
  api_metric_sub(g, 40);
  api_metric_inc(c2);
  assert_true(api_metric_value(c) == 6);
  assert_true(api_metric_value(g) == 1200);

  expo_t e;
  render(m, &e);
  assert_int_equal(e.n_types, 3);
  assert_string_equal(e.type_kinds[0], "counter");
  assert_string_equal(e.type_kinds[1], "gauge");
  assert_true(value_of(&e, "veche_tx_total", "") == 6);
  assert_true(value_of(&e, "veche_height", "") == 1200);
  assert_true(value_of(&e, "veche_rej_total", "reason=\"bad_sig\",app=\"id\"") == 1);

  /* A gauge holds fractions and negatives. */
  api_metric_set(g, -0.25);
  render(m, &e);
  assert_true(value_of(&e, "veche_height", "") == -0.25);
  api_metrics_free(m);
}

static void test_families_share_help(void **state) {
  api_metrics_t *m;
  assert_int_equal(api_metrics_new(&m), 0);
  api_metric_t *a, *b, *x;
  assert_int_equal(api_metrics_counter(m, "req_total", "class=\"2xx\"", "Requests", &a), 0);
  assert_int_equal(api_metrics_gauge(m, "other", NULL, "Other", &x), 0);
  assert_int_equal(api_metrics_counter(m, "req_total", "class=\"4xx\"", "Requests", &b), 0);
  assert_ptr_not_equal(a, b);
  api_metric_add(a, 3);
  api_metric_add(b, 4);
  ve_buf_t buf;
  ve_buf_init(&buf, 1 << 16);
  assert_int_equal(api_metrics_render(m, &buf), 0);
  const char *want =
      "# HELP req_total Requests\n"
      "# TYPE req_total counter\n"
      "req_total{class=\"2xx\"} 3\n"
      "req_total{class=\"4xx\"} 4\n"
      "# HELP other Other\n"
      "# TYPE other gauge\n"
      "other 0\n";
  assert_int_equal(buf.len, strlen(want));
  assert_memory_equal(buf.ptr, want, buf.len);
  ve_buf_free(&buf);
  api_metrics_free(m);
}

static void test_histogram(void **state) {
  api_metrics_t *m;
  assert_int_equal(api_metrics_new(&m), 0);
  const double bounds[] = {0.001, 0.01, 0.1, 1};
  api_metric_t *h, *again;
  assert_int_equal(api_metrics_histogram(m, "lat_seconds", "route=\"tx\"", "Latency", bounds, 4,
                                         &h), 0);
  assert_int_equal(api_metrics_histogram(m, "lat_seconds", "route=\"tx\"", "Latency", bounds, 4,
                                         &again), 0);
  assert_ptr_equal(h, again);
  /* Different bounds for the same metric are refused. */
  assert_int_equal(api_metrics_histogram(m, "lat_seconds", "route=\"tx\"", "Latency", bounds, 3,
                                         &again), VE_ERR_EXISTS);
  const double obs[] = {0.0005, 0.001, 0.005, 0.05, 0.5, 5, 50, NAN};
  for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++) api_metric_observe(h, obs[i]);
  assert_true(api_metric_value(h) == 7); /* NaN ignored */

  expo_t e;
  render(m, &e);
  assert_string_equal(e.type_kinds[0], "histogram");
  /* le is inclusive: 0.001 falls into the 0.001 bucket. Buckets are cumulative. */
  assert_true(value_of(&e, "lat_seconds_bucket", "route=\"tx\",le=\"0.001\"") == 2);
  assert_true(value_of(&e, "lat_seconds_bucket", "route=\"tx\",le=\"0.01\"") == 3);
  assert_true(value_of(&e, "lat_seconds_bucket", "route=\"tx\",le=\"0.1\"") == 4);
  assert_true(value_of(&e, "lat_seconds_bucket", "route=\"tx\",le=\"1\"") == 5);
  assert_true(value_of(&e, "lat_seconds_bucket", "route=\"tx\",le=\"+Inf\"") == 7);
  assert_true(value_of(&e, "lat_seconds_count", "route=\"tx\"") == 7);
  assert_true(fabs(value_of(&e, "lat_seconds_sum", "route=\"tx\"") - 55.5565) < 1e-9);

  /* Without labels, le is the only label. */
  api_metric_t *h2;
  assert_int_equal(api_metrics_histogram(m, "plain", NULL, "", bounds, 1, &h2), 0);
  api_metric_observe(h2, 0.0001);
  render(m, &e);
  assert_true(value_of(&e, "plain_bucket", "le=\"0.001\"") == 1);
  assert_true(value_of(&e, "plain_count", "") == 1);
  api_metrics_free(m);
}

static void test_registration_errors(void **state) {
  api_metrics_t *m;
  assert_int_equal(api_metrics_new(&m), 0);
  api_metric_t *x;
  const char *bad_names[] = {"", "9lives", "has space", "dash-ed", "é"};
  for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
    assert_int_equal(api_metrics_counter(m, bad_names[i], NULL, "", &x), VE_ERR_INVALID);
  char long_name[API_METRIC_NAME_BYTES_MAX + 2];
  memset(long_name, 'a', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = 0;
  assert_int_equal(api_metrics_counter(m, long_name, NULL, "", &x), VE_ERR_INVALID);
  const char *bad_labels[] = {"a", "a=", "a=\"x", "a=\"x\",", "=\"x\"", "a=\"x\"b=\"y\"",
                              "a=\"x\\\"y\"", "a=\"x\ny\"", "1a=\"x\"", "a=x"};
  for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++)
    assert_int_equal(api_metrics_counter(m, "ok_name", bad_labels[i], "", &x), VE_ERR_INVALID);
  assert_int_equal(api_metrics_counter(m, "ok_name", NULL, "two\nlines", &x), VE_ERR_INVALID);

  const double inc[] = {1, 2}, dec[] = {2, 1}, inf[] = {1, INFINITY};
  assert_int_equal(api_metrics_histogram(m, "h", NULL, "", dec, 2, &x), VE_ERR_INVALID);
  assert_int_equal(api_metrics_histogram(m, "h", NULL, "", inf, 2, &x), VE_ERR_INVALID);
  assert_int_equal(api_metrics_histogram(m, "h", "le=\"1\"", "", inc, 2, &x), VE_ERR_INVALID);
  assert_int_equal(api_metrics_histogram(m, "h", NULL, "", inc, API_METRIC_BUCKETS_MAX + 1, &x),
                   VE_ERR_INVALID);

  /* One name, one kind. */
  assert_int_equal(api_metrics_counter(m, "k", NULL, "", &x), 0);
  assert_int_equal(api_metrics_gauge(m, "k", NULL, "", &x), VE_ERR_EXISTS);
  assert_int_equal(api_metrics_gauge(m, "k", "a=\"b\"", "", &x), VE_ERR_EXISTS);

  /* The registry is bounded. */
  int rc = 0;
  size_t made = 1;
  for (int i = 0; rc == 0 && i < API_METRICS_MAX + 10; i++) {
    char name[32];
    snprintf(name, sizeof name, "m%d", i);
    rc = api_metrics_gauge(m, name, NULL, "", &x);
    if (rc == 0) made++;
  }
  assert_int_equal(rc, VE_ERR_LIMIT);
  assert_int_equal(made, API_METRICS_MAX);
  /* Rendering the full registry fits its own bound and fails cleanly on a small one. */
  ve_buf_t b;
  ve_buf_init(&b, 64);
  assert_int_equal(api_metrics_render(m, &b), VE_ERR_TOO_BIG);
  ve_buf_free(&b);
  api_metrics_free(m);
}

static void test_help_escaping(void **state) {
  api_metrics_t *m;
  assert_int_equal(api_metrics_new(&m), 0);
  api_metric_t *x;
  assert_int_equal(api_metrics_gauge(m, "g", NULL, "path C:\\veche", &x), 0);
  ve_buf_t b;
  ve_buf_init(&b, 4096);
  assert_int_equal(api_metrics_render(m, &b), 0);
  assert_int_equal(ve_buf_append(&b, "", 1), 0);
  assert_non_null(strstr((const char *)b.ptr, "# HELP g path C:\\\\veche\n"));
  ve_buf_free(&b);
  api_metrics_free(m);
}

/* ================================================================ threads */

typedef struct {
  api_metric_t *c, *g, *h;
  int n;
} hammer_t;

static void *hammer_main(void *arg) {
  hammer_t *t = arg;
  for (int i = 0; i < t->n; i++) {
    api_metric_inc(t->c);
    api_metric_add(t->g, 2);
    api_metric_sub(t->g, 1);
    api_metric_observe(t->h, (double)(i % 4));
  }
  return NULL;
}

static void test_threads(void **state) {
  api_metrics_t *m;
  assert_int_equal(api_metrics_new(&m), 0);
  const double bounds[] = {0.5, 1.5, 2.5};
  hammer_t t = {.n = 20000};
  assert_int_equal(api_metrics_counter(m, "c_total", NULL, "", &t.c), 0);
  assert_int_equal(api_metrics_gauge(m, "g", NULL, "", &t.g), 0);
  assert_int_equal(api_metrics_histogram(m, "h", NULL, "", bounds, 3, &t.h), 0);
  enum { THREADS = 4 };
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &t), 0);
  /* Render while they run: every rendering must parse and stay consistent. */
  for (int k = 0; k < 20; k++) {
    expo_t e;
    render(m, &e);
    double prev = 0;
    const char *les[] = {"le=\"0.5\"", "le=\"1.5\"", "le=\"2.5\"", "le=\"+Inf\""};
    for (int i = 0; i < 4; i++) {
      double v = value_of(&e, "h_bucket", les[i]);
      assert_true(v >= prev);
      prev = v;
    }
    assert_true(value_of(&e, "h_count", "") == prev);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  double total = (double)THREADS * t.n;
  assert_true(api_metric_value(t.c) == total);
  assert_true(api_metric_value(t.g) == total);
  assert_true(api_metric_value(t.h) == total);
  expo_t e;
  render(m, &e);
  assert_true(value_of(&e, "h_bucket", "le=\"0.5\"") == total / 4);
  assert_true(value_of(&e, "h_sum", "") == (double)THREADS * (t.n / 4) * 6);
  api_metrics_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counter_gauge),     cmocka_unit_test(test_families_share_help),
      cmocka_unit_test(test_histogram),         cmocka_unit_test(test_registration_errors),
      cmocka_unit_test(test_help_escaping),     cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
