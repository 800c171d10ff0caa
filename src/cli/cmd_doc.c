/* cmd_doc.c — `veche doc`: register, share, fetch, supersede, revoke, erase,
 * renew and verify documents (docs/documents.md). This file parses the options,
 * dispatches, and builds the transactions; reads and offline verification are
 * in cmd_doc_read.c, shared helpers in cmd_doc_util.c.
 *
 * Encryption happens here, on the client: a fresh document key per version
 * from the OS RNG; the key leaves this process only wrapped to an identity's
 * public key (a grant), and is wiped after use. The nonce is derived from the
 * key and the content digest (DOC_TAG_NONCE): the key encrypts this one content
 * only, so the nonce is still never reused, and whoever holds the key and the
 * file can rebuild the exact blob (`doc upload`, after a failed upload). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "cli/cmd_doc_int.h"

/* nonce = first 24 bytes of H(DOC_TAG_NONCE, key || alg || content digest) */
#define DOC_TAG_NONCE "veche/doc/nonce"

static const char DOC_USAGE[] =
    "usage: veche doc SUBCOMMAND [ARGS] [options]     (veche doc SUBCOMMAND --help)\n"
    "\n"
    "Documents on the ledger: the ledger records a document's digest, issuer, subject,\n"
    "type and status; its bytes may be stored encrypted beside the chain, readable by\n"
    "the identities the issuer grants the key to.\n"
    "\n"
    "Issuing (signer: a notary or registrar; --key FILE):\n"
    "  register FILE --type T --subject ID [--encrypt] [--alg A] [--valid-from MS]\n"
    "           [--valid-until MS] [--metadata-digest HEX]\n"
    "                        register FILE; --encrypt also stores it encrypted and\n"
    "                        grants the key to the signer\n"
    "  supersede OLD FILE [--type T] [--subject ID] [--encrypt] [...as register]\n"
    "                        register FILE as the new version of document OLD\n"
    "  revoke DOC [--reason TEXT]       revoke a document\n"
    "  erase DOC [--reason TEXT]        destroy the key: grants and blob are deleted,\n"
    "                                   the record remains\n"
    "  grant DOC --to ID                give identity ID the document key\n"
    "  revoke-grant DOC --to ID         stop serving ID the key (cannot unread)\n"
    "  renew DOC --alg A [--file FILE]  re-anchor the record's evidence under A\n"
    "  upload DOC FILE                  rebuild DOC's encrypted blob from FILE and\n"
    "                                   the signer's grant, and upload it\n"
    "\n"
    "Reading (--key FILE of the reader for fetch):\n"
    "  fetch DOC --out FILE             grant -> unwrap -> blob -> decrypt -> check\n"
    "  show DOC | show --file FILE [--alg A]      the record, as JSON\n"
    "  proof DOC [--height H] [--out B]           proof bundle of the record\n"
    "  proof --file FILE [--alg A] [--out B]      bundles for the file's digest\n"
    "  verify FILE --genesis G --bundle B [--bundle B2 ...]\n"
    "                        offline: is FILE registered, by whom, when, current?\n"
    "\n"
    "Common options:\n"
    "  --node HOST:PORT   node to talk to (default $VECHE_NODE or " CLI_NODE_DEFAULT ")\n"
    "  --key FILE         the signer's (or reader's) key file\n"
    "\n"
    "Algorithms (--alg): blake2b-256 (default), sha256, sha512, blake2b-512.\n";

/* Per-subcommand help: the lines of DOC_USAGE are the reference; each
 * subcommand adds what it does in detail. */
