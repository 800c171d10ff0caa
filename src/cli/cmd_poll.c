/* cmd_poll.c — `veche poll`: create, cancel, list and show polls, vote, and
 * check a ballot receipt. Trustee work (key generation, DKG, decryption) is in
 * cmd_poll_trustee.c; the public audit in cmd_audit.c. Transactions and
 * encodings: docs/voting.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cmd_poll_int.h"

static const char POLL_USAGE[] =
    "usage: veche poll COMMAND [options]      (veche poll COMMAND --help for details)\n"
    "\n"
    "Organizers:\n"
    "  create             create a poll (questions, options, eligibility, trustees, heights)\n"
    "  cancel             cancel a poll before it opens\n"
    "Trustees:\n"
    "  trustee-keygen     generate a share-encryption key file (ristretto255)\n"
    "  trustee-register   publish that key on the ledger (trustee role needed)\n"
    "  dkg deal|check|finish   run the distributed key generation of a poll\n"
    "  decrypt            post this trustee's decryption of a closed poll's tally\n"
    "Voters and everyone:\n"
    "  vote               encrypt, prove and submit a ballot; prints its tracker\n"
    "  receipt            check with a proof bundle that your latest ballot is counted\n"
    "  show               a poll's definition, status, tally and result\n"
    "  list               the polls on the chain\n"
    "(Audit a poll with `veche audit poll ID`.)\n";

static const char *js(const json_t *j, const char *k) {
  const char *s = json_string_value(json_object_get(j, k));
  return s ? s : "";
}

static uint8_t *parse_id(const char *what, const char *hex, uint8_t out[32]) {
  cli_hex32(what, hex, out);
  return out;
}

/* ---- create ---- */

static const char CREATE_USAGE[] =
    "usage: veche poll create --key FILE --title TEXT\n"
    "         --question TEXT --option LABEL --option LABEL... [--min N] [--max N]\n"
    "         [--question TEXT --option ... ]...\n"
    "         --trustee ID --trustee ID --trustee ID... --threshold T\n"
    "         [--eligible KEY=VALUE] [--deal-end H] [--complaint-end H] [--open H] --close H\n"
    "         [options]\n"
    "\n"
    "Creates a poll (signer needs the poll_organizer role) and prints its id.\n"
    "Each --question starts a question; the --option, --min and --max after it\n"
    "belong to it (default: exactly one choice, --min 1 --max 1). --trustee names\n"
    "a trustee identity (3..32 of them, each with a published trustee key); any\n"
    "--threshold of them decrypt the result together, fewer learn nothing.\n"
    "--eligible limits voters to identities whose public attribute KEY is VALUE\n"
    "(e.g. district=d7); otherwise every active identity may vote.\n"
    "Heights are block heights, absolute (N) or relative to the tip (+N). Trustees\n"
    "deal until --deal-end (default +10), complain until --complaint-end (default\n"
    "deal-end + 10); ballots count from --open (default complaint-end + 5) to --close.\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP;

typedef struct {
  voting_def_t d;
  const char *deal_end, *complaint_end, *open, *close;
  bool q_has_min;
} create_opts_t;

static void create_question(create_opts_t *c, const char *text) {
  voting_def_t *d = &c->d;
  if (d->n_questions == VOTING_QUESTIONS_MAX) cli_die("at most %d questions", VOTING_QUESTIONS_MAX);
  if (strlen(text) > VOTING_QUESTION_BYTES_MAX) cli_die("a question is at most %d bytes", VOTING_QUESTION_BYTES_MAX);
  voting_question_t *q = &d->q[d->n_questions++];
  snprintf(q->text, sizeof q->text, "%s", text);
  q->first = d->n_options;
  q->min = q->max = 1;
}

static void create_option(create_opts_t *c, const char *label) {
  voting_def_t *d = &c->d;
  if (!d->n_questions) cli_die("--option comes after a --question");
  if (d->n_options == VOTING_OPTIONS_MAX) cli_die("at most %d options in all", VOTING_OPTIONS_MAX);
  if (strlen(label) > VOTING_OPTION_BYTES_MAX) cli_die("an option is at most %d bytes", VOTING_OPTION_BYTES_MAX);
  snprintf(d->option[d->n_options++], VOTING_OPTION_BYTES_MAX + 1, "%s", label);
  d->q[d->n_questions - 1].options++;
}

