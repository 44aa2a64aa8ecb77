/* A multiboot v1 kernel (ELF32): checks the entry state the Multiboot Specification 0.6.96
   3.2 defines (EAX magic, EBX info with memory fields, protected mode, paging off, flat
   segments), prints through COM1 and exits with 0 on success, else the failed check's number.
   Context: 32-bit protected mode, paging off, interrupts off. */
    .section .multiboot, "a"
    .balign 4
    .long 0x1badb002                 /* magic */
    .long 0x00000003                 /* flags: page-align modules, memory information */
    .long -(0x1badb002 + 0x00000003) /* checksum */

    .section .text
    .code32
    .globl _start
_start:
    mov $1, %ecx
    cmp $0x2badb002, %eax
    jne fail
    mov $2, %ecx
    testl $1, (%ebx)                 /* flags bit 0: mem_lower / mem_upper valid */
    jz fail
    mov $3, %ecx
    cmpl $639, 4(%ebx)
    jne fail
    mov $4, %ecx
    mov %cr0, %eax
    test $0x80000000, %eax           /* paging off */
    jnz fail
    mov $5, %ecx
    test $1, %eax                    /* protected mode on */
    jz fail
    mov $msg, %esi
1:  lodsb
    test %al, %al
    jz 3f
    mov %al, %bl
    mov $0x3fd, %dx
2:  in %dx, %al
    test $0x20, %al
    jz 2b
    mov $0x3f8, %dx
    mov %bl, %al
    out %al, %dx
    jmp 1b
3:  xor %eax, %eax
    out %eax, $0xf4
fail:
    mov %ecx, %eax
    out %eax, $0xf4
    hlt
    .section .rodata
msg: .asciz "multiboot ok\n"