static const struct {
  const char *name;
  const char *help;
} DOC_HELP[] = {
    {"register",
     "usage: veche doc register FILE --type T --subject ID --key K [--encrypt] [--alg A]\n"
     "                          [--valid-from MS] [--valid-until MS] [--metadata-digest HEX]\n"
     "\n"
     "Registers FILE's digest (under --alg, default blake2b-256) as a document of type T\n"
     "(1..32 of a-z 0-9 _ . -) about identity ID, issued by the signer (who needs the\n"
     "notary or registrar role). --valid-from/--valid-until are Unix milliseconds.\n"
     "With --encrypt, FILE (at most 16 MiB) is encrypted here with a fresh key, the\n"
     "record names the encrypted blob, the blob is uploaded, and the key is granted\n"
     "to the signer, so that it can grant it to others later. Prints the document id.\n"},
    {"supersede",
     "usage: veche doc supersede OLD FILE --key K [--type T] [--subject ID] [--encrypt] [...]\n"
     "\n"
     "Registers FILE as the new version of document OLD (which must be current);\n"
     "OLD becomes superseded. Type and subject default to OLD's. An encrypted new\n"
     "version gets a new key: grant it again to its readers.\n"},
    {"revoke",
     "usage: veche doc revoke DOC --key K [--reason TEXT]\n"
     "\n"
     "Revokes document DOC (its issuer or an admin). Verifiers then see it revoked,\n"
     "with the reason (at most 256 bytes).\n"},
    {"erase",
     "usage: veche doc erase DOC --key K [--reason TEXT]\n"
     "\n"
     "Destroys DOC's key on the ledger: every grant is deleted and every node deletes\n"
     "the encrypted blob. The record of the document's existence stays. Readers who\n"
     "already decrypted it keep what they read.\n"},
    {"grant",
     "usage: veche doc grant DOC --to ID --key K\n"
     "\n"
     "Gives identity ID the document key: the signer's own grant is opened, and the\n"
     "key is wrapped to ID's current public key on the ledger. Only the issuer grants.\n"},
    {"revoke-grant",
     "usage: veche doc revoke-grant DOC --to ID --key K\n"
     "\n"
     "Deletes ID's grant: nodes stop serving ID the wrapped key. It cannot take back\n"
     "a key or a document already read.\n"},
    {"renew",
     "usage: veche doc renew DOC --alg A --key K [--file FILE]\n"
     "\n"
     "Adds an evidence renewal under algorithm A, anchored at the latest certified\n"
     "state: with --file, FILE's digest under A too (FILE must be the document);\n"
     "without, an evidence-only renewal. Signer: the issuer, any notary or an admin.\n"},
    {"upload",
     "usage: veche doc upload DOC FILE --key K\n"
     "\n"
     "Rebuilds document DOC's encrypted blob from FILE and the document key (opened\n"
     "from the signer's grant), checks that it is exactly the blob the record names,\n"
     "and uploads it. For a `doc register --encrypt` whose upload did not finish, or\n"
     "a node that lacks the blob.\n"},
    {"fetch",
     "usage: veche doc fetch DOC --out FILE --key K\n"
     "\n"
     "Reads the signer's grant on DOC, opens the document key with K, downloads the\n"
     "encrypted blob, decrypts it, checks it against the record's digest and writes\n"
     "FILE (mode 0600). Fails without a grant, with a wrong key, or if any byte differs.\n"},
    {"show",
     "usage: veche doc show DOC | veche doc show --file FILE [--alg A]\n"
     "\n"
     "Prints the record of DOC, or of the document registered with FILE's digest.\n"},
    {"proof",
     "usage: veche doc proof DOC [--height H] [--out B]\n"
     "       veche doc proof --file FILE [--alg A] [--height H] [--out B]\n"
     "\n"
     "Saves proof bundles (docs/proofs.md) for `veche doc verify`: of the record DOC\n"
     "(one bundle, also checkable with `veche verify`), or, with --file, of FILE's\n"
     "digest entry and, when registered, of its record (a JSON array of bundles).\n"
     "Default height: the latest certified state. Without --out: stdout.\n"},
    {"verify",
     "usage: veche doc verify FILE --genesis G --bundle B [--bundle B2 ...]\n"
     "\n"
     "Offline, no node: checks each bundle against the validators of genesis G, and\n"
     "says whether FILE is registered, by whom, when, and whether it is current,\n"
     "superseded or revoked (as of the bundle's height), with its evidence chain.\n"
     "Exit status: 0 registered and valid; 3 proven but not valid (revoked,\n"
     "superseded, expired, not yet valid) or proven not registered; 1 not proven\n"
     "(a bundle does not verify, or is about another file).\n"},
};

