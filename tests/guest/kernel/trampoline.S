/* The AP start-up trampoline, copied by the BSP to 0x8000 (SIPI vector 08h: CS = 0800h, IP =
   0; SDM Vol. 3A 8.4.4 "MP Initialization Example", 10.6.1 start-up IPI). Real mode to
   protected mode (9.9.1) to long mode (9.8.5) on the BSP's GDT and page tables, then ap_main
   on the stack the BSP left in tramp_stack. The BSP fills tramp_gdtr, tramp_cr3 and
   tramp_stack in the copy. Context: an AP after INIT-SIPI, interrupts off. */
#define TRAMP_BASE 0x8000
#define REL(x) (TRAMP_BASE + (x) - trampoline_start)
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_KCODE32 0x40

    .section .rodata.trampoline, "a"
    .code16
    .globl trampoline_start
trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl tramp_gdtr - trampoline_start   /* operand size 32: all 32 bits of the base */
    mov %cr0, %eax
    or $1, %eax                           /* CR0.PE */
    mov %eax, %cr0
    ljmpl $SEL_KCODE32, $REL(tramp32)

    .code32
tramp32:
    mov $SEL_KDATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %cr4, %eax
    or $0x20, %eax                        /* CR4.PAE */
    mov %eax, %cr4
    mov REL(tramp_cr3), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx                 /* IA32_EFER: SCE, LME, NXE (the tables use XD) */
    rdmsr
    or $0x901, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80010000, %eax                  /* CR0.PG, CR0.WP */
    mov %eax, %cr0
    ljmp $SEL_KCODE, $REL(tramp64)

    .code64
tramp64:
    mov $SEL_KDATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov REL(tramp_stack), %rsp
    movabs $ap_main, %rax
    call *%rax
1:  cli
    hlt
    jmp 1b

    .balign 8
    .globl tramp_gdtr, tramp_cr3, tramp_stack
tramp_gdtr:  .word 0
             .long 0
    .balign 8
tramp_cr3:   .long 0
    .balign 8
tramp_stack: .quad 0
    .globl trampoline_end
trampoline_end:

    .section .note.GNU-stack, "", @progbits
