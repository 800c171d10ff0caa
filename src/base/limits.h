/* limits.h — limits that more than one module must agree on.
 *
 * A limit used by one module only lives in that module's header, named
 * MODULE_THING_MAX with its unit last. Every limit is checked before allocating.
 */
#ifndef VECHE_BASE_LIMITS_H
#define VECHE_BASE_LIMITS_H

#define VE_CHAIN_ID_BYTES_MAX 64         /* chain id string, e.g. "veche-devnet-1" */
#define VE_TX_BYTES_MAX (64 * 1024)      /* one encoded transaction */
#define VE_TX_PAYLOAD_BYTES_MAX (60 * 1024)
#define VE_BLOCK_TXS_MAX 20000           /* transactions in one block */
#define VE_BLOCK_BYTES_MAX (32 * 1024 * 1024)
#define VE_VALIDATORS_MAX 128            /* validators in one set */
#define VE_AUTHORITIES_MAX 256           /* founding authorities in genesis */
#define VE_NAME_BYTES_MAX 64             /* human names of validators/authorities */
#define VE_CODEC_DEPTH_MAX 8             /* nesting of encoded structures */
#define VE_NET_FRAME_BYTES_MAX (VE_BLOCK_BYTES_MAX + 64 * 1024)
#define VE_TX_EXPIRY_WINDOW_BLOCKS 100000 /* how far ahead a tx may set its expiry height */

#endif
