/* fuzz_state_map.h — the small fixed map the state proof harnesses and their
 * seed writer share: eight keys "key-0".."key-7" with values "value-0".."value-7",
 * committed as version 1 into a memory store. KEY_PRESENT is in it, KEY_ABSENT
 * is not. Header-only so that each harness stays one file plus this. */
#ifndef VECHE_TESTS_FUZZ_STATE_MAP_H
#define VECHE_TESTS_FUZZ_STATE_MAP_H

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "state/state.h"
#include "store/store.h"

#define FUZZ_MAP_KEYS 8
#define KEY_PRESENT "key-3"
#define VALUE_PRESENT "value-3"
#define KEY_ABSENT "key-9"

/* Opens a memory store holding the map; *root_out gets its root. */
static inline store_t *fuzz_state_map_open(uint8_t root_out[STATE_HASH_BYTES]) {
  static char keys[FUZZ_MAP_KEYS][8], vals[FUZZ_MAP_KEYS][10];
  state_change_t ch[FUZZ_MAP_KEYS];
  for (int i = 0; i < FUZZ_MAP_KEYS; i++) {
    snprintf(keys[i], sizeof keys[i], "key-%d", i);
    snprintf(vals[i], sizeof vals[i], "value-%d", i);
    ch[i] = (state_change_t){ve_slice(keys[i], strlen(keys[i])), ve_slice(vals[i], strlen(vals[i])),
                             false};
  }
  store_t *s;
  store_txn_t *t;
  VE_ASSERT(vcrypto_init() == VE_OK);
  VE_ASSERT(store_open_mem(&s) == VE_OK);
  VE_ASSERT(store_txn_begin(s, true, &t) == VE_OK);
  VE_ASSERT(state_commit(t, 1, ch, FUZZ_MAP_KEYS, root_out) == VE_OK);
  VE_ASSERT(store_txn_commit(t) == VE_OK);
  return s;
}

#endif
