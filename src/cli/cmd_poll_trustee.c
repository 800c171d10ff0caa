/* cmd_poll_trustee.c — the trustees' side of `veche poll`: share-encryption
 * keys, the distributed key generation (deal, check and complain, finish) and
 * decryption of a closed poll's tally. A trustee's secret never leaves its
 * machine: the share-encryption key is a local file, and the election-key
 * share x_j is recomputed from the sealed shares on the ledger each time it is
 * needed, used once, and wiped. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cmd_poll_int.h"

/* ---- keys ---- */

static const char KEYGEN_USAGE[] =
    "usage: veche poll trustee-keygen --out FILE\n"
    "\n"
    "Generates a trustee's share-encryption key (ristretto255; kept in FILE, mode\n"
    "0600, never overwritten) and prints its public part. Other trustees encrypt\n"
    "your shares of each poll's election key to it. Publish it with\n"
    "`veche poll trustee-register`.\n";

int cmd_poll_trustee_keygen(int argc, char **argv) {
  static const struct option opts[] = {{"out", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *out = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (o == 'o') out = optarg;
    else if (o == 'h') cli_help(KEYGEN_USAGE);
    else cli_usage(KEYGEN_USAGE);
  }
  if (!out || optind != argc) cli_usage(KEYGEN_USAGE);
  uint8_t seed[32];
  vcrypto_random(seed, sizeof seed);
  pc_trustee_key_write(out, seed);
  sodium_memzero(seed, sizeof seed);
  vote_keypair_t kp;
  pc_trustee_key_read(out, &kp);
  char pk[65];
  ve_hex_encode(pk, kp.pk, 32);
  vote_keypair_wipe(&kp);
  printf("{\"enc_pk\": \"%s\"}\n", pk);
  return 0;
}

static const char REGISTER_USAGE[] =
    "usage: veche poll trustee-register --key FILE --trustee-key FILE [options]\n"
    "\n"
    "Publishes the trustee key with a proof that you hold its secret (signer needs\n"
    "the trustee role). Polls created afterwards use it; publishing a new one\n"
    "replaces it for later polls.\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP;

int cmd_poll_trustee_register(int argc, char **argv) {
  static const struct option opts[] = {PC_TXOPTS_LONG, {"trustee-key", 1, 0, 'T'}, {0, 0, 0, 0}};
  pc_txopts_t to = {0};
  const char *tk = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &to)) continue;
    if (o == 'T') tk = optarg;
    else if (o == 'h') cli_help(REGISTER_USAGE);
    else cli_usage(REGISTER_USAGE);
  }
  if (optind != argc || !tk) cli_usage(REGISTER_USAGE);
  vote_keypair_t enc;
  pc_trustee_key_read(tk, &enc);
  pc_signer_t s;
  pc_signer_open(&s, &to);
  uint8_t seed[32];
  vcrypto_random(seed, sizeof seed);
  ve_buf_t pl;
  ve_buf_init(&pl, VE_TX_PAYLOAD_BYTES_MAX);
  int rc = voting_payload_trustee_key(&pl, pc_chain(&s), s.identity, &enc, seed);
  vote_keypair_wipe(&enc);
  if (rc) cli_die("cannot build the payload: %s", ve_strerror(rc));
  rc = pc_submit(&s, &to, TX_TYPE_POLL_TRUSTEE_KEY, ve_buf_slice(&pl), NULL);
  ve_buf_free(&pl);
  pc_signer_close(&s);
  return rc;
}

/* ---- the DKG ---- */

static const char DKG_USAGE[] =
    "usage: veche poll dkg deal   --key FILE --trustee-key FILE --poll ID [options]\n"
    "       veche poll dkg check  --key FILE --trustee-key FILE --poll ID [--no-complain] [options]\n"
    "       veche poll dkg finish --key FILE --poll ID [options]\n"
    "\n"
    "The distributed key generation of a poll's election key (no one ever holds\n"
    "the whole key):\n"
    "  deal    (each trustee, until the poll's deal-end height) publishes Feldman\n"
    "          commitments to a random polynomial and a share for every trustee,\n"
    "          each encrypted to that trustee's key;\n"
    "  check   (each trustee, after deal-end, until complaint-end) opens the shares\n"
    "          sent to it and checks them against the commitments; for every bad\n"
    "          one it publishes a complaint that anyone can judge (a dealer with an\n"
    "          upheld complaint is excluded); prints what it found;\n"
    "  finish  (the organizer or a trustee, after complaint-end) computes the\n"
    "          election key from the qualified dealings on the ledger.\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP;