static void create_bound(create_opts_t *c, const char *arg, bool is_min) {
  if (!c->d.n_questions) cli_die("--min/--max come after a --question");
  char *end;
  unsigned long v = strtoul(arg, &end, 10);
  if (*end || !*arg || v > VOTE_OPTIONS_MAX) cli_die("--min/--max must be 0..%d", VOTE_OPTIONS_MAX);
  voting_question_t *q = &c->d.q[c->d.n_questions - 1];
  if (is_min) q->min = (uint32_t)v;
  else q->max = (uint32_t)v;
}

static int poll_create(int argc, char **argv) {
  static const struct option opts[] = {PC_TXOPTS_LONG,
                                       {"title", 1, 0, 'T'},
                                       {"question", 1, 0, 'Q'},
                                       {"option", 1, 0, 'O'},
                                       {"min", 1, 0, 'm'},
                                       {"max", 1, 0, 'M'},
                                       {"trustee", 1, 0, 't'},
                                       {"threshold", 1, 0, 'r'},
                                       {"eligible", 1, 0, 'E'},
                                       {"deal-end", 1, 0, 'D'},
                                       {"complaint-end", 1, 0, 'C'},
                                       {"open", 1, 0, 'o'},
                                       {"close", 1, 0, 'c'},
                                       {0, 0, 0, 0}};
  pc_txopts_t to = {0};
  static create_opts_t c;
  memset(&c, 0, sizeof c);
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &to)) continue;
    switch (o) {
      case 'T':
        if (strlen(optarg) > VOTING_TITLE_BYTES_MAX) cli_die("--title is at most %d bytes", VOTING_TITLE_BYTES_MAX);
        snprintf(c.d.title, sizeof c.d.title, "%s", optarg);
        break;
      case 'Q': create_question(&c, optarg); break;
      case 'O': create_option(&c, optarg); break;
      case 'm': create_bound(&c, optarg, true); break;
      case 'M': create_bound(&c, optarg, false); break;
      case 't':
        if (c.d.n_trustees == VOTING_TRUSTEES_MAX) cli_die("at most %d trustees", VOTING_TRUSTEES_MAX);
        cli_hex32("--trustee", optarg, c.d.trustees[c.d.n_trustees++]);
        break;
      case 'r': c.d.threshold = (uint32_t)pc_height_arg("--threshold", optarg, 0); break;
      case 'E': {
        const char *eq = strchr(optarg, '=');
        if (!eq || eq == optarg || (size_t)(eq - optarg) > VOTING_FILTER_KEY_BYTES_MAX ||
            strlen(eq + 1) > VOTING_FILTER_VALUE_BYTES_MAX)
          cli_die("--eligible wants KEY=VALUE");
        c.d.has_filter = true;
        memcpy(c.d.filter_key, optarg, (size_t)(eq - optarg));
        snprintf(c.d.filter_value, sizeof c.d.filter_value, "%s", eq + 1);
        break;
      }
      case 'D': c.deal_end = optarg; break;
      case 'C': c.complaint_end = optarg; break;
      case 'o': c.open = optarg; break;
      case 'c': c.close = optarg; break;
      case 'h': cli_help(CREATE_USAGE);
      default: cli_usage(CREATE_USAGE);
    }
  }
  if (optind != argc || !c.close || !c.d.title[0]) cli_usage(CREATE_USAGE);
  pc_signer_t s;
  pc_signer_open(&s, &to);
  uint64_t tip = s.height;
  c.d.deal_end = c.deal_end ? pc_height_arg("--deal-end", c.deal_end, tip) : tip + 10;
  c.d.complaint_end = c.complaint_end ? pc_height_arg("--complaint-end", c.complaint_end, tip) : c.d.deal_end + 10;
  c.d.open_height = c.open ? pc_height_arg("--open", c.open, tip) : c.d.complaint_end + 5;
  c.d.close_height = pc_height_arg("--close", c.close, tip);
  ve_buf_t pl;
  ve_buf_init(&pl, VE_TX_PAYLOAD_BYTES_MAX);
  int rc = voting_payload_create(&pl, &c.d);
  if (rc)
    cli_die("this poll would be refused: %s (options per question 1..64, min <= max <= options, "
            "3..32 distinct trustees, 2 <= threshold <= trustees, deal-end < complaint-end < open <= close)",
            ve_strerror(rc));
  uint8_t id[32];
  voting_poll_id(id, s.kp.pk, s.next_seq);
  char idh[65];
  ve_hex_encode(idh, id, 32);
  printf("{\"poll\": \"%s\", \"deal_end\": %llu, \"complaint_end\": %llu, \"open\": %llu, \"close\": %llu}\n", idh,
         (unsigned long long)c.d.deal_end, (unsigned long long)c.d.complaint_end,
         (unsigned long long)c.d.open_height, (unsigned long long)c.d.close_height);
  rc = pc_submit(&s, &to, TX_TYPE_POLL_CREATE, ve_buf_slice(&pl), NULL);
  ve_buf_free(&pl);
  pc_signer_close(&s);
  return rc;
}

