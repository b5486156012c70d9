/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CNI errors: the spec's well-known codes, sockvx's own (100+), and the one
 * error a run reports. The first error recorded wins: it is the cause, and
 * what a rollback hits afterwards only goes to the log.
 */
#ifndef SOCKVX_CNI_ERROR_H
#define SOCKVX_CNI_ERROR_H

enum sx_cni_code {
	SX_CNI_OK = 0,
	SX_CNI_E_VERSION = 1,       /* incompatible CNI version */
	SX_CNI_E_FIELD = 2,         /* unsupported field in the network configuration */
	SX_CNI_E_CONTAINER = 3,     /* container unknown or does not exist */
	SX_CNI_E_ENV = 4,           /* invalid or missing environment variables */
	SX_CNI_E_IO = 5,            /* I/O failure */
	SX_CNI_E_DECODE = 6,        /* failed to decode content */
	SX_CNI_E_CONFIG = 7,        /* invalid network configuration */
	SX_CNI_E_TRY_AGAIN = 11,    /* try again later */
	SX_CNI_E_NOT_READY = 50,    /* STATUS: the plugin is not available */
	/* sockvx's own codes */
	SX_CNI_E_IPAM = 100,        /* the delegated IPAM plugin failed */
	SX_CNI_E_LINK = 101,        /* pod interface, address, route or neighbour */
	SX_CNI_E_DATAPLANE = 102,   /* pinned maps or programs */
	SX_CNI_E_EXISTS = 103,      /* ADD for an attachment that already exists */
	SX_CNI_E_DRIFT = 104,       /* CHECK: the pod's networking differs from prevResult */
};

struct sx_cni_error {
	int code;
	char msg[256];
	char details[1024];
};

/*
 * Records an error unless one is already recorded (the first is the cause).
 * details may be NULL. Returns the code recorded by this call or before.
 */
int sx_cni_fail(struct sx_cni_error *e, int code, const char *msg, const char *details_fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
