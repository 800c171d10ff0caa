/* cmd_backup.c — `veche backup`: a hot, consistent copy of a node's store.
 *
 * The node keeps running: its store is copied read-only from this second
 * process (node_backup -> store_lmdb_backup, one LMDB read snapshot,
 * compacted) into DEST/data, and the copy is marked as a backup taken at its
 * tip height, so that a validator restored from it refuses to sign until told
 * from which height it may (node_backup.c, docs/operations.md "Backups").
 * config.json and the genesis file are copied beside it (small, and a
 * restore needs them); key files are not: keys are backed up separately.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "cli/cli.h"
#include "node/config.h"
#include "node/node.h"

/* Genesis files are small (a few KiB per validator); bound what is read. */
#define CLI_BACKUP_FILE_BYTES_MAX (16u * 1024 * 1024)

static const char BACKUP_USAGE[] =
    "usage: veche backup --dir NODE_DIR --out DEST_DIR\n"
    "\n"
    "Copies the store (data/) of the node in NODE_DIR into DEST_DIR/data while\n"
    "the node runs: one consistent snapshot, compacted, without stopping it.\n"
    "DEST_DIR must not exist or be empty. The copy is marked as a backup taken\n"
    "at its height: a validator started on it refuses to sign until given\n"
    "`veche start --sign-from H` (see docs/operations.md, \"Backups\"); an\n"
    "observer just starts. config.json and genesis.json are copied too; key\n"
    "files are NOT (back them up separately). Prints the height and the path.\n";

/* 1: dir exists and holds nothing; 0: it does not exist; dies otherwise. */
static int dest_empty(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return 0;
    cli_die("%s: %s", dir, strerror(errno));
  }
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      closedir(d);
      cli_die("%s is not empty; refusing to write a backup into it", dir);
    }
  closedir(d);
  return 1;
}

/* Copies file src to dst (new, mode 0600). Returns 0 or an errno. */
static int file_copy(const char *src, const char *dst) {
  FILE *in = fopen(src, "rb");
  if (!in) return errno;
  FILE *out = fopen(dst, "wbx");
  if (!out) {
    int e = errno;
    fclose(in);
    return e;
  }
  chmod(dst, 0600);
  char buf[65536];
  size_t n, total = 0;
  int e = 0;
  while (!e && (n = fread(buf, 1, sizeof buf, in)) > 0) {
    total += n;
    if (total > CLI_BACKUP_FILE_BYTES_MAX) e = EFBIG;
    else if (fwrite(buf, 1, n, out) != n) e = errno ? errno : EIO;
  }
  if (!e && ferror(in)) e = EIO;
  if (fflush(out) != 0 && !e) e = errno;
  if (!e && fsync(fileno(out)) != 0) e = errno;
  fclose(in);
  if (fclose(out) != 0 && !e) e = errno;
  return e;
}

/* Removes what a failed backup wrote (nothing else: DEST was empty). */
static void dest_cleanup(const char *out, bool created) {
  static const char *files[] = {"data/data.mdb", "data/lock.mdb", "config.json", "genesis.json"};
  char path[NODE_PATH_BYTES_MAX];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    node_path_join(path, sizeof path, out, files[i]);
    unlink(path);
  }
  node_path_join(path, sizeof path, out, "data");
  rmdir(path);
  if (created) rmdir(out);
}

int cmd_backup(int argc, char **argv) {
  static const struct option opts[] = {{"dir", 1, 0, 'd'}, {"out", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *dir = NULL, *out = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "d:o:h", opts, NULL)) != -1) {
    if (o == 'd') dir = optarg;
    else if (o == 'o') out = optarg;
    else if (o == 'h') cli_help(BACKUP_USAGE);
    else cli_usage(BACKUP_USAGE);
  }
  if (!dir || !out || optind != argc) cli_usage(BACKUP_USAGE);
  char cfg_path[NODE_PATH_BYTES_MAX], err[1024] = "";
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) cli_die("%s: no such directory", dir);
  node_path_join(cfg_path, sizeof cfg_path, dir, "config.json");
  if (stat(cfg_path, &st) != 0) cli_die("%s is not a node directory (no config.json)", dir);
  node_config_t cfg;
  if (node_config_load(cfg_path, &cfg, err, sizeof err)) cli_die("%s", err);
  char data[NODE_PATH_BYTES_MAX], genesis[NODE_PATH_BYTES_MAX], dst[NODE_PATH_BYTES_MAX];
  node_path_join(data, sizeof data, cfg.dir, cfg.data_dir);
  node_path_join(genesis, sizeof genesis, cfg.dir, cfg.genesis_path);

  bool created = dest_empty(out) == 0;
  if (created && mkdir(out, 0700) != 0) cli_die("cannot create %s: %s", out, strerror(errno));
  node_path_join(dst, sizeof dst, out, "data");
  if (mkdir(dst, 0700) != 0) {
    int e = errno;
    dest_cleanup(out, created);
    cli_die("cannot create %s: %s", dst, strerror(e));
  }
  uint64_t height = 0, bytes = 0;
  int rc = node_backup(data, dst, &height, &bytes, err, sizeof err);
  if (rc) {
    dest_cleanup(out, created);
    cli_die("backup failed: %s", err[0] ? err : ve_strerror(rc));
  }
  char to[NODE_PATH_BYTES_MAX];
  node_path_join(to, sizeof to, out, "config.json");
  int e = file_copy(cfg_path, to);
  const char *what = cfg_path;
  if (!e) {
    node_path_join(to, sizeof to, out, "genesis.json");
    e = file_copy(genesis, to);
    what = genesis;
  }
  if (e) {
    dest_cleanup(out, created);
    cli_die("backup failed: cannot copy %s: %s", what, e == ENOSPC ? "disk full" : strerror(e));
  }
  printf("backup of %s at height %llu: %s (%llu bytes)\n", dir, (unsigned long long)height, dst,
         (unsigned long long)bytes);
  printf("  also copied: config.json, genesis.json; NOT copied: key files (back them up separately)\n");
  printf("  restoring a validator from it needs `veche start --sign-from H` once (docs/operations.md)\n");
  return 0;
}