/* ---- cancel ---- */

static const char CANCEL_USAGE[] =
    "usage: veche poll cancel --key FILE --poll ID [--reason TEXT] [options]\n"
    "\n"
    "Cancels a poll before its opening height (its organizer, or an admin).\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP;

static int poll_cancel(int argc, char **argv) {
  static const struct option opts[] = {PC_TXOPTS_LONG, {"poll", 1, 0, 'P'}, {"reason", 1, 0, 'R'}, {0, 0, 0, 0}};
  pc_txopts_t to = {0};
  const char *poll = NULL, *reason = "";
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &to)) continue;
    if (o == 'P') poll = optarg;
    else if (o == 'R') reason = optarg;
    else if (o == 'h') cli_help(CANCEL_USAGE);
    else cli_usage(CANCEL_USAGE);
  }
  if (optind != argc || !poll) cli_usage(CANCEL_USAGE);
  if (strlen(reason) > VOTING_REASON_BYTES_MAX) cli_die("--reason is at most %d bytes", VOTING_REASON_BYTES_MAX);
  uint8_t id[32];
  parse_id("--poll", poll, id);
  pc_signer_t s;
  pc_signer_open(&s, &to);
  ve_buf_t pl;
  ve_buf_init(&pl, VE_TX_PAYLOAD_BYTES_MAX);
  if (voting_payload_cancel(&pl, id, reason)) cli_die("cannot build the payload");
  int rc = pc_submit(&s, &to, TX_TYPE_POLL_CANCEL, ve_buf_slice(&pl), NULL);
  ve_buf_free(&pl);
  pc_signer_close(&s);
  return rc;
}

/* ---- show, list ---- */

static const char SHOW_USAGE[] =
    "usage: veche poll show ID [--raw] [--node HOST:PORT]\n"
    "       veche poll list [--node HOST:PORT]\n"
    "\n"
    "show: a poll's definition, trustees, key generation, phase, running encrypted\n"
    "tally and result as JSON (--raw keeps the records' hex). list: the polls.\n";

