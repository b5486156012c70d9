/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sockvxctl doctor: checks what sockvx needs on this node, one finding per
 * line, each failure with the command or setting that fixes it.
 */
#ifndef SOCKVX_DOCTOR_H
#define SOCKVX_DOCTOR_H

struct sx_doctor_opts {
	const char *pin_dir;
	const char *cni_conf_dir; /* where runtimes read CNI configurations */
	const char *cni_bin_dir;  /* where they find the plugins */
	int json;
};

#define SX_CNI_BIN_DIR "/opt/cni/bin"

/* 0 when nothing failed (warnings allowed), 1 when something did, -errno. */
int sx_doctor(const struct sx_doctor_opts *o);

#endif
