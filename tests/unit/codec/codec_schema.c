/* codec_schema.c — the schema walker behind the codec property test and fuzz
 * harness. See codec_schema.h for the language. One loop walks a schema in
 * three modes (decode, encode, generate) with an explicit frame stack, so an
 * adversarial schema or input cannot recurse. */
#include "codec_schema.h"

#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

/* ---- parsing ---- */

static bool kind_has_arg(uint8_t kind) {
  return kind == SCHEMA_UVARINT_MAX || kind == SCHEMA_FIXED || kind == SCHEMA_BYTES ||
         kind == SCHEMA_LIST;
}

static size_t leaf_min_bytes(const schema_op_t *op) {
  return op->kind == SCHEMA_FIXED ? op->arg : 1;
}

/* body_min of every list/nest: the fewest bytes its body can encode to. */
static void compute_body_min(schema_t *s) {
  size_t acc[SCHEMA_NEST_MAX + 1] = {0};
  size_t top = 0; /* acc[0] is the root */
  for (size_t i = 0; i < s->n; i++) {
    schema_op_t *op = &s->ops[i];
    if (op->kind == SCHEMA_LIST || op->kind == SCHEMA_NEST) {
      VE_ASSERT(top < SCHEMA_NEST_MAX);
      acc[++top] = 0;
    } else if (op->kind == SCHEMA_END) {
      VE_ASSERT(top > 0);
      schema_op_t *open = &s->ops[op->match];
      open->body_min = acc[top--];
      acc[top] += open->kind == SCHEMA_LIST ? 1 : open->body_min; /* a list may be empty */
    } else {
      acc[top] += leaf_min_bytes(op);
    }
  }
  VE_ASSERT(top == 0);
}

void schema_parse(schema_t *s, const uint8_t *p, size_t len) {
  uint16_t open[SCHEMA_NEST_MAX];
  size_t nopen = 0, i = 0;
  memset(s, 0, sizeof *s);
  while (i < len) {
    schema_op_t op = {0};
    op.kind = p[i++] % SCHEMA_KINDS;
    if (kind_has_arg(op.kind)) op.arg = i < len ? p[i++] : 0;
    if (op.kind == SCHEMA_FIXED) op.arg %= 33;
    if (op.kind == SCHEMA_END) {
      if (nopen == 0) continue; /* unmatched: dropped */
      op.match = open[--nopen];
      s->ops[op.match].match = (uint16_t)s->n;
      s->ops[s->n++] = op;
      continue;
    }
    bool opens = op.kind == SCHEMA_LIST || op.kind == SCHEMA_NEST;
    /* Keep room for the ends of everything open (and of this op). */
    if (s->n + nopen + (opens ? 2 : 1) > SCHEMA_OPS_MAX) break;
    if (opens) {
      if (nopen == SCHEMA_NEST_MAX) continue;
      open[nopen++] = (uint16_t)s->n;
      if (nopen > s->nest_max) s->nest_max = (unsigned)nopen;
    }
    s->ops[s->n++] = op;
  }
  while (nopen) {
    schema_op_t end = {.kind = SCHEMA_END, .match = open[--nopen]};
    s->ops[end.match].match = (uint16_t)s->n;
    s->ops[s->n++] = end;
  }
  compute_body_min(s);
}

/* ---- walking ---- */

typedef enum { WALK_DECODE, WALK_ENCODE, WALK_GENERATE } walk_mode_t;

typedef struct {
  walk_mode_t mode;
  codec_reader_t *r;           /* decode */
  codec_writer_t *w;           /* encode */
  const schema_values_t *in;   /* encode: values to write */
  size_t cursor;               /* encode: next value */
  schema_values_t *out;        /* decode, generate: values found */
  uint64_t (*rng)(void);       /* generate */
} walk_t;

typedef struct {
  size_t body; /* first op of the body */
  uint64_t remaining;
} frame_t;

static int push_value(walk_t *k, uint8_t kind, uint64_t u, const uint8_t *p, size_t len) {
  schema_values_t *o = k->out;
  if (o->n == SCHEMA_VALUES_MAX || len > sizeof o->arena - o->arena_len) return SCHEMA_BUDGET;
  schema_value_t *v = &o->v[o->n++];
  v->kind = kind;
  v->u = u;
  v->off = o->arena_len;
  v->len = len;
  if (len) memcpy(o->arena + o->arena_len, p, len);
  o->arena_len += len;
  return 0;
}