static int poll_show(int argc, char **argv, bool list) {
  static const struct option opts[] = {{"node", 1, 0, 'n'}, {"raw", 0, 0, 'r'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *node = NULL, *id = NULL;
  bool raw = false;
  if (!list && argc >= 2 && argv[1][0] != '-') id = argv[1], optind = 2;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (o == 'n') node = optarg;
    else if (o == 'r') raw = true;
    else if (o == 'h') cli_help(SHOW_USAGE);
    else cli_usage(SHOW_USAGE);
  }
  if (optind != argc || (!list && !id)) cli_usage(SHOW_USAGE);
  cli_node_t n;
  cli_node_parse(&n, node);
  char path[160];
  if (list) {
    snprintf(path, sizeof path, "/v1/polls");
  } else {
    uint8_t b[32];
    parse_id("poll id", id, b);
    snprintf(path, sizeof path, "/v1/polls/%s", id);
  }
  json_t *j = NULL;
  int st = cli_http_json(&n, "GET", path, NULL, &j);
  if (st != 200 || !j)
    cli_die("%d %s", st, j ? json_string_value(json_object_get(j, "message")) : "no answer");
  if (!raw) {
    json_object_del(j, "record");
    json_object_del(j, "tally_record");
  }
  cli_print_json(j);
  json_decref(j);
  return 0;
}

/* ---- vote ---- */

static const char VOTE_USAGE[] =
    "usage: veche poll vote --key FILE --poll ID --choice LIST [--choice LIST]...\n"
    "         [--receipt-out FILE] [--genesis FILE] [options]\n"
    "\n"
    "Encrypts your choices under the poll's election key, proves they are valid\n"
    "(each option 0 or 1, the count within the question's bounds) without\n"
    "revealing them, signs and submits the ballot, and prints its tracker. Give\n"
    "one --choice per question, in order: the chosen option numbers (1-based, as\n"
    "listed by `veche poll show`), comma-separated, or \"none\". Voting again\n"
    "replaces your earlier ballot; only the latest one counts.\n"
    "--receipt-out saves what `veche poll receipt` needs to check that exactly\n"
    "this ballot is counted. With --genesis the poll's record (and so its\n"
    "election key) is first checked against a proof bundle certified by the\n"
    "chain's validators, so a dishonest node cannot substitute a key.\n"
    "\n"
    "Options:\n" PC_TXOPTS_HELP;

/* Parses "1,3" / "none" for question q into ch (one byte per option). */
static void parse_choice(const voting_def_t *d, uint32_t q, const char *arg, uint8_t *ch) {
  const voting_question_t *qq = &d->q[q];
  if (!strcmp(arg, "none")) return;
  char buf[512];
  snprintf(buf, sizeof buf, "%s", arg);
  for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *end;
    unsigned long k = strtoul(tok, &end, 10);
    if (*end || k < 1 || k > qq->options) cli_die("question %u has options 1..%u; got \"%s\"", q + 1, qq->options, tok);
    if (ch[qq->first + k - 1]) cli_die("question %u: option %lu chosen twice", q + 1, k);
    ch[qq->first + k - 1] = 1;
  }
}

/* Checks the poll record against a proof bundle certified for the genesis. */
static void verify_record(const cli_node_t *n, const char *genesis, const voting_poll_t *p) {
  static ledger_genesis_t g;
  cons_valset_t vs;
  pc_genesis_load(genesis, &g, &vs);
  char hex[65], path[160];
  ve_hex_encode(hex, p->id, 32);
  snprintf(path, sizeof path, "/v1/polls/%s/proof", hex);
  json_t *j = NULL;
  if (cli_http_json(n, "GET", path, NULL, &j) != 200 || !j) cli_die("cannot fetch the poll's proof bundle");
  proof_bundle_t b;
  proof_bundle_init(&b);
  char reason[PROOF_REASON_BYTES_MAX] = "";
  proof_result_t res;
  int rc = proof_bundle_from_json(json_object_get(j, "poll"), &b, reason, sizeof reason);
  if (rc == VE_OK) rc = proof_bundle_verify(&b, g.chain_id, &vs, &res, reason, sizeof reason);
  voting_poll_t *q = malloc(sizeof *q);
  if (rc == VE_OK && (!b.present || voting_poll_decode(ve_buf_slice(&b.value), p->id, q) || !q->has_key ||
                      memcmp(q->pk, p->pk, 32)))
    rc = VE_ERR_PROOF, snprintf(reason, sizeof reason, "the certified record has another election key");
  if (rc) cli_die("the poll record is not certified: %s", reason);
  free(q);
  proof_bundle_free(&b);
  json_decref(j);
}

