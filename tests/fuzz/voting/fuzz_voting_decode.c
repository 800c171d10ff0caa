/* fuzz_voting_decode.c — every strict decoder of the poll app and its crypto
 * layout parsers, on arbitrary bytes.
 *
 * Input: one selector byte (which decoder, modulo the count below), then the
 * bytes to decode. Whatever the bytes, a decoder returns 0 or a real error
 * code; where an encoder exists, every accepted input re-encodes to exactly its
 * own bytes (docs/encoding.md: one encoding per value), which is what keeps a
 * definition's hash, a ballot's tracker and the state root well defined.
 *
 *   0 create payload (voting_def_decode)        vs voting_payload_create
 *   1 ballot payload                            vs voting_payload_ballot
 *   2 decryption payload                        vs voting_payload_decrypt
 *   3 poll record (first 32 bytes: the id)      vs vpoll_record_encode
 *   4 tally record (first byte: option count)   vs vpoll_tally_encode
 *   5 ballot record (first byte: option count)  vs vpoll_ballot_rec_encode
 *   6 trustee key record                        vs vpoll_trustee_key_encode
 *   7 complaint record, voting_payload_poll
 *   8 points: vote_ge_decode / vote_point_decode vs vote_ge_encode, ct and key checks
 *   9 one ballot's layout (vpoll_ballot_shape, vote_ballot_ciphertexts, size)
 *  10 decryption share layout (vote_decshare_trustee, size)
 *
 * No clock, no randomness, nothing kept between runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apps/voting/poll_int.h"
#include "apps/voting/vcrypt_int.h"
#include "apps/voting/voting.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KINDS 11

static void assert_err(int rc) { VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN); }

/* out must hold exactly in; frees out. */
static void assert_same(ve_buf_t *out, ve_slice_t in) {
  VE_ASSERT(ve_slice_eq(ve_buf_slice(out), in));
  ve_buf_free(out);
}

static void fuzz_def(ve_slice_t in) {
  static voting_def_t d; /* ~10 KiB: keep it off the stack */
  int rc = voting_def_decode(in, &d);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(d.n_questions >= 1 && d.n_questions <= VOTING_QUESTIONS_MAX);
  VE_ASSERT(d.n_options <= VOTING_OPTIONS_MAX);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(voting_payload_create(&out, &d) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_ballot_payload(ve_slice_t in) {
  voting_ballot_payload_t b;
  int rc = voting_ballot_payload_decode(in, &b);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(b.n >= 1 && b.n <= VOTING_QUESTIONS_MAX);
  VE_ASSERT(b.list.ptr + b.list.len == in.ptr + in.len); /* the list ends the payload */
  uint8_t tracker[32];
  voting_tracker(tracker, b.list);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(voting_payload_ballot(&out, b.poll, b.voter, b.ballot, b.n) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_decrypt_payload(ve_slice_t in) {
  voting_decrypt_payload_t d;
  int rc = voting_decrypt_payload_decode(in, &d);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(d.n >= 1 && d.n <= VOTING_QUESTIONS_MAX);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(voting_payload_decrypt(&out, d.poll, d.share, d.n) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_poll_record(ve_slice_t in) {
  static voting_poll_t p; /* ~30 KiB */
  uint8_t id[VOTING_ID_BYTES] = {0};
  if (in.len < sizeof id) return;
  memcpy(id, in.ptr, sizeof id);
  ve_slice_t v = ve_slice(in.ptr + sizeof id, in.len - sizeof id);
  int rc = voting_poll_decode(v, id, &p);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT); /* state is the ledger's: every failure is corruption */
    return;
  }
  VE_ASSERT(p.status <= VOTING_DONE);
  ve_buf_t out;
  ve_buf_init(&out, v.len + 1);
  VE_ASSERT(vpoll_record_encode(&p, &out) == VE_OK);
  assert_same(&out, v);
}

static void fuzz_tally_record(ve_slice_t in) {
  voting_tally_rec_t t;
  if (in.len < 1) return;
  uint32_t n = in.ptr[0];
  ve_slice_t v = ve_slice(in.ptr + 1, in.len - 1);
  int rc = voting_tally_decode(v, n, &t);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT || (rc == VE_ERR_INVALID && (n == 0 || n > VOTING_OPTIONS_MAX)));
    return;
  }
  ve_buf_t out;
  ve_buf_init(&out, v.len + 1);
  VE_ASSERT(vpoll_tally_encode(&t, &out) == VE_OK);
  assert_same(&out, v);
}

static void fuzz_ballot_record(ve_slice_t in) {
  voting_ballot_rec_t b;
  static const uint8_t voter[32] = {1};
  if (in.len < 1) return;
  uint32_t n = in.ptr[0];
  ve_slice_t v = ve_slice(in.ptr + 1, in.len - 1);
  int rc = voting_ballot_rec_decode(v, voter, n, &b);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT || (rc == VE_ERR_INVALID && (n == 0 || n > VOTING_OPTIONS_MAX)));
    return;
  }
  VE_ASSERT(b.revision >= 1);
  ve_buf_t out;
  ve_buf_init(&out, v.len + 1);
  VE_ASSERT(vpoll_ballot_rec_encode(&b, &out) == VE_OK);
  assert_same(&out, v);
}

