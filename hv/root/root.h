/* The root OS: creating the child partition through hypercalls, the intercept loop, the
   device emulator. Context: root partition, ring 0, 64-bit, interrupts off. */
#pragma once
#include <stdint.h>

#include "../abi/partition.h"
#include "../common/hypercall.h"
#include "virt.h"  /* tests/virt/lib: printf and memcpy over the root's 16550 (console.c) */

#define HV_CHILD_STOPPED 0x100  /* a child's status when the hypervisor stopped it */

struct child_state {
    uint64_t partition_id;
    unsigned vps;
    int started_second;
    uint32_t scenario;
    int finished;
    uint32_t status;
    uint64_t intercepts, messages, events;
};

/* The emulated IDE disk (ide.c): 1 if the port is one of its registers (*result: what an IN
   reads). */
int root_ide_access(uint16_t port, int is_write, uint32_t value, uint64_t *result);

/* Emulate one intercepted I/O access of a child; *value is what an IN reads. Returns 0 when
   the access ends the child (debug-exit port) and must not be completed. */
int root_emulate_io(const struct hv_io_port_intercept *io, uint64_t *value, struct child_state *child);