static int poll_vote(int argc, char **argv) {
  static const struct option opts[] = {PC_TXOPTS_LONG, {"poll", 1, 0, 'P'}, {"choice", 1, 0, 'c'},
                                       {"receipt-out", 1, 0, 'R'}, {"genesis", 1, 0, 'g'}, {0, 0, 0, 0}};
  pc_txopts_t to = {0};
  const char *poll = NULL, *receipt = NULL, *genesis = NULL, *choices[VOTING_QUESTIONS_MAX];
  size_t n_choices = 0;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (pc_txopt(o, optarg, &to)) continue;
    if (o == 'P') poll = optarg;
    else if (o == 'c') {
      if (n_choices == VOTING_QUESTIONS_MAX) cli_die("at most %d --choice", VOTING_QUESTIONS_MAX);
      choices[n_choices++] = optarg;
    } else if (o == 'R') receipt = optarg;
    else if (o == 'g') genesis = optarg;
    else if (o == 'h') cli_help(VOTE_USAGE);
    else cli_usage(VOTE_USAGE);
  }
  if (optind != argc || !poll || !n_choices) cli_usage(VOTE_USAGE);
  uint8_t id[32];
  parse_id("--poll", poll, id);
  pc_signer_t s;
  pc_signer_open(&s, &to);
  voting_poll_t *p = malloc(sizeof *p);
  if (!p) cli_die("out of memory");
  uint64_t tip = pc_poll_fetch(&s.node, id, p, NULL, NULL);
  if (!p->has_key) cli_die("poll %s has no election key (phase %s)", poll, voting_phase_name(p, tip + 1));
  if (n_choices != p->def.n_questions) cli_die("the poll has %u questions: give one --choice each", p->def.n_questions);
  if (genesis) verify_record(&s.node, genesis, p);
  uint8_t ch[VOTING_OPTIONS_MAX] = {0};
  for (uint32_t q = 0; q < p->def.n_questions; q++) {
    parse_choice(&p->def, q, choices[q], ch);
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->def.q[q].options; i++) k += ch[p->def.q[q].first + i];
    if (k < p->def.q[q].min || k > p->def.q[q].max)
      cli_die("question %u wants %u..%u choices, got %u", q + 1, p->def.q[q].min, p->def.q[q].max, k);
  }
  uint8_t seed[VOTE_SEED_BYTES], tracker[32];
  vcrypto_random(seed, sizeof seed);
  ve_buf_t pl;
  ve_buf_init(&pl, VE_TX_PAYLOAD_BYTES_MAX);
  int rc = voting_ballot_build(&pl, tracker, p, pc_chain(&s), s.identity, ch, p->def.n_options, seed);
  memset(seed, 0, sizeof seed);
  memset(ch, 0, sizeof ch);
  if (rc) cli_die("cannot build the ballot: %s", ve_strerror(rc));
  char idh[65], trh[65], voter[65], txid[65];
  ve_hex_encode(idh, id, 32);
  ve_hex_encode(trh, tracker, 32);
  ve_hex_encode(voter, s.identity, 32);
  printf("{\"poll\": \"%s\", \"voter\": \"%s\", \"tracker\": \"%s\"}\n", idh, voter, trh);
  rc = pc_submit(&s, &to, TX_TYPE_POLL_BALLOT, ve_buf_slice(&pl), txid);
  if (receipt && !to.print) {
    json_t *r = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "format", PC_RECEIPT_FORMAT, "version", 1,
                          "chain_id", s.chain, "poll", idh, "voter", voter, "tracker", trh, "tx", txid);
    if (json_dump_file(r, receipt, JSON_INDENT(2)) != 0) cli_die("cannot write %s", receipt);
    json_decref(r);
  }
  ve_buf_free(&pl);
  free(p);
  pc_signer_close(&s);
  return rc;
}

/* ---- receipt ---- */

static const char RECEIPT_USAGE[] =
    "usage: veche poll receipt --genesis FILE (--receipt FILE | --poll ID (--voter ID | --key FILE)\n"
    "                          [--tracker HEX]) [--height H] [--save FILE] [--node HOST:PORT]\n"
    "       veche poll receipt --genesis FILE --bundle FILE\n"
    "\n"
    "Fetches the proof bundle of your counted ballot (the record the chain keeps\n"
    "for your identity in this poll) and checks it offline against the genesis:\n"
    "the validators certified a state in which exactly the ballot with your\n"
    "tracker is the one counted for you. Prints COUNTED and exits 0, or NOT\n"
    "COUNTED with the reason and exits 1 (e.g. a later ballot of yours replaced\n"
    "it, or it is not in a certified block yet). --save keeps the bundle and the\n"
    "tracker; --bundle checks such a file again, without any node.\n";