static void fuzz_trustee_key(ve_slice_t in) {
  voting_trustee_key_t k;
  int rc = voting_trustee_key_decode(in, &k);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT);
    return;
  }
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(vpoll_trustee_key_encode(&k, &out) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_complaint_and_head(ve_slice_t in) {
  bool upheld;
  ve_slice_t c;
  int rc = voting_complaint_rec_decode(in, &upheld, &c);
  if (rc == VE_OK) {
    VE_ASSERT(in.len == 1 + VOTE_DKG_COMPLAINT_BYTES && c.len == VOTE_DKG_COMPLAINT_BYTES);
    VE_ASSERT(c.ptr == in.ptr + 1 && upheld == (in.ptr[0] == 1));
  } else {
    VE_ASSERT(rc == VE_ERR_CORRUPT);
  }
  uint8_t poll[VOTING_ID_BYTES];
  rc = voting_payload_poll(in, poll);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(!memcmp(poll, in.ptr + 1, sizeof poll));
}

static void fuzz_points(ve_slice_t in) {
  uint8_t buf[VOTE_CT_BYTES] = {0};
  memcpy(buf, in.ptr, in.len < sizeof buf ? in.len : sizeof buf);
  vote_ge_t p;
  int rc = vote_ge_decode(&p, buf);
  if (rc == VE_OK) {
    uint8_t again[32];
    vote_ge_encode(again, &p); /* canonical encodings only: same bytes back */
    VE_ASSERT(!memcmp(again, buf, 32));
  } else {
    VE_ASSERT(rc == VE_ERR_NONCANONICAL || rc == VE_ERR_MALFORMED);
  }
  int rc_id = vote_point_decode(&p, buf, true);
  int rc_no = vote_point_decode(&p, buf, false);
  VE_ASSERT((rc_id == VE_OK) == (rc == VE_OK));
  if (rc_no == VE_OK) VE_ASSERT(rc_id == VE_OK);
  int pk = vote_pk_check(buf);
  VE_ASSERT(pk == VE_OK || pk == VE_ERR_BAD_KEY);
  VE_ASSERT((pk == VE_OK) == (rc_no == VE_OK));
  for (int allow = 0; allow < 2; allow++) {
    int ct = vote_ct_check(buf, allow);
    if (ct) assert_err(ct);
  }
  (void)vote_scalar_is_canonical(buf);
}

static void fuzz_ballot_layout(ve_slice_t in) {
  uint32_t options, min, max;
  int shape = vpoll_ballot_shape(in, &options, &min, &max);
  /* An unknown version byte is VE_ERR_VERSION, anything else wrong MALFORMED. */
  if (in.len && in.ptr[0] != 1) VE_ASSERT(shape == VE_ERR_VERSION);
  else if (shape) VE_ASSERT(shape == VE_ERR_MALFORMED);
  const uint8_t *cts;
  uint32_t n;
  int rc = vote_ballot_ciphertexts(in.ptr, in.len, &n, &cts);
  if (rc) {
    assert_err(rc);
    return;
  }
  /* A parsed ballot has a valid shape, its exact size, and cts inside it. */
  VE_ASSERT(shape == VE_OK && n == options && n >= 1 && n <= VOTE_OPTIONS_MAX);
  VE_ASSERT(vote_ballot_size(options, min, max) == in.len);
  VE_ASSERT(cts >= in.ptr && cts + (size_t)n * VOTE_CT_BYTES <= in.ptr + in.len);
}

static void fuzz_decshare_layout(ve_slice_t in) {
  uint32_t trustee;
  int rc = vote_decshare_trustee(in.ptr, in.len, &trustee);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(trustee >= 1 && trustee <= VOTE_TRUSTEES_MAX);
  VE_ASSERT(in.len <= VOTE_DECSHARE_BYTES_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  if (!ready) {
    VE_ASSERT(vote_init() == VE_OK);
    ready = true;
  }
  if (size < 1) return 0;
  ve_slice_t in = ve_slice(data + 1, size - 1);
  switch (data[0] % KINDS) {
    case 0: fuzz_def(in); break;
    case 1: fuzz_ballot_payload(in); break;
    case 2: fuzz_decrypt_payload(in); break;
    case 3: fuzz_poll_record(in); break;
    case 4: fuzz_tally_record(in); break;
    case 5: fuzz_ballot_record(in); break;
    case 6: fuzz_trustee_key(in); break;
    case 7: fuzz_complaint_and_head(in); break;
    case 8: fuzz_points(in); break;
    case 9: fuzz_ballot_layout(in); break;
    default: fuzz_decshare_layout(in); break;
  }
  return 0;
}