_Noreturn static void sub_help(const char *sub) {
  for (size_t i = 0; i < sizeof DOC_HELP / sizeof DOC_HELP[0]; i++)
    if (!strcmp(DOC_HELP[i].name, sub)) cli_help(DOC_HELP[i].help);
  cli_help(DOC_USAGE);
}

static void parse(int argc, char **argv, doc_opts_t *o) {
  static const struct option opts[] = {
      {"key", 1, 0, 'k'},         {"node", 1, 0, 'n'},        {"type", 1, 0, 't'},
      {"subject", 1, 0, 's'},     {"alg", 1, 0, 'a'},         {"metadata-digest", 1, 0, 'm'},
      {"to", 1, 0, 'T'},          {"reason", 1, 0, 'r'},      {"file", 1, 0, 'f'},
      {"out", 1, 0, 'o'},         {"height", 1, 0, 'H'},      {"genesis", 1, 0, 'g'},
      {"bundle", 1, 0, 'b'},      {"valid-from", 1, 0, 'F'},  {"valid-until", 1, 0, 'U'},
      {"encrypt", 0, 0, 'e'},     {"help", 0, 0, 'h'},        {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  o->sub = argv[1];
  optind = 2;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'k': o->key = optarg; break;
      case 'n': o->node = optarg; break;
      case 't': o->type = optarg; break;
      case 's': o->subject = optarg; break;
      case 'a': o->alg = optarg; break;
      case 'm': o->metadata = optarg; break;
      case 'T': o->to = optarg; break;
      case 'r': o->reason = optarg; break;
      case 'f': o->file = optarg; break;
      case 'o': o->out = optarg; break;
      case 'H': o->height = optarg; break;
      case 'g': o->genesis = optarg; break;
      case 'b':
        if (o->n_bundles == DOC_BUNDLES_MAX) cli_die("at most %d --bundle", DOC_BUNDLES_MAX);
        o->bundles[o->n_bundles++] = optarg;
        break;
      case 'F': o->valid_from = optarg; break;
      case 'U': o->valid_until = optarg; break;
      case 'e': o->encrypt = true; break;
      case 'h': sub_help(o->sub);
      default: fprintf(stderr, "veche: doc %s: bad option (see veche doc %s --help)\n", o->sub, o->sub); exit(2);
    }
  }
  for (; optind < argc; optind++) {
    if (o->n_args == DOC_ARGS_MAX) cli_die("doc %s: too many arguments (see --help)", o->sub);
    o->args[o->n_args++] = argv[optind];
  }
}

/* Dies unless exactly n positional arguments were given. */
static void want_args(const doc_opts_t *o, size_t n, const char *what) {
  if (o->n_args != n) {
    fprintf(stderr, "veche: doc %s needs %s (see veche doc %s --help)\n", o->sub, what, o->sub);
    exit(2);
  }
}

static uint64_t parse_u64(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end || errno || s[0] == '-') cli_die("%s must be a decimal number", what);
  return v;
}

static bool type_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > DOCUMENTS_TYPE_BYTES_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("_.-", s[i]))) return false;
  return true;
}

/* ---- register and supersede ---- */

static void derive_nonce(uint8_t nonce[DOCUMENTS_NONCE_BYTES], const uint8_t key[DOCUMENTS_KEY_BYTES],
                         const documents_digest_t *d) {
  uint8_t m[DOCUMENTS_KEY_BYTES + 1 + DOCUMENTS_DIGEST_BYTES_MAX], h[VCRYPTO_HASH_BYTES];
  size_t n = documents_alg_digest_bytes(d->alg);
  memcpy(m, key, DOCUMENTS_KEY_BYTES);
  m[DOCUMENTS_KEY_BYTES] = d->alg;
  memcpy(m + DOCUMENTS_KEY_BYTES + 1, d->bytes, n);
  vcrypto_hash(h, DOC_TAG_NONCE, m, DOCUMENTS_KEY_BYTES + 1 + n);
  memcpy(nonce, h, DOCUMENTS_NONCE_BYTES);
  vcrypto_wipe(m, sizeof m);
  vcrypto_wipe(h, sizeof h);
}

