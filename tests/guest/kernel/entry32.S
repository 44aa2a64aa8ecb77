/* Multiboot v1 entry: from 32-bit protected mode with paging off (Multiboot Specification
   0.6.96 3.2) to 64-bit long mode, following SDM Vol. 3A 9.8.5 "Initializing IA-32e Mode":
   own GDT, CR4.PAE, 4-level tables (identity map of the first GiB, 2 MiB pages), EFER.LME
   (+NXE, +SCE), CR0.PG, then a far jump to a 64-bit code segment.
   Context: BSP, 32-bit protected mode, paging off, interrupts off; then ring 0, 64-bit. */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_KCODE32 0x40
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000002            /* bit 1: memory information wanted */

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov %eax, %ebp                    /* the loader's magic (EAX) and info pointer (EBX) */
    mov %ebx, %esi
    mov $__bss_start, %edi            /* .bss first: the stack and the page tables live there */
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb
    mov %ebp, mb_magic
    mov %esi, mb_info
    mov $boot_stack_top, %esp

    /* CPUID 80000001h:EDX[29] (LM); without it nothing below can work: exit 0x7e. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode

    lgdt gdt_pointer                  /* 32-bit LGDT reads limit and the low 32 bits of base */
    ljmp $SEL_KCODE32, $1f
1:  mov $SEL_KDATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs

    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] = i * 2 MiB with PS (SDM Vol. 3A 4.5). */
    mov $boot_pdpt, %eax
    or $0x3, %eax                     /* P, R/W */
    mov %eax, boot_pml4
    mov $boot_pd, %eax
    or $0x3, %eax
    mov %eax, boot_pdpt
    mov $boot_pd, %edi
    mov $0x83, %eax                   /* P, R/W, PS */
    mov $512, %ecx
2:  mov %eax, (%edi)
    movl $0, 4(%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 2b

    mov %cr4, %eax
    or $0x20, %eax                    /* CR4.PAE */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx             /* IA32_EFER: SCE (0), LME (8), NXE (11) */
    rdmsr
    or $0x901, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax              /* PG, WP (supervisor writes honour R/W), PE */
    mov %eax, %cr0                    /* IA32_EFER.LMA becomes 1 here */
    ljmp $SEL_KCODE, $long_mode_entry

no_long_mode:
    mov $0x7e, %eax
    out %eax, $0xf4
3:  hlt
    jmp 3b

    .code64
long_mode_entry:
    mov $SEL_KDATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax                    /* null FS/GS: their bases come from the MSRs */
    mov %eax, %fs
    mov %eax, %gs
    mov $boot_stack_top, %rsp
    mov mb_magic(%rip), %edi
    mov mb_info(%rip), %esi
    call kmain
4:  cli
    hlt
    jmp 4b

    .section .bss
    .balign 4096
    .globl boot_pml4, boot_pdpt, boot_pd
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd:   .skip 4096
    .balign 16
boot_stack: .skip 16384
    .globl boot_stack_top
boot_stack_top:
    .balign 4
mb_magic: .skip 4
mb_info:  .skip 4

    .section .note.GNU-stack, "", @progbits
