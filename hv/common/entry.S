/* Entry of a partition kernel under the VP boot convention (hv/abi/partition.h): 64-bit
   ring 0, paging on, RSP set, RDI = partition id, RSI = VP index; calls kernel_main(rdi, rsi).
   Context: the first instructions of the root OS and of the child kernels. */
    .section .text.entry, "ax"
    .globl _start
_start:
    and $-16, %rsp
    call kernel_main
1:  hlt
    jmp 1b
    .section .note.GNU-stack, "", @progbits