/* Encrypts plain (whose digest is d) under key into blob; blob_id gets its id. */
static void encrypt_blob(ve_buf_t *blob, uint8_t blob_id[32], const ve_buf_t *plain, const documents_digest_t *d,
                         const uint8_t key[DOCUMENTS_KEY_BYTES], const char *file) {
  uint8_t nonce[DOCUMENTS_NONCE_BYTES];
  derive_nonce(nonce, key, d);
  ve_buf_init(blob, DOCUMENTS_BLOB_BYTES_MAX);
  int rc = documents_blob_encrypt(blob, blob_id, plain->ptr, plain->len, key, nonce);
  if (rc) cli_die("cannot encrypt %s: %s", file, ve_strerror(rc));
}

typedef struct {
  documents_spec_t spec;
  ve_buf_t blob;                      /* when encrypting */
  uint8_t key[DOCUMENTS_KEY_BYTES];   /* document key, when encrypting */
} new_version_t;

/* Fills the spec from the options (defaults from old, if any) and, with
 * --encrypt, encrypts FILE. */
static void new_version(const doc_opts_t *o, const char *file, const documents_record_t *old, new_version_t *v) {
  memset(v, 0, sizeof *v);
  documents_spec_t *s = &v->spec;
  const char *type = o->type ? o->type : old ? old->spec.type : NULL;
  if (!type) cli_die("doc %s needs --type T", o->sub);
  if (!type_ok(type)) cli_die("--type must be 1..%d characters of a-z 0-9 _ . - (got \"%s\")", DOCUMENTS_TYPE_BYTES_MAX, type);
  snprintf(s->type, sizeof s->type, "%s", type);
  if (o->subject) cli_hex32("--subject", o->subject, s->subject);
  else if (old) memcpy(s->subject, old->spec.subject, 32);
  else cli_die("doc %s needs --subject ID (the identity the document is about)", o->sub);
  if (o->metadata) cli_hex32("--metadata-digest", o->metadata, s->metadata_digest);
  if (o->valid_from || o->valid_until) {
    s->has_validity = true;
    s->not_before_ms = o->valid_from ? parse_u64(o->valid_from, "--valid-from") : 0;
    s->not_after_ms = o->valid_until ? parse_u64(o->valid_until, "--valid-until") : UINT64_MAX;
    if (s->not_after_ms <= s->not_before_ms) cli_die("--valid-until must be after --valid-from");
  }
  unsigned alg = doc_alg_parse(o->alg);
  documents_digest_t d[DOCUMENTS_ALG_MAX + 1];
  if (!o->encrypt) {
    doc_file_digests(file, 1u << alg, d);
    s->digest = d[alg];
    return;
  }
  ve_buf_t plain;
  doc_file_read(file, DOCUMENTS_CONTENT_BYTES_MAX, &plain);
  if (documents_digest_file_bytes(&s->digest, alg, plain.ptr, plain.len)) cli_die("cannot digest %s", file);
  vcrypto_random(v->key, sizeof v->key);
  encrypt_blob(&v->blob, s->blob_id, &plain, &s->digest, v->key, file);
  ve_buf_wipe_free(&plain);
  s->has_blob = true;
  s->blob_bytes = v->blob.len;
}

