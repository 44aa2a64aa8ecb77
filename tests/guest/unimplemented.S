/* A guest that executes an instruction hvsim does not implement (an x87 arithmetic
   instruction) with a #UD handler: the guest sees #UD and reports vector 6 on the
   debug-exit port (value 6, status 13); the CLI names the instruction on stderr.
   Context: ring 0, 64-bit, ELF64 entry state. */
    .section .text.start, "ax"
    .globl _start
_start:
    lea ud_handler(%rip), %rax
    lea idt(%rip), %rdi
    mov %ax, 6*16(%rdi)
    movw $0x08, 6*16+2(%rdi)
    movw $0x8e00, 6*16+4(%rdi)
    shr $16, %rax
    mov %ax, 6*16+6(%rdi)
    shr $16, %rax
    mov %eax, 6*16+8(%rdi)
    lidt idtr(%rip)
    fldpi
    mov $0xee, %eax           /* not reached: #UD is a fault */
    out %eax, $0xf4
ud_handler:
    mov $6, %eax
    out %eax, $0xf4
    hlt
    .section .data
    .balign 16
idtr: .word 7 * 16 - 1
      .quad idt
    .section .bss
    .balign 16
idt: .space 7 * 16