typedef struct {
  pc_txopts_t to;
  const char *poll, *tk;
  bool no_complain;
} dkg_opts_t;

/* Loads the signer, the poll and the trustee key; returns the trustee index. */
static uint32_t trustee_open(const dkg_opts_t *d, pc_signer_t *s, voting_poll_t *p, vote_keypair_t *enc,
                             uint64_t *tip) {
  uint8_t id[32];
  cli_hex32("--poll", d->poll, id);
  pc_signer_open(s, &d->to);
  *tip = pc_poll_fetch(&s->node, id, p, NULL, NULL);
  uint32_t j = voting_trustee_index(&p->def, s->identity);
  if (!j) cli_die("you are not a trustee of poll %s", d->poll);
  if (enc) {
    pc_trustee_key_read(d->tk, enc);
    if (memcmp(enc->pk, p->enc_pk[j - 1], 32))
      cli_die("%s is not the trustee key this poll uses for you (trustee %u)", d->tk, j);
  }
  return j;
}

static int dkg_deal(const dkg_opts_t *d) {
  pc_signer_t s;
  vote_keypair_t enc;
  uint64_t tip;
  voting_poll_t *p = malloc(sizeof *p);
  if (!p) cli_die("out of memory");
  uint32_t j = trustee_open(d, &s, p, &enc, &tip);
  vote_keypair_wipe(&enc); /* dealing needs only the others' public keys */
  if (p->status != VOTING_DKG || tip + 1 > p->def.deal_end)
    cli_die("poll is past its dealing phase (phase %s, deal-end %llu)", voting_phase_name(p, tip + 1),
            (unsigned long long)p->def.deal_end);
  vote_dkg_params_t dp = {p->def.n_trustees, p->def.threshold};
  uint8_t ctx[32], seed[32];
  voting_poll_context(ctx, pc_chain(&s), p->id);
  vcrypto_random(seed, sizeof seed);
  ve_buf_t dealing, pl;
  ve_buf_init(&dealing, VOTE_DKG_DEALING_BYTES_MAX);
  ve_buf_init(&pl, VE_TX_PAYLOAD_BYTES_MAX);
  int rc = vote_dkg_deal(&dealing, &dp, j, (const uint8_t(*)[32])p->enc_pk, ctx, sizeof ctx, seed);
  sodium_memzero(seed, sizeof seed); /* the polynomial dies with it */
  if (rc == VE_OK) rc = voting_payload_deal(&pl, p->id, ve_buf_slice(&dealing));
  if (rc) cli_die("cannot deal: %s", ve_strerror(rc));
  rc = pc_submit(&s, &d->to, TX_TYPE_POLL_DKG_DEAL, ve_buf_slice(&pl), NULL);
  ve_buf_free(&dealing);
  ve_buf_free(&pl);
  pc_signer_close(&s);
  free(p);
  return rc;
}

