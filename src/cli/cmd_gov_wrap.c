/* cmd_gov_wrap.c — admin actions as council proposals (cmd_gov_int.h): the
 * --open-for / --note / --direct options, the choice between a direct
 * transaction and a GOV_PROPOSE, submitting a proposal, and saying where one
 * stands. Shared by `veche gov propose`, `veche tx` and `veche pharma`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cmd_gov_int.h"
#include "cli/cmd_upgrade_int.h"

/* ---- options ---- */

uint64_t gc_duration_arg(const char *s) {
  if (!s) return GC_OPEN_MS_DEFAULT;
  static const struct {
    char unit;
    uint64_t ms;
  } units[] = {{'s', 1000}, {'m', 60 * 1000}, {'h', 3600 * 1000}, {'d', 24 * 3600 * 1000}};
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  uint64_t ms = 0;
  bool ok = s[0] >= '0' && s[0] <= '9' && !errno && end[0] && !end[1];
  for (size_t i = 0; ok && i < sizeof units / sizeof units[0]; i++)
    if (end[0] == units[i].unit) ms = v <= UINT64_MAX / units[i].ms ? v * units[i].ms : UINT64_MAX;
  if (!ok || ms == 0 || ms < GOV_OPEN_MS_MIN || ms > GOV_OPEN_MS_MAX) {
    fprintf(stderr,
            "veche: --open-for must be a duration from 1 minute to 90 days, a number and a unit: 90s, 30m, 12h, 7d "
            "(not \"%s\")\n",
            s);
    exit(2);
  }
  return ms;
}

bool gc_admin_opt(int c, const char *arg, gc_admin_opts_t *o) {
  switch (c) {
    case GC_OPT_OPEN_FOR: o->open_for = arg; gc_duration_arg(arg); return true; /* checked at once */
    case GC_OPT_NOTE: o->note = arg; return true;
    case GC_OPT_DIRECT: o->direct = true; return true;
  }
  return false;
}

/* ---- reading the node ---- */

/* The roles of identity id (0 if the node does not know it: the ledger will
 * say not_found to the direct action). */
static size_t identity_roles(const cli_node_t *n, const uint8_t id[32]) {
  char hex[65], path[128];
  ve_hex_encode(hex, id, 32);
  snprintf(path, sizeof path, "/v1/identities/%s", hex);
  json_t *j = NULL;
  int st = cli_http_json(n, "GET", path, NULL, &j);
  if (st == 404) {
    json_decref(j);
    return 0;
  }
  if (st != 200 || !j) cli_die_answer(path, st, j);
  size_t roles = json_array_size(json_object_get(j, "roles"));
  json_decref(j);
  return roles;
}

bool gc_admin_wrap(const cli_node_t *n, const gc_admin_opts_t *o, const uint8_t *target) {
  if (o->direct) return false;
  upc_protocol_t p;
  upc_protocol_fetch(n, &p, NULL);
  if (p.protocol < LEDGER_PROTOCOL_COUNCIL) {
    if (o->open_for || o->note)
      fprintf(stderr, "veche: note: this chain runs protocol 1: the admin decides alone; --open-for and --note are "
                      "not used\n");
    return false;
  }
  return !target || identity_roles(n, target) > 0;
}

/* ---- proposing ---- */