/* Wraps key to identity `to` (its current key, from the node) and submits the grant. */
static uint64_t grant_to(doc_ctx_t *c, const uint8_t doc[32], const uint8_t to[32], const uint8_t key[DOCUMENTS_KEY_BYTES]) {
  char hex[65], path[128];
  uint8_t pk[32];
  snprintf(path, sizeof path, "/v1/identities/%s", doc_hex(hex, to, 32));
  json_t *j = cli_get_json(&c->node, path, "recipient identity");
  const char *s = json_string_value(json_object_get(j, "pk"));
  if (!s || ve_hex_decode(pk, 32, s)) cli_die("the node sent a malformed identity");
  json_decref(j);
  uint8_t seed[DOCUMENTS_WRAP_SEED_BYTES], wrapped[DOCUMENTS_WRAPPED_KEY_BYTES];
  vcrypto_random(seed, sizeof seed);
  int rc = documents_key_wrap(wrapped, key, pk, seed);
  vcrypto_wipe(seed, sizeof seed);
  if (rc) cli_die("cannot wrap the key to identity %s: %s", hex, ve_strerror(rc));
  ve_buf_t p;
  ve_buf_init(&p, VE_TX_PAYLOAD_BYTES_MAX);
  if (documents_payload_grant(&p, doc, to, pk, wrapped)) cli_die("cannot build the grant");
  uint64_t h = doc_submit(c, TX_TYPE_DOCUMENT_GRANT, &p, "grant");
  ve_buf_free(&p);
  return h;
}

static int cmd_register(const doc_opts_t *o, bool supersede) {
  want_args(o, supersede ? 2 : 1, supersede ? "OLD FILE" : "FILE");
  doc_ctx_t c;
  doc_ctx_open(&c, o, true);
  uint8_t old_id[32];
  static documents_record_t old;
  if (supersede) {
    cli_hex32("OLD", o->args[0], old_id);
    doc_record_get(&c.node, old_id, &old);
  }
  const char *file = o->args[supersede ? 1 : 0];
  new_version_t v;
  new_version(o, file, supersede ? &old : NULL, &v);
  ve_buf_t p;
  ve_buf_init(&p, VE_TX_PAYLOAD_BYTES_MAX);
  int rc = supersede ? documents_payload_supersede(&p, old_id, &v.spec) : documents_payload_register(&p, &v.spec);
  if (rc) cli_die("cannot build the transaction: %s", ve_strerror(rc));
  uint64_t h = doc_submit(&c, supersede ? TX_TYPE_DOCUMENT_SUPERSEDE : TX_TYPE_DOCUMENT_REGISTER, &p,
                          supersede ? "supersede" : "register");
  ve_buf_free(&p);
  uint8_t id[32];
  documents_id(id, c.me, &v.spec.digest);
  if (v.spec.has_blob) {
    /* The grant first: with the key on the ledger, a failed upload can be
     * redone with `doc upload` (the blob is rebuilt from FILE and the key). */
    grant_to(&c, id, c.me, v.key);
    vcrypto_wipe(v.key, sizeof v.key);
    doc_blob_upload(&c.node, id, ve_buf_slice(&v.blob));
    ve_buf_free(&v.blob);
  }
  char hex[2 * DOCUMENTS_DIGEST_BYTES_MAX + 1];
  json_t *out = json_object();
  json_object_set_new(out, "document", json_string(doc_hex(hex, id, 32)));
  if (supersede) json_object_set_new(out, "supersedes", json_string(doc_hex(hex, old_id, 32)));
  json_object_set_new(out, "height", json_integer((json_int_t)h));
  json_object_set_new(out, "issuer", json_string(doc_hex(hex, c.me, 32)));
  json_object_set_new(out, "digest_alg", json_string(documents_alg_name(v.spec.digest.alg)));
  json_object_set_new(out, "digest", json_string(doc_hex(hex, v.spec.digest.bytes, documents_alg_digest_bytes(v.spec.digest.alg))));
  if (v.spec.has_blob) {
    json_object_set_new(out, "blob_id", json_string(doc_hex(hex, v.spec.blob_id, 32)));
    json_object_set_new(out, "blob_bytes", json_integer((json_int_t)v.spec.blob_bytes));
    json_object_set_new(out, "granted_to", json_string(doc_hex(hex, c.me, 32)));
  }
  cli_print_json(out);
  json_decref(out);
  doc_ctx_close(&c);
  return 0;
}

/* ---- the other transactions ---- */

