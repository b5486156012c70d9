/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading a socket's psock (the sockmap state behind sk_user_data), shared by
 * the sockops program and the unload drain. CO-RE keeps it valid across
 * kernel versions; msg_tot_len is recent, so it is used only where it exists.
 */
#ifndef SOCKVX_PSOCK_H
#define SOCKVX_PSOCK_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* sk_user_data carries flag bits below the psock pointer (SK_USER_DATA_*). */
#define SX_SK_USER_DATA_PTRMASK (~7UL)

static __always_inline struct sk_psock *sx_psock_from_user_data(unsigned long user_data)
{
	return (struct sk_psock *)(user_data & SX_SK_USER_DATA_PTRMASK);
}

/* Redirected bytes the socket's application has not read yet. */
static __always_inline int sx_psock_has_unread(struct sk_psock *psock)
{
	if (bpf_core_field_exists(psock->msg_tot_len) && BPF_CORE_READ(psock, msg_tot_len))
		return 1;
	return BPF_CORE_READ(psock, ingress_msg.next) != &psock->ingress_msg;
}

#endif