int gc_propose(pc_signer_t *s, const pc_txopts_t *to, uint64_t open_ms, uint32_t type, ve_slice_t payload,
               const char *note) {
  size_t note_len = note ? strlen(note) : 0;
  if (note_len > GOV_NOTE_BYTES_MAX) cli_die("--note is %zu bytes; at most %d", note_len, GOV_NOTE_BYTES_MAX);
  if (type < GOV_INNER_TYPE_MIN || type > LEDGER_TX_TYPE_MAX)
    cli_die("a council decides application actions only: type 0x%04x is below 0x%04x", (unsigned)type,
            GOV_INNER_TYPE_MIN);
  if (payload.len > GOV_ACTION_BYTES_MAX)
    cli_die("the action's payload is %zu bytes; a proposal carries at most %d", payload.len, GOV_ACTION_BYTES_MAX);
  ve_buf_t pl;
  ve_buf_init(&pl, GOV_PAYLOAD_BYTES_MAX);
  int rc = gov_payload_propose(&pl, open_ms, type, payload, ve_slice(note ? note : "", note_len));
  if (rc) cli_die("cannot build the proposal: %s", ve_strerror(rc));
  /* The id names the proposer's identity and the proposing tx's sequence, so
   * it is known before anything is sent. */
  uint8_t id[LEDGER_HASH_BYTES];
  char idh[65];
  gov_proposal_id(id, s->identity, s->next_seq);
  ve_hex_encode(idh, id, sizeof id);
  rc = pc_submit(s, to, TX_TYPE_GOV_PROPOSE, ve_buf_slice(&pl), NULL);
  ve_buf_free(&pl);
  if (rc || to->print) return rc;
  if (to->wait) gc_proposal_say(&s->node, idh);
  else printf("proposal %s: submitted; `veche gov show %s` says where it stands\n", idh, idh);
  return 0;
}

/* The council, or dies saying there is none and how to get one. */
static json_t *council_fetch(const cli_node_t *n) {
  json_t *j = NULL;
  int st = cli_http_json(n, "GET", "/v1/gov/council", NULL, &j);
  if (st == 404)
    cli_die("this action is a council decision on this chain (protocol >= %d), and the chain has no council yet: "
            "its validators appoint one (`veche gov council-approve`, then `veche gov council-set`)",
            LEDGER_PROTOCOL_COUNCIL);
  if (st != 200 || !j) cli_die_answer("GET /v1/gov/council", st, j);
  return j;
}

int gc_admin_submit(pc_signer_t *s, const pc_txopts_t *to, const gc_admin_opts_t *o, uint32_t type,
                    ve_slice_t payload) {
  json_t *c = council_fetch(&s->node);
  char me[65];
  ve_hex_encode(me, s->identity, 32);
  bool member = false;
  size_t i;
  json_t *m;
  json_array_foreach(json_object_get(c, "members"), i, m) member |= !strcmp(cli_jstr(m, "id"), me);
  json_decref(c);
  if (!member) {
    char *hex = malloc(2 * payload.len + 1);
    if (!hex) cli_die("out of memory");
    ve_hex_encode(hex, payload.ptr, payload.len);
    fprintf(stderr,
            "veche: this action is a council decision on this chain, and %s is not a council member: ask a member "
            "to propose it:\n  veche gov propose --type 0x%04x --payload-hex %s --key MEMBER_KEY\n",
            me, (unsigned)type, hex);
    free(hex);
    return 1;
  }
  /* stderr: with --print, stdout is the signed tx alone */
  fprintf(stderr, "veche: admin action 0x%04x goes to the council as a proposal\n", (unsigned)type);
  return gc_propose(s, to, gc_duration_arg(o->open_for), type, payload, o->note);
}

/* ---- where a proposal stands ---- */

void gc_proposal_say(const cli_node_t *n, const char *id_hex) {
  char path[128];
  snprintf(path, sizeof path, "/v1/gov/proposals/%s", id_hex);
  json_t *j = cli_get_json(n, path, path);
  const char *status = cli_jstr(j, "status");
  long long approvals = (long long)json_array_size(json_object_get(j, "approvals"));
  long long rejections = (long long)json_array_size(json_object_get(j, "rejections"));
  long long needed = (long long)json_integer_value(json_object_get(j, "needed"));
  long long members = (long long)json_integer_value(json_object_get(j, "members"));
  if (!strcmp(status, "executed"))
    printf("proposal %s: executed at height %lld\n", id_hex, (long long)json_integer_value(json_object_get(j, "decided")));
  else if (!strcmp(status, "open"))
    printf("proposal %s: open, %lld of %lld approvals; others approve with `veche gov approve %s`\n", id_hex, approvals,
           needed, id_hex);
  else if (!strcmp(status, "rejected"))
    printf("proposal %s: rejected at height %lld (%lld objections of %lld members: %lld approvals can no longer "
           "reach %lld)\n",
           id_hex, (long long)json_integer_value(json_object_get(j, "decided")), rejections, members,
           members - rejections, needed);
  else
    printf("proposal %s: %s\n", id_hex, status);
  json_decref(j);
}