static int dkg_check(const dkg_opts_t *d) {
  pc_signer_t s;
  vote_keypair_t enc;
  uint64_t tip;
  voting_poll_t *p = malloc(sizeof *p);
  if (!p) cli_die("out of memory");
  uint32_t j = trustee_open(d, &s, p, &enc, &tip);
  vote_dkg_params_t dp = {p->def.n_trustees, p->def.threshold};
  uint8_t ctx[32];
  voting_poll_context(ctx, pc_chain(&s), p->id);
  ve_buf_t dealings[VOTING_TRUSTEES_MAX];
  pc_dealings_fetch(&s.node, p, dealings);
  int out = 0, bad = 0;
  printf("{\"trustee\": %u, \"shares\": [", j);
  for (uint32_t i = 1; i <= p->def.n_trustees; i++) {
    const ve_buf_t *dl = &dealings[i - 1];
    uint8_t share[32];
    const char *verdict = "missing";
    if (dl->len) {
      int rc = vote_dkg_share_open(share, &dp, i, j, &enc, ctx, sizeof ctx, dl->ptr, dl->len);
      sodium_memzero(share, sizeof share);
      verdict = rc == VE_OK ? "good" : "bad";
      if (rc && rc != VE_ERR_PROOF) cli_die("dealing %u: %s", i, ve_strerror(rc));
      if (rc) bad++;
    }
    printf("%s{\"dealer\": %u, \"share\": \"%s\"}", i > 1 ? ", " : "", i, verdict);
  }
  printf("]}\n");
  fflush(stdout);
  for (uint32_t i = 1; bad && !d->no_complain && i <= p->def.n_trustees; i++) {
    const ve_buf_t *dl = &dealings[i - 1];
    uint8_t share[32], seed[32];
    if (!dl->len || vote_dkg_share_open(share, &dp, i, j, &enc, ctx, sizeof ctx, dl->ptr, dl->len) == VE_OK) {
      sodium_memzero(share, sizeof share);
      continue;
    }
    if (p->complained[i - 1] & (1u << (j - 1))) continue; /* already on the ledger */
    if (tip + 1 <= p->def.deal_end || tip + 1 > p->def.complaint_end)
      cli_die("complaints are accepted at heights %llu..%llu only", (unsigned long long)p->def.deal_end + 1,
              (unsigned long long)p->def.complaint_end);
    vcrypto_random(seed, sizeof seed);
    ve_buf_t c, pl;
    ve_buf_init(&c, VOTE_DKG_COMPLAINT_BYTES);
    ve_buf_init(&pl, VE_TX_PAYLOAD_BYTES_MAX);
    int rc = vote_dkg_complain(&c, &dp, i, j, &enc, ctx, sizeof ctx, dl->ptr, dl->len, seed);
    if (rc == VE_OK) rc = voting_payload_complain(&pl, p->id, ve_buf_slice(&c));
    if (rc) cli_die("cannot build a complaint against %u: %s", i, ve_strerror(rc));
    fprintf(stderr, "veche: complaining against dealer %u\n", i);
    out |= pc_submit(&s, &d->to, TX_TYPE_POLL_DKG_COMPLAIN, ve_buf_slice(&pl), NULL);
    ve_buf_free(&c);
    ve_buf_free(&pl);
  }
  for (uint32_t i = 0; i < p->def.n_trustees; i++) ve_buf_free(&dealings[i]);
  vote_keypair_wipe(&enc);
  pc_signer_close(&s);
  free(p);
  return out;
}

static int dkg_finish(const dkg_opts_t *d) {
  uint8_t id[32];
  cli_hex32("--poll", d->poll, id);
  pc_signer_t s;
  pc_signer_open(&s, &d->to);
  ve_buf_t pl;
  ve_buf_init(&pl, 64);
  if (voting_payload_finish(&pl, id)) cli_die("cannot build the payload");
  int rc = pc_submit(&s, &d->to, TX_TYPE_POLL_DKG_FINISH, ve_buf_slice(&pl), NULL);
  ve_buf_free(&pl);
  pc_signer_close(&s);
  return rc;
}

int cmd_poll_dkg(int argc, char **argv) {
  static const struct option opts[] = {PC_TXOPTS_LONG, {"poll", 1, 0, 'P'}, {"trustee-key", 1, 0, 'T'},
                                       {"no-complain", 0, 0, 'N'}, {0, 0, 0, 0}};
  if (argc < 2) cli_usage(DKG_USAGE);
  const char *step = argv[1];
  if (!strcmp(step, "--help") || !strcmp(step, "-h")) cli_help(DKG_USAGE);
  dkg_opts_t d;
  memset(&d, 0, sizeof d);
  optind = 2;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &d.to)) continue;
    if (o == 'P') d.poll = optarg;
    else if (o == 'T') d.tk = optarg;
    else if (o == 'N') d.no_complain = true;
    else if (o == 'h') cli_help(DKG_USAGE);
    else cli_usage(DKG_USAGE);
  }
  if (optind != argc || !d.poll) cli_usage(DKG_USAGE);
  if (!strcmp(step, "deal")) return dkg_deal(&d);
  if (!strcmp(step, "check")) return dkg_check(&d);
  if (!strcmp(step, "finish")) return dkg_finish(&d);
  cli_usage(DKG_USAGE);
}