static void print_committed(const char *what, const uint8_t doc[32], uint64_t h) {
  char hex[65];
  printf("{\n  \"%s\": \"committed\",\n  \"document\": \"%s\",\n  \"height\": %llu\n}\n", what, doc_hex(hex, doc, 32),
         (unsigned long long)h);
}

static int cmd_revoke_erase(const doc_opts_t *o, bool erase) {
  want_args(o, 1, "DOC");
  uint8_t doc[32];
  cli_hex32("DOC", o->args[0], doc);
  const char *reason = o->reason ? o->reason : "";
  if (strlen(reason) > DOCUMENTS_REASON_BYTES_MAX) cli_die("--reason is longer than %d bytes", DOCUMENTS_REASON_BYTES_MAX);
  doc_ctx_t c;
  doc_ctx_open(&c, o, true);
  ve_buf_t p;
  ve_buf_init(&p, VE_TX_PAYLOAD_BYTES_MAX);
  if ((erase ? documents_payload_erase : documents_payload_revoke)(&p, doc, reason)) cli_die("cannot build the transaction");
  uint64_t h = doc_submit(&c, erase ? TX_TYPE_DOCUMENT_ERASE : TX_TYPE_DOCUMENT_REVOKE, &p, erase ? "erase" : "revoke");
  ve_buf_free(&p);
  print_committed(erase ? "erase" : "revoke", doc, h);
  doc_ctx_close(&c);
  return 0;
}

static int cmd_grant(const doc_opts_t *o, bool revoke) {
  want_args(o, 1, "DOC");
  uint8_t doc[32], to[32];
  cli_hex32("DOC", o->args[0], doc);
  if (!o->to) cli_die("doc %s needs --to ID", o->sub);
  cli_hex32("--to", o->to, to);
  doc_ctx_t c;
  doc_ctx_open(&c, o, true);
  uint64_t h;
  if (revoke) {
    ve_buf_t p;
    ve_buf_init(&p, VE_TX_PAYLOAD_BYTES_MAX);
    if (documents_payload_grant_revoke(&p, doc, to)) cli_die("cannot build the transaction");
    h = doc_submit(&c, TX_TYPE_DOCUMENT_GRANT_REVOKE, &p, "revoke-grant");
    ve_buf_free(&p);
  } else {
    uint8_t key[DOCUMENTS_KEY_BYTES];
    doc_grant_key(&c, doc, key);
    h = grant_to(&c, doc, to, key);
    vcrypto_wipe(key, sizeof key);
  }
  print_committed(revoke ? "revoke-grant" : "grant", doc, h);
  doc_ctx_close(&c);
  return 0;
}

static int cmd_upload(const doc_opts_t *o) {
  want_args(o, 2, "DOC FILE");
  uint8_t doc[32];
  cli_hex32("DOC", o->args[0], doc);
  doc_ctx_t c;
  doc_ctx_open(&c, o, false);
  static documents_record_t rec;
  doc_record_get(&c.node, doc, &rec);
  if (!rec.spec.has_blob || rec.key_erased) cli_die("document %s names no blob to upload (or was erased)", o->args[0]);
  ve_buf_t plain, blob;
  doc_file_read(o->args[1], DOCUMENTS_CONTENT_BYTES_MAX, &plain);
  if (documents_content_check(&rec, plain.ptr, plain.len))
    cli_die("%s is not the registered content of document %s", o->args[1], o->args[0]);
  uint8_t key[DOCUMENTS_KEY_BYTES], id[32];
  doc_grant_key(&c, doc, key);
  encrypt_blob(&blob, id, &plain, &rec.spec.digest, key, o->args[1]);
  vcrypto_wipe(key, sizeof key);
  ve_buf_wipe_free(&plain);
  if (documents_blob_check(&rec, blob.ptr, blob.len))
    cli_die("%s under this key does not give the recorded blob (was it encrypted by another tool?)", o->args[1]);
  doc_blob_upload(&c.node, doc, ve_buf_slice(&blob));
  ve_buf_free(&blob);
  char hex[65];
  printf("{\n  \"upload\": \"stored\",\n  \"document\": \"%s\",\n  \"blob_bytes\": %llu\n}\n", doc_hex(hex, doc, 32),
         (unsigned long long)rec.spec.blob_bytes);
  doc_ctx_close(&c);
  return 0;
}

