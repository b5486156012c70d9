/* SPDX-License-Identifier: Apache-2.0 */
/* Operator commands that change the pinned maps: endpoints, switches, ports. */
#ifndef SOCKVX_CONTROL_H
#define SOCKVX_CONTROL_H

/*
 * Registers pod addresses. With dev (the pod's host-side veth), also wires
 * them into the TC dataplane: from_pod on the veth, the veth's and (mac)
 * the pod's MAC in the entries.
 */
int sx_endpoint_add(const char *pin_dir, int argc, char **argv, const char *dev, const char *mac);
int sx_endpoint_del(const char *pin_dir, int argc, char **argv);
int sx_endpoint_list(const char *pin_dir, int json);
int sx_accel_set(const char *pin_dir, int on);
int sx_exclude_port(const char *pin_dir, int add, int argc, char **argv);
int sx_exclude_port_list(const char *pin_dir, int json);

#endif
