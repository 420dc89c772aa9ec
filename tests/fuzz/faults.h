/*
 * faults.h: fault injection for the fuzz builds (pam-u2f fuzz/wrap.c habit).
 * The targets are linked with -Wl,--wrap=... for allocation and the OpenSSL
 * and jansson constructors the core calls; while armed, the Nth wrapped call
 * fails. N comes from the input itself, so every crash reproduces from its
 * file alone. Half of all inputs run without faults.
 */
#ifndef TS_FUZZ_FAULTS_H
#define TS_FUZZ_FAULTS_H

#include <stddef.h>
#include <stdint.h>

/* Arms the schedule for one input; returns 1 if a fault is scheduled. */
int faults_arm(const uint8_t *data, size_t size);
/* Disarms; returns how many faults were injected during the input. */
int faults_disarm(void);

#endif