#define DOC_ANCHOR_WAIT_MS 30000

static int cmd_renew(const doc_opts_t *o) {
  want_args(o, 1, "DOC");
  if (!o->alg) cli_die("doc renew needs --alg A");
  unsigned alg = doc_alg_parse(o->alg);
  uint8_t doc[32];
  cli_hex32("DOC", o->args[0], doc);
  doc_ctx_t c;
  doc_ctx_open(&c, o, true);
  static documents_record_t rec;
  doc_record_get(&c.node, doc, &rec);
  documents_digest_t d[DOCUMENTS_ALG_MAX + 1];
  if (o->file) {
    doc_file_digests(o->file, (1u << alg) | (1u << rec.spec.digest.alg), d);
    const documents_digest_t *reg = &d[rec.spec.digest.alg];
    if (memcmp(reg->bytes, rec.spec.digest.bytes, documents_alg_digest_bytes(reg->alg)) != 0)
      cli_die("%s is not the registered content of document %s", o->file, o->args[0]);
  }
  /* Anchor: the latest state a block certifies, at or after the last layer. */
  uint64_t last = rec.n_renewals ? rec.renewals[rec.n_renewals - 1].height : rec.registered_height, tip = 0;
  for (int waited = 0;; waited += 100) {
    json_t *j = cli_get_json(&c.node, "/v1/status", "node status");
    tip = (uint64_t)json_integer_value(json_object_get(j, "height"));
    json_decref(j);
    if (tip >= last + 1) break;
    if (waited > DOC_ANCHOR_WAIT_MS) cli_die("no block after height %llu yet to anchor to", (unsigned long long)last);
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
  }
  char path[64];
  snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)tip);
  json_t *b = cli_get_json(&c.node, path, "block");
  uint8_t root[32];
  const char *r = json_string_value(json_object_get(json_object_get(b, "header"), "state_root"));
  if (!r || ve_hex_decode(root, 32, r)) cli_die("the node sent a malformed header");
  json_decref(b);
  ve_buf_t p;
  ve_buf_init(&p, VE_TX_PAYLOAD_BYTES_MAX);
  if (documents_payload_renew(&p, doc, alg, o->file ? d[alg].bytes : NULL, tip - 1, root)) cli_die("cannot build the transaction");
  uint64_t h = doc_submit(&c, TX_TYPE_DOCUMENT_RENEW, &p, "renew");
  ve_buf_free(&p);
  print_committed("renew", doc, h);
  doc_ctx_close(&c);
  return 0;
}

int cmd_doc(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    fputs(DOC_USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  doc_opts_t o;
  parse(argc, argv, &o);
  const char *s = o.sub;
  if (!strcmp(s, "register")) return cmd_register(&o, false);
  if (!strcmp(s, "supersede")) return cmd_register(&o, true);
  if (!strcmp(s, "revoke")) return cmd_revoke_erase(&o, false);
  if (!strcmp(s, "erase")) return cmd_revoke_erase(&o, true);
  if (!strcmp(s, "grant")) return cmd_grant(&o, false);
  if (!strcmp(s, "revoke-grant")) return cmd_grant(&o, true);
  if (!strcmp(s, "renew")) return cmd_renew(&o);
  if (!strcmp(s, "upload")) return cmd_upload(&o);
  if (!strcmp(s, "fetch")) return doc_cmd_fetch(&o);
  if (!strcmp(s, "show")) return doc_cmd_show(&o);
  if (!strcmp(s, "proof")) return doc_cmd_proof(&o);
  if (!strcmp(s, "verify")) return doc_cmd_verify(&o);
  fprintf(stderr, "veche: doc: unknown subcommand \"%s\"\n", s);
  fputs(DOC_USAGE, stderr);
  return 2;
}
