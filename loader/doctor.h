/* SPDX-License-Identifier: Apache-2.0 */
/* sockvxctl doctor: what a node needs for sockvx, what is wrong, how to fix it. */
#ifndef SOCKVX_DOCTOR_H
#define SOCKVX_DOCTOR_H

#define SX_CNI_CONF_DIR "/etc/cni/net.d"
#define SX_CNI_BIN_DIR "/opt/cni/bin"

struct sx_doctor_opts {
	const char *pin_dir;
	const char *cni_conf_dir; /* where the container runtime reads its CNI configuration */
	const char *cni_bin_dir;  /* where it finds the plugins */
	int json;
};

/* Runs every check and prints the findings. 0 when nothing failed, else -EINVAL. */
int sx_doctor(const struct sx_doctor_opts *o);

#endif