/* ---- decryption ---- */

static const char DECRYPT_USAGE[] =
    "usage: veche poll decrypt --key FILE --trustee-key FILE --poll ID [options]\n"
    "\n"
    "After the poll's close height: recomputes your share of the election key\n"
    "from the qualified dealings on the ledger (checked against your public\n"
    "verification key), computes your partial decryption of every option's\n"
    "encrypted tally with a proof of correctness, and posts it. When a threshold\n"
    "of trustees have posted, the ledger decrypts and records the result.\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP;

int cmd_poll_decrypt(int argc, char **argv) {
  static const struct option opts[] = {PC_TXOPTS_LONG, {"poll", 1, 0, 'P'}, {"trustee-key", 1, 0, 'T'}, {0, 0, 0, 0}};
  dkg_opts_t d;
  memset(&d, 0, sizeof d);
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &d.to)) continue;
    if (o == 'P') d.poll = optarg;
    else if (o == 'T') d.tk = optarg;
    else if (o == 'h') cli_help(DECRYPT_USAGE);
    else cli_usage(DECRYPT_USAGE);
  }
  if (optind != argc || !d.poll) cli_usage(DECRYPT_USAGE);
  pc_signer_t s;
  vote_keypair_t enc;
  uint64_t tip;
  voting_poll_t *p = malloc(sizeof *p);
  voting_tally_rec_t *tally = malloc(sizeof *tally);
  if (!p || !tally) cli_die("out of memory");
  uint8_t id[32];
  cli_hex32("--poll", d.poll, id);
  uint32_t j = trustee_open(&d, &s, p, &enc, &tip);
  bool have_tally;
  tip = pc_poll_fetch(&s.node, id, p, tally, &have_tally);
  if (p->status != VOTING_READY || !have_tally || tip + 1 <= p->def.close_height)
    cli_die("poll is not awaiting decryption (phase %s, close %llu)", voting_phase_name(p, tip + 1),
            (unsigned long long)p->def.close_height);
  ve_buf_t dealings[VOTING_TRUSTEES_MAX];
  ve_slice_t sl[VOTING_TRUSTEES_MAX];
  pc_dealings_fetch(&s.node, p, dealings);
  for (uint32_t i = 0; i < p->def.n_trustees; i++) sl[i] = ve_buf_slice(&dealings[i]);
  vote_dkg_result_t res;
  memset(&res, 0, sizeof res);
  res.n = p->def.n_trustees;
  res.t = p->def.threshold;
  res.qualified = p->qualified;
  memcpy(res.pk, p->pk, 32);
  memcpy(res.vk, p->vk, sizeof p->vk);
  uint8_t ctx[32], x[32], seed[32];
  voting_poll_context(ctx, pc_chain(&s), p->id);
  int rc = vote_dkg_secret_share(x, &res, j, &enc, ctx, sizeof ctx, sl);
  vote_keypair_wipe(&enc);
  if (rc) cli_die("cannot recover your key share: %s", ve_strerror(rc));
  vcrypto_random(seed, sizeof seed);
  ve_buf_t pl;
  ve_buf_init(&pl, VE_TX_PAYLOAD_BYTES_MAX);
  rc = voting_decrypt_build(&pl, p, tally, pc_chain(&s), j, x, seed);
  sodium_memzero(x, sizeof x);
  if (rc) cli_die("cannot build the decryption: %s", ve_strerror(rc));
  rc = pc_submit(&s, &d.to, TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl), NULL);
  ve_buf_free(&pl);
  for (uint32_t i = 0; i < p->def.n_trustees; i++) ve_buf_free(&dealings[i]);
  pc_signer_close(&s);
  free(p);
  free(tally);
  return rc;
}
