/* The hostile child's #GP handler: its refused WRMSRs fault; it counts them and resumes after
   the 2-byte instruction. Context: child partition, ring 0, 64-bit, interrupt gate (IF = 0);
   the frame is the error code, then RIP, CS, RFLAGS, RSP, SS (SDM 6.14.2). */
    .text
    .globl hostile_gp_isr
hostile_gp_isr:
    add $8, %rsp                     /* drop the error code */
    addq $2, (%rsp)                  /* WRMSR is 0F 30 */
    lock incq hostile_gp_count(%rip)
    iretq
    .section .note.GNU-stack, "", @progbits