/* Generate: random bytes straight into the arena. */
static int push_random_bytes(walk_t *k, uint8_t kind, size_t len) {
  uint8_t tmp[64];
  VE_ASSERT(len <= sizeof tmp);
  for (size_t i = 0; i < len; i++) tmp[i] = (uint8_t)k->rng();
  return push_value(k, kind, 0, tmp, len);
}

static uint64_t random_uvarint(walk_t *k) {
  unsigned bits = (unsigned)(k->rng() % 65);
  return bits ? k->rng() >> (64 - bits) : 0;
}

static int field_decode(walk_t *k, const schema_op_t *op, uint64_t *count) {
  codec_reader_t *r = k->r;
  uint64_t u = 0;
  ve_slice_t sl = {NULL, 0};
  uint8_t fixed[32];
  switch (op->kind) {
    case SCHEMA_U8: u = codec_get_u8(r); break;
    case SCHEMA_UVARINT: u = codec_get_uvarint(r); break;
    case SCHEMA_UVARINT_MAX: u = codec_get_uvarint_max(r, op->arg); break;
    case SCHEMA_BOOL: u = codec_get_bool(r); break;
    case SCHEMA_FIXED:
      codec_get_fixed(r, fixed, op->arg);
      sl = ve_slice(fixed, op->arg);
      break;
    case SCHEMA_BYTES: sl = codec_get_bytes(r, op->arg); break;
    case SCHEMA_LIST: u = codec_get_count(r, op->arg, op->body_min); break;
    default: VE_ASSERT(0);
  }
  if (r->err) return r->err;
  *count = u;
  return push_value(k, op->kind, u, sl.ptr, sl.len);
}

static int field_encode(walk_t *k, const schema_op_t *op, uint64_t *count) {
  if (k->cursor == k->in->n) return SCHEMA_BUDGET;
  const schema_value_t *v = &k->in->v[k->cursor++];
  VE_ASSERT(v->kind == op->kind); /* values must come from the same schema */
  codec_writer_t *w = k->w;
  const uint8_t *p = k->in->arena + v->off;
  switch (op->kind) {
    case SCHEMA_U8: codec_put_u8(w, (uint8_t)v->u); break;
    case SCHEMA_UVARINT: codec_put_uvarint(w, v->u); break;
    case SCHEMA_UVARINT_MAX: codec_put_uvarint(w, v->u); break;
    case SCHEMA_BOOL: codec_put_bool(w, v->u != 0); break;
    case SCHEMA_FIXED:
      VE_ASSERT(v->len == op->arg);
      codec_put_fixed(w, p, v->len);
      break;
    case SCHEMA_BYTES: codec_put_bytes(w, p, v->len, op->arg); break;
    case SCHEMA_LIST: codec_put_uvarint(w, v->u); break;
    default: VE_ASSERT(0);
  }
  *count = v->u;
  return w->err;
}

static int field_generate(walk_t *k, const schema_op_t *op, uint64_t *count) {
  uint64_t u = 0;
  switch (op->kind) {
    case SCHEMA_U8: u = (uint8_t)k->rng(); break;
    case SCHEMA_UVARINT: u = random_uvarint(k); break;
    case SCHEMA_UVARINT_MAX: u = k->rng() % ((uint64_t)op->arg + 1); break;
    case SCHEMA_BOOL: u = k->rng() & 1; break;
    case SCHEMA_FIXED: return push_random_bytes(k, op->kind, op->arg);
    case SCHEMA_BYTES: {
      size_t max = op->arg < 40 ? op->arg : 40;
      return push_random_bytes(k, op->kind, (size_t)(k->rng() % (max + 1)));
    }
    case SCHEMA_LIST: u = k->rng() % ((op->arg < 3 ? op->arg : 3) + 1u); break;
    default: VE_ASSERT(0);
  }
  *count = u;
  return push_value(k, op->kind, u, NULL, 0);
}

static int field(walk_t *k, const schema_op_t *op, uint64_t *count) {
  switch (k->mode) {
    case WALK_DECODE: return field_decode(k, op, count);
    case WALK_ENCODE: return field_encode(k, op, count);
    case WALK_GENERATE: return field_generate(k, op, count);
  }
  return VE_ERR_INVALID;
}

