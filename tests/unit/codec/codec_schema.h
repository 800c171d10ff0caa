/* codec_schema.h — a tiny interpreted schema language over the codec primitives,
 * shared by the codec property test and the codec fuzz harness.
 *
 * A schema is a byte string; each byte (mod 9) names an op, and some ops take
 * the next byte as an argument:
 *   0 u8          1 uvarint      2 uvarint_max <max>   3 bool
 *   4 fixed <n>   (n = arg % 33) 5 bytes <max>         6 list <max> ... end
 *   7 nest ... end               8 end
 * A list is a uvarint count (codec_get_count, with item_bytes_min computed from
 * the item schema, as a real decoder does) followed by that many items; every
 * list item and every nest is one nesting level (codec_enter/leave). Parsing
 * never fails: an unmatched end is dropped, unclosed lists/nests are closed at
 * the end, openings past SCHEMA_NEST_MAX are dropped.
 *
 * The same walker decodes (codec reader -> values), encodes (values -> codec
 * writer) and generates random values, without recursion. A walk that would
 * exceed SCHEMA_VALUES_MAX values or SCHEMA_STEPS_MAX steps stops with
 * SCHEMA_BUDGET (a positive number, never a codec error): the schema, not the
 * codec, was too costly.
 */
#ifndef VECHE_TESTS_CODEC_SCHEMA_H
#define VECHE_TESTS_CODEC_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

#define SCHEMA_OPS_MAX 64
#define SCHEMA_NEST_MAX 12 /* more than VE_CODEC_DEPTH_MAX, so VE_ERR_DEPTH is reachable */
#define SCHEMA_VALUES_MAX 4096
#define SCHEMA_STEPS_MAX 65536
#define SCHEMA_BUDGET 1

enum schema_kind {
  SCHEMA_U8 = 0,
  SCHEMA_UVARINT = 1,
  SCHEMA_UVARINT_MAX = 2,
  SCHEMA_BOOL = 3,
  SCHEMA_FIXED = 4,
  SCHEMA_BYTES = 5,
  SCHEMA_LIST = 6,
  SCHEMA_NEST = 7,
  SCHEMA_END = 8,
  SCHEMA_KINDS = 9,
};

typedef struct {
  uint8_t kind;
  uint8_t arg;        /* max for uvarint_max/bytes/list, length for fixed */
  uint16_t match;     /* list/nest: index of its end; end: index of its opening */
  size_t body_min;    /* list/nest: fewest bytes the body can encode to */
} schema_op_t;

typedef struct {
  schema_op_t ops[SCHEMA_OPS_MAX];
  size_t n;
  unsigned nest_max; /* deepest nesting the schema can reach */
} schema_t;

typedef struct {
  uint8_t kind;
  uint64_t u;  /* u8, uvarint, bool, list count */
  size_t off;  /* fixed/bytes: offset of the content in the arena */
  size_t len;
} schema_value_t;

typedef struct {
  schema_value_t v[SCHEMA_VALUES_MAX];
  size_t n;
  uint8_t arena[SCHEMA_STEPS_MAX * 2]; /* contents of fixed/bytes fields */
  size_t arena_len;
} schema_values_t;

/* Parses len bytes of schema text (see above). Never fails. */
void schema_parse(schema_t *s, const uint8_t *p, size_t len);

/* Decodes in with s. Returns 0, a VE_ERR_* from the codec reader (including
 * VE_ERR_TRAILING) or SCHEMA_BUDGET. */
int schema_decode(const schema_t *s, ve_slice_t in, schema_values_t *out);

/* Encodes vals (as produced by schema_decode or schema_generate for s) into
 * buf. Returns 0, a codec writer error, or SCHEMA_BUDGET. */
int schema_encode(const schema_t *s, const schema_values_t *vals, ve_buf_t *buf);

/* Random values for s. rng returns 64 random bits; list counts stay ≤ 4 and
 * byte strings ≤ 40 so a walk stays small. Returns 0 or SCHEMA_BUDGET. */
int schema_generate(const schema_t *s, uint64_t (*rng)(void), schema_values_t *out);

bool schema_values_eq(const schema_values_t *a, const schema_values_t *b);

/* A random schema text of at most cap bytes whose nesting stays ≤ depth_max.
 * Returns its length. */
size_t schema_random_text(uint8_t *out, size_t cap, unsigned depth_max, uint64_t (*rng)(void));

#endif