static int receipt_check(const ledger_genesis_t *g, const cons_valset_t *vs, const json_t *rc_json) {
  const char *poll = json_string_value(json_object_get(rc_json, "poll"));
  const char *voter = json_string_value(json_object_get(rc_json, "voter"));
  const char *want = json_string_value(json_object_get(rc_json, "expected_tracker"));
  uint8_t pid[32], vid[32], tr[32], key[VOTING_BALLOT_KEY_BYTES];
  if (!poll || !voter || ve_hex_decode(pid, 32, poll) || ve_hex_decode(vid, 32, voter))
    cli_die("receipt without poll and voter ids");
  proof_bundle_t b;
  proof_bundle_init(&b);
  char reason[PROOF_REASON_BYTES_MAX] = "";
  proof_result_t res;
  int rc = proof_bundle_from_json(json_object_get(rc_json, "bundle"), &b, reason, sizeof reason);
  if (rc == VE_OK) rc = proof_bundle_verify(&b, g->chain_id, vs, &res, reason, sizeof reason);
  if (rc == VE_OK && !ve_slice_eq(ve_buf_slice(&b.key), ve_slice(key, voting_ballot_key(key, pid, vid))))
    rc = VE_ERR_PROOF, snprintf(reason, sizeof reason, "the bundle is about another state key");
  if (rc) {
    printf("NOT COUNTED: the bundle does not prove anything: %s\n", reason);
    proof_bundle_free(&b);
    return 1;
  }
  if (!b.present) {
    printf("NOT COUNTED: after height %llu no ballot of voter %s is counted in poll %s\n",
           (unsigned long long)b.height, voter, poll);
    proof_bundle_free(&b);
    return 1;
  }
  /* The record's option count is not needed to read its tracker (it comes first). */
  if (b.value.len < 33 || b.value.ptr[0] != VOTING_RECORD_VERSION) cli_die("the counted record does not decode");
  memcpy(tr, b.value.ptr + 1, 32);
  char trh[65];
  ve_hex_encode(trh, tr, 32);
  int out = 0;
  if (want && strcmp(want, trh)) {
    printf("NOT COUNTED: the ballot counted for you after height %llu has tracker %s, not %s "
           "(a later ballot of yours replaced it?)\n", (unsigned long long)b.height, trh, want);
    out = 1;
  } else {
    printf("COUNTED: on chain %s, after height %llu, voter %s's counted ballot in poll %s has tracker %s%s\n"
           "  certified in block %llu by %u validator signatures (more than 2/3 of power %llu)\n",
           g->chain_id, (unsigned long long)b.height, voter, poll, trh, want ? " (yours)" : "",
           (unsigned long long)b.height + 1, res.signatures, (unsigned long long)res.total_power);
  }
  proof_bundle_free(&b);
  return out;
}