/* One nesting level in; only the reader counts depth. */
static int enter(walk_t *k) {
  if (k->mode != WALK_DECODE) return 0;
  codec_enter(k->r);
  return k->r->err;
}

static void leave(walk_t *k) {
  if (k->mode == WALK_DECODE) codec_leave(k->r);
}

static int walk(const schema_t *s, walk_t *k) {
  frame_t stack[SCHEMA_NEST_MAX];
  size_t nf = 0, pc = 0, steps = 0;
  int rc;
  while (pc < s->n) {
    if (++steps > SCHEMA_STEPS_MAX) return SCHEMA_BUDGET;
    const schema_op_t *op = &s->ops[pc];
    uint64_t count = 1;
    switch (op->kind) {
      case SCHEMA_LIST:
      case SCHEMA_NEST:
        if (op->kind == SCHEMA_LIST && (rc = field(k, op, &count)) != 0) return rc;
        if (count == 0) { /* an empty list: skip its item schema */
          pc = (size_t)op->match + 1;
          break;
        }
        if ((rc = enter(k)) != 0) return rc; /* the first item, or the nest */
        VE_ASSERT(nf < SCHEMA_NEST_MAX);
        stack[nf++] = (frame_t){pc + 1, count};
        pc++;
        break;
      case SCHEMA_END:
        VE_ASSERT(nf > 0);
        leave(k);
        if (--stack[nf - 1].remaining > 0) {
          if ((rc = enter(k)) != 0) return rc;
          pc = stack[nf - 1].body;
        } else {
          nf--;
          pc++;
        }
        break;
      default:
        if ((rc = field(k, op, &count)) != 0) return rc;
        pc++;
    }
  }
  VE_ASSERT(nf == 0);
  return 0;
}

int schema_decode(const schema_t *s, ve_slice_t in, schema_values_t *out) {
  codec_reader_t r;
  codec_reader_init(&r, in);
  out->n = 0;
  out->arena_len = 0;
  walk_t k = {.mode = WALK_DECODE, .r = &r, .out = out};
  int rc = walk(s, &k);
  if (rc) return rc;
  return codec_reader_finish(&r);
}

int schema_encode(const schema_t *s, const schema_values_t *vals, ve_buf_t *buf) {
  codec_writer_t w;
  codec_writer_init(&w, buf);
  walk_t k = {.mode = WALK_ENCODE, .w = &w, .in = vals};
  int rc = walk(s, &k);
  if (rc) return rc;
  VE_ASSERT(k.cursor == vals->n); /* every value was written */
  return codec_writer_finish(&w);
}

int schema_generate(const schema_t *s, uint64_t (*rng)(void), schema_values_t *out) {
  out->n = 0;
  out->arena_len = 0;
  walk_t k = {.mode = WALK_GENERATE, .out = out, .rng = rng};
  return walk(s, &k);
}

bool schema_values_eq(const schema_values_t *a, const schema_values_t *b) {
  if (a->n != b->n) return false;
  for (size_t i = 0; i < a->n; i++) {
    const schema_value_t *x = &a->v[i], *y = &b->v[i];
    if (x->kind != y->kind || x->u != y->u || x->len != y->len) return false;
    if (x->len && memcmp(a->arena + x->off, b->arena + y->off, x->len) != 0) return false;
  }
  return true;
}

size_t schema_random_text(uint8_t *out, size_t cap, unsigned depth_max, uint64_t (*rng)(void)) {
  size_t n = 0;
  unsigned depth = 0;
  size_t ops = 0, ops_max = 1 + (size_t)(rng() % 16);
  while (n + 2 <= cap && ops < ops_max) {
    uint8_t kind = (uint8_t)(rng() % SCHEMA_KINDS);
    if ((kind == SCHEMA_LIST || kind == SCHEMA_NEST) && depth >= depth_max) continue;
    if (kind == SCHEMA_END && depth == 0) continue;
    /* Any byte congruent to kind mod 9 names it; vary the spelling. */
    out[n++] = (uint8_t)(kind + SCHEMA_KINDS * (rng() % 28));
    if (kind_has_arg(kind)) out[n++] = (uint8_t)rng();
    if (kind == SCHEMA_LIST || kind == SCHEMA_NEST) depth++;
    if (kind == SCHEMA_END) depth--;
    ops++;
  }
  /* Unclosed lists/nests are closed by schema_parse. */
  return n;
}
