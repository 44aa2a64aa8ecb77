/* Entry of the benchmark guests (ELF64 entry state: ring 0, long mode, identity-mapped RAM,
   RSP = 0x80000, interrupts off). The host puts the arguments in RDI, RSI and RDX before it
   runs the machine; bench_main(rdi, rsi, rdx) does the work and returns a check value, which
   is left in RBX for the host to read. The run ends at the debug-exit port (value 0). */
    .section .text.start, "ax"
    .globl _start
_start:
    andq $-16, %rsp
    call bench_main
    movq %rax, %rbx
    xorl %eax, %eax
    movw $0xf4, %dx
    outl %eax, %dx
1:  hlt
    jmp 1b