static int poll_receipt(int argc, char **argv) {
  static const struct option opts[] = {{"genesis", 1, 0, 'g'}, {"receipt", 1, 0, 'r'}, {"poll", 1, 0, 'P'},
                                       {"voter", 1, 0, 'v'},   {"key", 1, 0, 'k'},     {"tracker", 1, 0, 't'},
                                       {"height", 1, 0, 'H'},  {"save", 1, 0, 's'},    {"bundle", 1, 0, 'b'},
                                       {"node", 1, 0, 'n'},    {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
  const char *genesis = NULL, *rfile = NULL, *poll = NULL, *voter = NULL, *key = NULL, *tracker = NULL;
  const char *height = NULL, *save = NULL, *bundle = NULL, *node = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
      case 'g': genesis = optarg; break;
      case 'r': rfile = optarg; break;
      case 'P': poll = optarg; break;
      case 'v': voter = optarg; break;
      case 'k': key = optarg; break;
      case 't': tracker = optarg; break;
      case 'H': height = optarg; break;
      case 's': save = optarg; break;
      case 'b': bundle = optarg; break;
      case 'n': node = optarg; break;
      case 'h': cli_help(RECEIPT_USAGE);
      default: cli_usage(RECEIPT_USAGE);
    }
  }
  if (optind != argc || !genesis) cli_usage(RECEIPT_USAGE);
  static ledger_genesis_t g;
  cons_valset_t vs;
  pc_genesis_load(genesis, &g, &vs);
  json_error_t je;
  if (bundle) {
    json_t *j = json_load_file(bundle, JSON_REJECT_DUPLICATES, &je);
    if (!j) cli_die("%s:%d: %s", bundle, je.line, je.text);
    int rc = receipt_check(&g, &vs, j);
    json_decref(j);
    return rc;
  }
  char pidh[65], vidh[65], trh[65] = "";
  if (rfile) {
    json_t *r = json_load_file(rfile, JSON_REJECT_DUPLICATES, &je);
    if (!r) cli_die("%s:%d: %s", rfile, je.line, je.text);
    const char *f = json_string_value(json_object_get(r, "format"));
    if (!f || strcmp(f, PC_RECEIPT_FORMAT)) cli_die("%s: not a ballot receipt", rfile);
    snprintf(pidh, sizeof pidh, "%s", js(r, "poll"));
    snprintf(vidh, sizeof vidh, "%s", js(r, "voter"));
    snprintf(trh, sizeof trh, "%s", js(r, "tracker"));
    json_decref(r);
  } else {
    if (!poll || (!voter && !key)) cli_usage(RECEIPT_USAGE);
    snprintf(pidh, sizeof pidh, "%s", poll);
    if (voter) {
      snprintf(vidh, sizeof vidh, "%s", voter);
    } else {
      pc_txopts_t to = {.node = node, .key = key};
      pc_signer_t s;
      pc_signer_open(&s, &to);
      ve_hex_encode(vidh, s.identity, 32);
      pc_signer_close(&s);
    }
    if (tracker) snprintf(trh, sizeof trh, "%s", tracker);
  }
  uint8_t tmp[32];
  parse_id("poll id", pidh, tmp);
  parse_id("voter id", vidh, tmp);
  if (trh[0]) parse_id("tracker", trh, tmp);
  cli_node_t n;
  cli_node_parse(&n, node);
  char path[256];
  int len = snprintf(path, sizeof path, "/v1/polls/%s/ballots/%s", pidh, vidh);
  if (height) snprintf(path + len, sizeof path - (size_t)len, "?height=%llu",
                       (unsigned long long)pc_height_arg("--height", height, 0));
  json_t *j = NULL;
  int st = cli_http_json(&n, "GET", path, NULL, &j);
  if (st != 200 || !j) cli_die("%d %s", st, j ? json_string_value(json_object_get(j, "message")) : "no answer");
  json_t *r = json_pack("{s:s, s:i, s:s, s:s, s:O}", "format", PC_RECEIPT_FORMAT, "version", 1, "poll", pidh, "voter",
                        vidh, "bundle", json_object_get(j, "bundle"));
  if (trh[0]) json_object_set_new(r, "expected_tracker", json_string(trh));
  json_decref(j);
  if (save && json_dump_file(r, save, JSON_INDENT(2)) != 0) cli_die("cannot write %s", save);
  int rc = receipt_check(&g, &vs, r);
  json_decref(r);
  return rc;
}

/* ---- dispatch ---- */

int cmd_poll(int argc, char **argv) {
  if (argc < 2) cli_usage(POLL_USAGE);
  const char *sub = argv[1];
  if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) cli_help(POLL_USAGE);
  if (vote_init()) cli_die("cannot initialise the voting library");
  argc--, argv++;
  optind = 1;
  if (!strcmp(sub, "create")) return poll_create(argc, argv);
  if (!strcmp(sub, "cancel")) return poll_cancel(argc, argv);
  if (!strcmp(sub, "show")) return poll_show(argc, argv, false);
  if (!strcmp(sub, "list")) return poll_show(argc, argv, true);
  if (!strcmp(sub, "vote")) return poll_vote(argc, argv);
  if (!strcmp(sub, "receipt")) return poll_receipt(argc, argv);
  if (!strcmp(sub, "trustee-keygen")) return cmd_poll_trustee_keygen(argc, argv);
  if (!strcmp(sub, "trustee-register")) return cmd_poll_trustee_register(argc, argv);
  if (!strcmp(sub, "dkg")) return cmd_poll_dkg(argc, argv);
  if (!strcmp(sub, "decrypt")) return cmd_poll_decrypt(argc, argv);
  fprintf(stderr, "veche: poll: unknown command \"%s\"\n", sub);
  fputs(POLL_USAGE, stderr);
  return 2;
}
