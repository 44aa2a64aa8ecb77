/* Multiboot v1 entry of a virt test program: from 32-bit protected mode with paging off
   (Multiboot Specification 0.6.96 3.2) to 64-bit long mode with the first GiB identity-mapped
   by 2 MiB pages (SDM Vol. 3A 9.8.5 "Initializing IA-32e Mode"), then virt_start() in C.
   Context: 32-bit protected mode, paging off, interrupts off; then ring 0, 64-bit. */
#define MULTIBOOT_MAGIC 0x1badb002
#define MULTIBOOT_FLAGS 0x0

    .section .multiboot, "a"
    .balign 4
    .long MULTIBOOT_MAGIC, MULTIBOOT_FLAGS, -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov $__bss_start, %edi            /* zero .bss: stack and page tables live there */
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb
    mov $stack_top, %esp

    mov $0x80000001, %eax             /* CPUID 80000001h:EDX[29] long mode, or exit 0x7e */
    cpuid
    bt $29, %edx
    jnc 9f

    lgdt gdt_pointer
    ljmp $0x18, $1f                   /* SEL_CODE32 */
1:  mov $0x10, %eax                   /* SEL_DATA */
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs

    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] = i * 2 MiB, present, writable, large (4.5). */
    mov $page_pdpt + 3, %eax
    mov %eax, page_pml4
    mov $page_pd + 3, %eax
    mov %eax, page_pdpt
    mov $page_pd, %edi
    mov $0x83, %eax
    mov $512, %ecx
2:  mov %eax, (%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 2b

    mov %cr4, %eax
    or $0x20, %eax                    /* CR4.PAE */
    mov %eax, %cr4
    mov $page_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx             /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000021, %eax              /* PG, NE (VMX requires it: SDM A.7), PE */
    mov %eax, %cr0
    ljmp $0x08, $long_mode            /* SEL_CODE64 */

9:  mov $0x7e, %eax
    out %eax, $0xf4
3:  hlt
    jmp 3b

    .code64
long_mode:
    mov $stack_top, %rsp
    call virt_start
4:  hlt
    jmp 4b

    .section .data
    .balign 16
    /* null, 64-bit code (0x08), data (0x10), 32-bit code (0x18), TSS (0x20, 16 bytes, filled by
       desc.c). Accessed bits preset: VM entry wants them in guest state (SDM 27.3.1.2). */
    .globl gdt
gdt:
    .quad 0
    .quad 0x00af9b000000ffff
    .quad 0x00cf93000000ffff
    .quad 0x00cf9b000000ffff
    .quad 0, 0
gdt_end:
    .globl gdt_pointer
gdt_pointer:
    .word gdt_end - gdt - 1
    .quad gdt

    .section .bss
    .balign 4096
    .globl page_pml4
page_pml4: .skip 4096
page_pdpt: .skip 4096
page_pd:   .skip 4096
    .balign 16
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
