/* SPDX-License-Identifier: Apache-2.0 */
/* Names of everything sockvxctl pins, and access to the pinned objects. */
#ifndef SOCKVX_PINS_H
#define SOCKVX_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Programs and links pinned next to the maps (names are versioned too). */
#define SX_PIN_PROG_SOCKOPS "prog_sockops_v1"
#define SX_PIN_PROG_SK_MSG "prog_sk_msg_v1"
#define SX_PIN_PROG_SETSOCKOPT "prog_setsockopt_v1"
#define SX_PIN_LINK_SOCKOPS "link_sockops_v1"
#define SX_PIN_LINK_SETSOCKOPT "link_setsockopt_v1"
/* The TC dataplane's programs; tc filters reference them, they are pinned for reattaching. */
#define SX_PIN_PROG_FROM_POD "prog_from_pod_v1"
#define SX_PIN_PROG_TO_POD "prog_to_pod_v1"
#define SX_PIN_PROG_FROM_OVERLAY "prog_from_overlay_v1"
#define SX_PIN_PROG_TO_OVERLAY "prog_to_overlay_v1"

/* Every map name, for unload and status. */
extern const char *const sx_map_names[];
extern const size_t sx_map_count;

/* Builds "<pin_dir>/<name>". Returns -ENAMETOOLONG or 0. */
int sx_pin_path(char *buf, size_t len, const char *pin_dir, const char *name);
/*
 * Opens a pinned object. Returns an fd, or -errno; with quiet == 0 it prints
 * "sockvx is not loaded" style messages for a missing pin.
 */
int sx_pin_open(const char *pin_dir, const char *name, int quiet);
/*
 * Pins fd under name, replacing an older pin. The caller holds an fd to the
 * new object, which keeps it alive (and, for a link, attached) meanwhile.
 * 0 or -errno.
 */
int sx_pin_replace(int fd, const char *pin_dir, const char *name);
/* 1 if the pin exists, 0 if not. */
int sx_pin_exists(const char *pin_dir, const char *name);
/*
 * Serialises changes to a node's programs and pins: a flock on the directory
 * that holds the pin directory, which exists before the first load. sockvxctl
 * commands that change state (load, unload, accel ...) take it exclusive; the
 * CNI plugin takes it shared, so pods are wired in parallel but never while a
 * load re-pins programs or an unload removes them. Returns an fd to close, or
 * -errno.
 */
int sx_pins_lock(const char *pin_dir, bool exclusive);

/*
 * What sx_map_add_all changed in a map, so that a later step's failure can
 * put the map back as it was: keys it added are deleted, values it replaced
 * are restored.
 */
struct sx_map_undo {
	int fd;
	const char *keys;
	size_t key_size, value_size;
	int n;
	unsigned char *how;  /* per key: SX_UNDO_* */
	unsigned char *prev; /* the replaced values, value_size each */
};

/*
 * Adds every key of an array to a map with one value of value_size bytes
 * (update_flags: BPF_NOEXIST keeps an existing entry, BPF_ANY replaces it).
 * A list is applied whole or not at all: on a failure the map is put back as
 * it was. On success, with undo non-NULL, *undo records the change for
 * sx_map_undo or sx_map_undo_forget. names[i] names keys[i] in messages
 * (names may be NULL). 0 or -errno.
 */
int sx_map_add_all(int fd, const void *keys, size_t key_size, const void *value,
		   size_t value_size, int n, char **names, const char *what, __u64 update_flags,
		   struct sx_map_undo *undo);
/* Puts the map back as it was before sx_map_add_all, and frees the record. */
void sx_map_undo(struct sx_map_undo *undo);
/* Keeps the change and frees the record. */
void sx_map_undo_forget(struct sx_map_undo *undo);
#endif
