/* VP 1's shootdown IPI handler entry: saves the registers C may clobber, calls
   shootdown_handler (spin.c), returns. Context: child partition, ring 0, 64-bit, interrupt
   gate (IF = 0), no error code (SDM 6.14.2). */
    .text
    .globl shootdown_isr
shootdown_isr:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    call shootdown_handler
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    iretq
    .section .note.GNU-stack, "", @progbits
