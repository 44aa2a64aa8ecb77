/* Entry of 64-bit guest programs: the ELF64 loader leaves us in ring 0 with paging on,
   RSP = 0x80000 and interrupts off. Calls main() and reports its result on the debug-exit
   port (0 = success, seen by the host as exit status 1). */
    .section .text.start, "ax"
    .globl _start
_start:
    andq $-16, %rsp
    call main
    movl %eax, %edx
    movw $0xf4, %dx
    outl %eax, %dx
1:  hlt
    jmp 1b
