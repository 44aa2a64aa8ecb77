/* The root OS's SynIC interrupt handler: the SINTs are AutoEOI (the hypervisor acknowledges
   them at delivery; the TLFS's "AutoEOI" SINT bit 17), so the handler only counts and
   returns; the main loop looks at the message and event pages after HLT.
   Context: root partition, ring 0, 64-bit, entered through an interrupt gate (IF = 0). */
    .text
    .globl root_sint_isr
root_sint_isr:
    lock incq root_sint_interrupts(%rip)
    iretq
    .section .note.GNU-stack, "", @progbits
