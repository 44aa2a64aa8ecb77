/* Conventions between the demo's child kernels and the simulator's passive accounting
   (sim/machine/partition_accounting.cpp): a scenario starts when the child writes its number
   to the scenario port. In a child partition that OUT is an intercepted I/O access like any
   other (the root's emulator completes it); the accounting recognises it at the VM exit.
   Context: freestanding C and C++, constants only. */
#ifndef HV_ABI_DEMO_H
#define HV_ABI_DEMO_H

#define HV_DEMO_SCENARIO_PORT 0x5c0   /* OUT dx, eax: eax = scenario number (1-based) */
#define HV_DEMO_SCENARIO_CPUID 1      /* CPUID loop: the hypervisor answers */
#define HV_DEMO_SCENARIO_PORT_IO 2    /* port-I/O loop: the root's emulator answers */
#define HV_DEMO_SCENARIO_HYPERCALL 3  /* hypercall loop, and malformed calls */
#define HV_DEMO_SCENARIO_IDE 4        /* PIO reads from the root's emulated IDE disk */
#define HV_DEMO_SCENARIO_UART 5       /* output through the root's emulated 16550 */
#define HV_DEMO_SCENARIO_HOSTILE 6    /* the hostile child: random hypercalls, a wild write */
#define HV_DEMO_SCENARIO_SPIN_ENLIGHTENED 7  /* two VPs contend for a lock, notifying long spins */
#define HV_DEMO_SCENARIO_SPIN_PLAIN 8        /* the same without the enlightenment */
#define HV_DEMO_SPIN_ROUNDS 20        /* lock acquisitions per VP */
#define HV_DEMO_SCENARIO_FLUSH_HYPERCALL 9   /* TLB shootdowns by HvCallFlushVirtualAddressList */
#define HV_DEMO_SCENARIO_FLUSH_IPI 10        /* the same by IPI to the other VP */
#define HV_DEMO_SHOOTDOWNS 10
#define HV_DEMO_SHOOTDOWN_VECTOR 0xf0
#define HV_DEMO_IDE_FIRST_SECTOR 10
#define HV_DEMO_IDE_SECTORS 4
#define HV_HOSTILE_RANDOM_CALLS 6000  /* random hypercalls, messages and SynIC writes */
/* The hostile child's wild write: the root's first code bytes (HV_ROOT_BASE + HV_IMAGE_OFFSET,
   hv/abi/partition.h), a GPA outside the child's memory. */
#define HV_HOSTILE_TARGET 0x1010000
#define HV_DEMO_EMULATED_PORT 0x5c4   /* a scratch register the root's emulator keeps per child */
#define HV_DEMO_UART_PORT 0x3f8       /* COM1: the root's 16550 (passed through for the root,
                                         emulated by the root for children) */
#define HV_DEMO_DEBUG_EXIT_PORT 0xf4  /* the platform's debug-exit port (root only) */

#endif /* HV_ABI_DEMO_H */
