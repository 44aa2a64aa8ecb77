/* The guest runtime of the system-level differential test: boots from the multiboot entry
   state into long mode, then runs the scenarios the generator (gen_scenarios.py) placed in
   the including file, each op guarded so that any exception is recorded and execution goes
   on, and prints the records on COM1. Context: freestanding guest, identical bytes for hvsim,
   KVM and QEMU; included by every generated batch_*.S (which defines scen_table/scen_count).

   Physical memory (identity-mapped, 0-64 MiB):
     0x100000   this image: multiboot header and 32-bit entry; 0x100800 the kernel landing
                pads; 0x101000 the .user area (U=1: user landing pads, CPL 3 snippets, user
                stack); then kernel code, data, bss
     0x1000000  test paging-structure pool (64 pages, zeroed per scenario)
     0x2000000  data area: 16 frames of 4 KiB, refilled with a pattern per scenario
     0x3000000  the TSS (+ I/O bitmap), 0x3004000 the LDT: fixed, so that the generator can
                write descriptors that point at them
   Linear addresses 0x8000000000 + k * 2^39 (PML4 entries 1..4) are the scenario's mappings.

   Scenario record (scen_table entries point at one):
     0 cr0, 8 cr4, 16 efer, 24 star, 32 lstar, 40 cstar, 48 sfmask, 56 required features,
     64 writes, 72 nwrites, 80 gates, 88 ngates, 96 ops, 104 nops, 112 checks, 120 nchecks,
     128 flags (bit 0: print the data-area hash), 136 id
   write: (address, qword); gate: (vector, offset, selector, attr byte | ist << 8)
   op: (entry RIP, CPL, RFLAGS, output mask); check: an address whose qword is printed.
   An op's snippet ends in UD2, so completion is a record like any fault (#UD at the snippet's
   end). INT n cannot serve: KVM PVM fails to emulate INT n at CPL 0 and turns INT 40h at CPL 3
   into #UD (tests/diff_system/README.md). */

#define KCODE 0x08
#define KDATA 0x10
#define UCODE32 0x1b
#define UDATA 0x23
#define UCODE64 0x2b
#define KCODE32 0x30
#define TSS_SEL 0x38
#define LDT_SEL 0x48
#define PT_POOL 0x1000000
#define TSS_ADDR 0x3000000
#define LDT_ADDR 0x3004000
#define PT_POOL_PAGES 64
#define DATA_AREA 0x2000000
#define DATA_FRAMES 16
#define COM1 0x3f8
#define OUTBUF_SIZE 65536
#define NOPTIONAL 29          /* entries of optional_fields */
#define DEBUG_EXIT 0xf4

#define FEAT_SMEP 1
#define FEAT_SMAP 2
#define FEAT_PDPE1GB 4
#define FEAT_UMIP 8
#define FEAT_NX 16
#define FEAT_FSGSBASE 32
#define FEAT_PCID 64
#define FEAT_RDTSCP 128

/* ---- multiboot header (a.out kludge: flat image at 1 MiB) ---- */
    .section .mbheader, "a"
    .balign 4
mb_header:
    .long 0x1badb002
    .long 0x00010002                /* bit 1 memory info, bit 16 address fields valid */
    .long -(0x1badb002 + 0x00010002)
    .long mb_header, __image_start, __load_end, __bss_end, _start32

/* ---- 32-bit entry: multiboot state -> long mode with the static boot tables ---- */
    .section .text.boot, "ax"
    .code32
    .globl _start32
_start32:
    cli
    mov %ebx, mb_info
    mov $0xff, %al                  /* mask both 8259s: no interrupt ever reaches the IDT */
    out %al, $0x21
    out %al, $0xa1
    lgdt gdt_ptr32
    mov $KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $boot_stack_top, %esp
    mov %cr4, %eax
    or $0x20, %eax                  /* PAE */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax                 /* LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax            /* PG, PE */
    mov %eax, %cr0
    ljmp $KCODE, $start64

    .code64
    .section .text, "ax"
start64:
    mov $KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    lea kstack_top, %rsp
    call parse_cmdline
    call detect_features
    call build_runtime_tables
    call install_idt
    call print_header
    mov start_index, %rbx
1:  cmp scen_count, %rbx
    jae 2f
    mov %rbx, cur_index
    call run_scenario
    inc %rbx
    jmp 1b
2:  lea str_done, %rsi
    call out_str
    call flush_out
    xor %eax, %eax
    out %eax, $DEBUG_EXIT
    hlt
    jmp 2b

/* "start=N" (decimal) in the multiboot command line selects the first scenario to run. */
parse_cmdline:
    movq $0, start_index
    mov mb_info, %esi
    testl $4, (%rsi)
    jz 9f
    mov 16(%rsi), %esi
1:  mov (%rsi), %al
    test %al, %al
    jz 9f
    cmpl $0x72617473, (%rsi)        /* "star" */
    jne 2f
    cmpw $0x3d74, 4(%rsi)           /* "t=" */
    jne 2f
    add $6, %rsi
    xor %eax, %eax
3:  movzbl (%rsi), %ecx
    sub $'0', %ecx
    cmp $9, %ecx
    ja 4f
    imul $10, %rax, %rax
    add %rcx, %rax
    inc %rsi
    jmp 3b
4:  mov %rax, start_index
    ret
2:  inc %rsi
    jmp 1b
9:  ret

/* CPUID features the scenarios may require (a scenario whose features are missing prints a
   skip line instead of running). */
detect_features:
    push %rbx
    xor %r8d, %r8d
    mov $7, %eax
    xor %ecx, %ecx
    cpuid
    bt $7, %ebx
    jnc 1f
    or $FEAT_SMEP, %r8
1:  bt $20, %ebx
    jnc 1f
    or $FEAT_SMAP, %r8
1:  bt $2, %ecx
    jnc 1f
    or $FEAT_UMIP, %r8
1:  bt $0, %ebx
    jnc 1f
    or $FEAT_FSGSBASE, %r8
1:  mov $1, %eax
    cpuid
    bt $17, %ecx
    jnc 1f
    or $FEAT_PCID, %r8
1:  mov $0x80000001, %eax
    cpuid
    bt $26, %edx
    jnc 1f
    or $FEAT_PDPE1GB, %r8
1:  bt $20, %edx
    jnc 1f
    or $FEAT_NX, %r8
1:  bt $27, %edx
    jnc 1f
    or $FEAT_RDTSCP, %r8
1:  mov %r8, features
    pop %rbx
    ret

/* The runtime's own paging: PML4[0] -> PDPT -> PD; 0-16 MiB in 4 KiB pages (U=1 exactly on
   the .user area, page 0 not present), 16-64 MiB in 2 MiB pages, all writable, none NX. */
build_runtime_tables:
    lea rt_pml4, %rdi
    mov $11 * 512, %ecx             /* pml4, pdpt, pd, 8 page tables: contiguous in bss */
    xor %eax, %eax
    rep stosq
    lea rt_pdpt, %rax
    or $7, %rax
    mov %rax, rt_pml4
    lea rt_pd, %rax
    or $7, %rax
    mov %rax, rt_pdpt
    xor %ecx, %ecx
1:  mov %rcx, %rax
    shl $12, %rax
    lea rt_pt(%rax), %rax
    or $7, %rax
    mov %rax, rt_pd(,%rcx,8)
    inc %ecx
    cmp $8, %ecx
    jb 1b
2:  mov %rcx, %rax
    shl $21, %rax
    or $0x83, %rax
    mov %rax, rt_pd(,%rcx,8)
    inc %ecx
    cmp $32, %ecx
    jb 2b
    mov $1, %ecx                    /* page 0 stays not present */
3:  mov %rcx, %rax
    shl $12, %rax
    mov %rax, %rdx
    or $3, %rax
    lea __user_start, %rsi
    cmp %rsi, %rdx
    jb 4f
    lea __user_end, %rsi
    cmp %rsi, %rdx
    jae 4f
    or $4, %rax
4:  mov %rax, rt_pt(,%rcx,8)
    inc %ecx
    cmp $4096, %ecx
    jb 3b
    lea rt_pml4, %rax
    mov %rax, %cr3
    /* TSS descriptor (base split over the 16-byte system descriptor) */
    call tss_descriptor
    mov $TSS_ADDR, %edi
    lea rsp0_top, %rax
    mov %rax, 4(%rdi)               /* RSP0 (its own stack: the runtime's call chain lives on kstack) */
    lea ist1_top, %rax
    mov %rax, 36(%rdi)              /* IST1 */
    lea ist2_top, %rax
    mov %rax, 44(%rdi)              /* IST2 */
    movw $0x68, 102(%rdi)           /* I/O permission bitmap right after the TSS */
    lea 0x68(%rdi), %rdi
    mov $8192 + 8, %ecx
    mov $0xff, %al
    rep stosb
    mov $TSS_SEL, %ax
    ltr %ax
    mov $LDT_ADDR, %eax
    mov %rax, %rdx                  /* LDT descriptor: base, limit 63 (8 entries) */
    shl $16, %rax
    mov $0xffffff0000, %rsi
    and %rsi, %rax
    or $63, %rax
    mov %rdx, %rsi
    shr $24, %rsi
    and $0xff, %rsi
    shl $56, %rsi
    or %rsi, %rax
    mov $0x82, %rsi                 /* present, DPL 0, type 2 (LDT) */
    shl $40, %rsi
    or %rsi, %rax
    mov %rax, gdt + LDT_SEL
    shr $32, %rdx
    mov %rdx, gdt + LDT_SEL + 8
    ret

/* Writes the available 64-bit TSS descriptor (type 9) for TSS_ADDR at TSS_SEL. */
tss_descriptor:
    mov $TSS_ADDR, %eax
    mov %rax, %rdx
    shl $16, %rax
    mov $0xffffff0000, %rsi
    and %rsi, %rax
    or $0x67 + 8192 + 1, %rax       /* limit: TSS, bitmap, terminating byte */
    mov %rdx, %rsi
    shr $24, %rsi
    and $0xff, %rsi
    shl $56, %rsi
    or %rsi, %rax
    mov $0x89, %rsi
    shl $40, %rsi
    or %rsi, %rax
    mov %rax, gdt + TSS_SEL
    shr $32, %rdx
    mov %rdx, gdt + TSS_SEL + 8
    ret

/* IDT: vectors 0-31 (interrupt gates, IST1; #DF on IST2), 40h (DPL 3, IST1: op completion);
   everything else not present unless a scenario installs a gate. */
install_idt:
    lea idt, %rdi
    mov $512, %ecx
    xor %eax, %eax
    rep stosq
    xor %ecx, %ecx
1:  mov stub_table(,%rcx,8), %rsi
    mov $KCODE, %edx
    mov $0x8e | (1 << 8), %r8d
    cmp $8, %ecx
    jne 2f
    mov $0x8e | (2 << 8), %r8d
2:  call set_gate
    inc %ecx
    cmp $32, %ecx
    jb 1b
    mov $0x40, %ecx
    mov stub_table + 32 * 8, %rsi
    mov $KCODE, %edx
    mov $0xee | (1 << 8), %r8d
    call set_gate
    lidt idt_ptr
    ret

/* set_gate: %ecx vector, %rsi offset, %edx selector, %r8d attr | ist << 8. */
set_gate:
    push %rdi
    push %rax
    mov %ecx, %edi
    shl $4, %rdi
    lea idt(%rdi), %rdi
    mov %rsi, %rax
    and $0xffff, %eax
    mov %edx, %r9d
    and $0xffff, %r9d
    shl $16, %r9
    or %r9, %rax
    mov %r8d, %r9d
    shr $8, %r9d
    and $7, %r9d
    shl $32, %r9
    or %r9, %rax
    mov %r8d, %r9d
    and $0xff, %r9d
    shl $40, %r9
    or %r9, %rax
    mov %rsi, %r9
    shr $16, %r9
    and $0xffff, %r9
    shl $48, %r9
    or %r9, %rax
    mov %rax, (%rdi)
    mov %rsi, %rax
    shr $32, %rax
    mov %rax, 8(%rdi)
    pop %rax
    pop %rdi
    ret

print_header:
    lea str_header, %rsi
    call out_str
    mov features, %rax
    call out_hex
    lea str_vendor, %rsi
    call out_str
    push %rbx
    xor %eax, %eax
    cpuid
    mov %ebx, vendor_buf
    mov %edx, vendor_buf + 4
    mov %ecx, vendor_buf + 8
    pop %rbx
    lea vendor_buf, %rsi
    call out_str
    lea cpuid_list, %r12            /* the leaves whose features decide #GP on CR4/EFER bits */
3:  mov (%r12), %eax
    cmp $-1, %eax
    je 4f
    push %rbx
    xor %ecx, %ecx
    cpuid
    mov %ecx, %esi
    mov %edx, %edi
    mov %ebx, %r8d
    pop %rbx
    push %rsi
    push %rdi
    push %r8
    lea str_cpuid, %rsi
    call out_str
    mov (%r12), %eax
    call out_hex
    mov $'=', %al
    call out_char
    pop %rax
    call out_hex
    mov $',', %al
    call out_char
    pop %rax
    pop %rsi
    push %rax
    mov %rsi, %rax
    call out_hex
    mov $',', %al
    call out_char
    pop %rax
    call out_hex
    add $8, %r12
    jmp 3b
4:  lea str_start, %rsi
    call out_str
    mov start_index, %rax
    call out_hex
    mov $'\n', %al
    call out_char
    jmp flush_out

/* ---- one scenario ---- */
run_scenario:
    push %rbx
    mov cur_index, %rax
    mov scen_table(,%rax,8), %rbx
    mov %rbx, cur_scen
    lea str_S, %rsi
    call out_str
    mov 136(%rbx), %rax
    call out_hex
    mov 56(%rbx), %rax              /* required features present? */
    mov %rax, %rcx
    and features, %rcx
    cmp %rax, %rcx
    je 1f
    xor %rcx, %rax
    push %rax
    lea str_skip, %rsi
    call out_str
    pop %rax
    call out_hex
    mov $'\n', %al
    call out_char
    call flush_out
    pop %rbx
    ret
1:  lea str_begin, %rsi
    call out_str
    call flush_out                  /* a scenario that kills the machine is named by this line */
    call scenario_baseline
    call apply_writes
    call restore_state
    movq $0, cur_op
2:  mov cur_op, %rax
    cmp 104(%rbx), %rax
    jae 3f
    call run_op
    incq cur_op
    jmp 2b
3:  call print_checks
    lea str_end, %rsi
    call out_str
    call flush_out
    pop %rbx
    ret

/* Zeroes the test paging pool and the scenario-owned GDT/LDT/IDT entries, refills the data
   area, clears the PML4 beyond entry 0 and the I/O bitmap's test byte. */
scenario_baseline:
    mov $PT_POOL, %edi
    mov $PT_POOL_PAGES * 512, %ecx
    xor %eax, %eax
    rep stosq
    lea rt_pml4 + 8, %rdi
    mov $511, %ecx
    rep stosq
    lea gdt + 0x58, %rdi            /* GDT entries 0x58-0x80 belong to the scenario */
    mov $6, %ecx
    rep stosq
    mov $LDT_ADDR, %edi
    mov $8, %ecx
    rep stosq
    lea idt + 0x80 * 16, %rdi       /* vectors 80h-87h */
    mov $16, %ecx
    rep stosq
    mov $TSS_ADDR + 0x68, %edi
    mov $8192 / 8, %ecx
    mov $-1, %rax
    rep stosq
    mov $DATA_AREA, %edi            /* data pattern: qword at p = p * golden ratio */
    mov $DATA_FRAMES * 512, %ecx
    mov $0x9e3779b97f4a7c15, %rdx
1:  mov %rdi, %rax
    imul %rdx, %rax
    mov %rax, (%rdi)
    add $8, %rdi
    dec %ecx
    jnz 1b
    ret

apply_writes:
    mov 64(%rbx), %rsi
    mov 72(%rbx), %rcx
    test %rcx, %rcx
    jz 2f
1:  mov (%rsi), %rdi
    mov 8(%rsi), %rax
    mov %rax, (%rdi)
    add $16, %rsi
    dec %rcx
    jnz 1b
2:  mov 80(%rbx), %r10
    mov 88(%rbx), %r11
    test %r11, %r11
    jz 4f
3:  mov (%r10), %rcx
    mov 8(%r10), %rsi
    mov 16(%r10), %rdx
    mov 24(%r10), %r8
    call set_gate
    add $32, %r10
    dec %r11
    jnz 3b
4:  ret

/* The scenario's control state, re-established before every op: descriptor tables, TR,
   LDTR, CR0/CR4/EFER/CR3 (the CR3 write flushes the TLB: ops see no stale translations),
   CR8, DR7, the SYSCALL and SYSENTER MSRs, PAT and the segment bases. Runs at CPL 0 on the
   kernel stack. */
restore_state:
    push %rbx
    mov cur_scen, %rbx
    lgdt gdt_ptr
    lidt idt_ptr
    call tss_descriptor
    mov $TSS_SEL, %ax
    ltr %ax
    mov $LDT_SEL, %ax
    lldt %ax
    mov 8(%rbx), %rax
    mov %rax, %cr4
    mov (%rbx), %rax
    mov %rax, %cr0
    mov $0xc0000080, %ecx
    mov 16(%rbx), %rax
    mov %rax, %rdx
    shr $32, %rdx
    wrmsr
    lea rt_pml4, %rax
    mov %rax, %cr3
    xor %eax, %eax
    mov %rax, %cr8
    mov %rax, %cr2
    mov $0x400, %eax
    mov %rax, %dr7
    mov $0xc0000081, %ecx           /* STAR, LSTAR, CSTAR, SFMASK */
    mov 24(%rbx), %rax
    call wrmsr64
    mov $0xc0000082, %ecx
    mov 32(%rbx), %rax
    call wrmsr64
    mov $0xc0000083, %ecx
    mov 40(%rbx), %rax
    call wrmsr64
    mov $0xc0000084, %ecx
    mov 48(%rbx), %rax
    call wrmsr64
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    mov $0xc0000100, %ecx           /* FS, GS, KernelGS base */
    call wrmsr64
    mov $0xc0000101, %ecx
    call wrmsr64
    mov $0xc0000102, %ecx
    call wrmsr64
    mov $0x174, %ecx                /* SYSENTER_CS/ESP/EIP <- 0 and PAT <- its power-on value: */
    call wrmsr64                    /* what a WRMSR op leaves (or, where an implementation */
    mov $0x175, %ecx                /* accepts a value it should refuse, keeps) must not */
    call wrmsr64                    /* reach later ops, which may have started in another run */
    mov $0x176, %ecx
    call wrmsr64
    mov $0x277, %ecx
    movabs $0x0007040600070406, %rax
    call wrmsr64
    pop %rbx
    ret

wrmsr64:
    mov %rax, %rdx
    shr $32, %rdx
    wrmsr
    ret

/* Enters the op's snippet by IRETQ with all general registers zero; CPL 3 runs on the user
   stack with the user selectors, CPL 0 on the op stack with the kernel ones. */
run_op:
    push %rbx
    push %rbp
    mov cur_op, %rax
    shl $5, %rax
    add 96(%rbx), %rax
    mov %rax, cur_op_rec
    mov %rsp, saved_rsp
    movq $1, op_active
    mov (%rax), %rsi                /* RIP */
    mov 8(%rax), %rcx               /* CPL */
    mov 16(%rax), %rdx              /* RFLAGS */
    lea op_frame_top, %rsp
    test %rcx, %rcx
    jnz 1f
    pushq $KDATA
    lea op_stack_top, %rax
    push %rax
    push %rdx
    pushq $KCODE
    push %rsi
    jmp 2f
1:  pushq $UDATA
    lea user_stack_top, %rax
    push %rax
    push %rdx
    pushq $UCODE64
    push %rsi
    mov $UDATA, %ax
    mov %ax, %ds
    mov %ax, %es
2:  xor %eax, %eax
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %edi, %edi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    iretq

/* Every exception and INT 40h arrive here (stubs push a zero error code where the CPU
   pushes none, then the vector). Records the frame and the state, then leaves to op_finish. */
    .globl common_handler
common_handler:
    push %r15
    push %r14
    push %r13
    push %r12
    push %r11
    push %r10
    push %r9
    push %r8
    push %rdi
    push %rsi
    push %rbp
    push %rbx
    push %rdx
    push %rcx
    push %rax
    pushq $2                        /* DF, AC, IF ... of the interrupted code must not leak */
    popfq
    lea rec, %rdi
    mov %rsp, %rsi
    mov $15 + 7, %ecx               /* 15 registers, vector, error code, 5 frame words */
    rep movsq
    mov %cr2, %rax
    mov %rax, rec + 22 * 8
    mov %ds, %ax
    movzwl %ax, %eax
    mov %rax, rec + 23 * 8
    mov %es, %ax
    movzwl %ax, %eax
    mov %rax, rec + 24 * 8
    mov %fs, %ax
    movzwl %ax, %eax
    mov %rax, rec + 25 * 8
    mov %gs, %ax
    movzwl %ax, %eax
    mov %rax, rec + 26 * 8
    mov $0xc0000100, %ecx
    rdmsr
    mov %eax, rec + 27 * 8
    mov %edx, rec + 27 * 8 + 4
    mov $0xc0000101, %ecx
    rdmsr
    mov %eax, rec + 28 * 8
    mov %edx, rec + 28 * 8 + 4
    mov $0xc0000102, %ecx
    rdmsr
    mov %eax, rec + 29 * 8
    mov %edx, rec + 29 * 8 + 4
    mov %cr0, %rax
    mov %rax, rec + 30 * 8
    mov %cr3, %rax
    mov %rax, rec + 31 * 8
    mov %cr4, %rax
    mov %rax, rec + 32 * 8
    mov %cr8, %rax
    mov %rax, rec + 33 * 8
    mov $0xc0000080, %ecx
    rdmsr
    mov %eax, rec + 34 * 8
    mov %edx, rec + 34 * 8 + 4
    str %ax
    movzwl %ax, %eax
    mov %rax, rec + 35 * 8
    sldt %ax
    movzwl %ax, %eax
    mov %rax, rec + 36 * 8
    cmpq $0, op_active
    je runtime_fault
    movq $0, op_active
    lea op_frame_top, %rsp          /* free now: the op was entered from it */
    pushq $KCODE
    lea op_finish, %rax
    push %rax
    lretq

op_finish:
    mov $KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov saved_rsp, %rsp
    call restore_state
    call print_record
    call flush_out                  /* per op: a later op that kills the machine leaves these */
    pop %rbp
    pop %rbx
    ret

/* A fault outside an op is a bug of the runtime or of the implementation: report and stop. */
runtime_fault:
    mov $KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    lea kstack_top, %rsp
    lea str_runtime_fault, %rsi
    call out_str
    mov rec + 15 * 8, %rax
    call out_hex
    mov $' ', %al
    call out_char
    mov rec + 16 * 8, %rax
    call out_hex
    mov $' ', %al
    call out_char
    mov rec + 17 * 8, %rax
    call out_hex
    mov $' ', %al
    call out_char
    mov rec + 22 * 8, %rax
    call out_hex
    mov $'\n', %al
    call out_char
    call flush_out
    mov $0x7f, %eax
    out %eax, $DEBUG_EXIT
    hlt

/* "R <scenario> <op> v= e= c2= ip= cs= fl= sp= ss=" then the fields of the op's mask. */
print_record:
    push %rbx
    push %r12
    lea str_R, %rsi
    call out_str
    mov cur_scen, %rax
    mov 136(%rax), %rax
    call out_hex
    mov $' ', %al
    call out_char
    mov cur_op, %rax
    call out_hex
    xor %ebx, %ebx
1:  mov %rbx, %r12
    shl $4, %r12
    cmpq $-1, fixed_fields(%r12)
    je 2f
    lea fixed_fields(%r12), %r12
    call print_field
    inc %ebx
    jmp 1b
2:  mov cur_op_rec, %rax
    mov 24(%rax), %rbx              /* output mask: bit k = optional field k */
    xor %r12d, %r12d
3:  bt %r12, %rbx
    jnc 4f
    push %r12
    shl $4, %r12
    lea optional_fields(%r12), %r12
    call print_field
    pop %r12
4:  inc %r12
    cmp $NOPTIONAL, %r12
    jb 3b
    mov $'\n', %al
    call out_char
    pop %r12
    pop %rbx
    ret

/* %r12 -> (record slot, name) */
print_field:
    mov $' ', %al
    call out_char
    mov 8(%r12), %rsi
    call out_str
    mov $'=', %al
    call out_char
    mov (%r12), %rax
    mov rec(,%rax,8), %rax
    jmp out_hex

print_checks:
    push %rbx
    push %r12
    push %r13
    mov 112(%rbx), %r12
    mov 120(%rbx), %r13
    test %r13, %r13
    jz 2f
    lea str_M, %rsi
    call out_str
    mov 136(%rbx), %rax
    call out_hex
1:  mov $' ', %al
    call out_char
    mov (%r12), %rax
    call out_hex
    mov $'=', %al
    call out_char
    mov (%r12), %rax
    mov (%rax), %rax
    call out_hex
    add $8, %r12
    dec %r13
    jnz 1b
    mov $'\n', %al
    call out_char
2:  testq $1, 128(%rbx)
    jz 4f
    lea str_H, %rsi
    call out_str
    mov 136(%rbx), %rax
    call out_hex
    mov $' ', %al
    call out_char
    mov $DATA_AREA, %esi            /* h = rotl(h, 5) ^ qword, over the 16 frames */
    mov $DATA_FRAMES * 512, %ecx
    xor %eax, %eax
3:  rol $5, %rax
    xor (%rsi), %rax
    add $8, %rsi
    dec %ecx
    jnz 3b
    call out_hex
    mov $'\n', %al
    call out_char
4:  pop %r13
    pop %r12
    pop %rbx
    ret

/* ---- output: a buffer sent to COM1 with REP OUTSB (the line status is never polled: all
   three implementations take transmit bytes at once) ---- */
out_char:
    push %rdi
    mov out_len, %rdi
    cmp $OUTBUF_SIZE, %rdi
    jae 1f
    mov %al, outbuf(%rdi)
    incq out_len
1:  pop %rdi
    ret

out_str:
1:  mov (%rsi), %al
    test %al, %al
    jz 2f
    call out_char
    inc %rsi
    jmp 1b
2:  ret

/* %rax in hexadecimal, no leading zeros */
out_hex:
    push %rcx
    push %rdx
    mov %rax, %rdx
    mov $60, %ecx
1:  mov %rdx, %rax
    shr %cl, %rax
    test %rax, %rax
    jnz 2f
    sub $4, %ecx
    jnz 1b
2:  mov %rdx, %rax
    shr %cl, %rax
    and $15, %eax
    mov hex_digits(%rax), %al
    call out_char
    sub $4, %ecx
    jns 2b
    pop %rdx
    pop %rcx
    ret

flush_out:
    push %rsi
    push %rcx
    push %rdx
    lea outbuf, %rsi
    mov out_len, %rcx
    mov $COM1, %dx
    cld
    rep outsb
    movq $0, out_len
    pop %rdx
    pop %rcx
    pop %rsi
    ret

/* ---- exception stubs: vectors 0-31 and 40h, then the scenario gates 80h-87h ---- */
    .macro stub vec
    .balign 16
stub_\vec:
    .if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    pushq $0
    .endif
    pushq $\vec
    jmp common_handler
    .endm
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,0x40
    stub \v
    .endr
    .irp v, 0x80,0x81,0x82,0x83,0x84,0x85,0x86,0x87
    stub \v
    .endr

/* Kernel landing pads (fixed addresses, see link.ld): IRET/SYSRET/far-transfer targets. */
    .section .klanding, "ax"
    .globl kernel_landing
kernel_landing:                     /* 0x100800 */
    ud2
    .balign 16
kernel_landing2:                    /* 0x100810 */
    ud2

    .section .rodata
    .balign 8
stub_table:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,0x40
    .quad stub_\v
    .endr
    .globl gate_stubs
gate_stubs:
    .irp v, 0x80,0x81,0x82,0x83,0x84,0x85,0x86,0x87
    .quad stub_\v
    .endr

#define FIELD(slot, name) .quad slot, name
/* record slots: 0-14 rax rcx rdx rbx rbp rsi rdi r8-r15 (push order reversed), 15 vector,
   16 error code, 17 rip, 18 cs, 19 rflags, 20 rsp, 21 ss, 22 cr2, 23-26 ds es fs gs,
   27 fs base, 28 gs base, 29 kernel gs base, 30 cr0, 31 cr3, 32 cr4, 33 cr8, 34 efer,
   35 tr, 36 ldtr */
fixed_fields:
    FIELD(15, n_v)
    FIELD(16, n_e)
    FIELD(22, n_c2)
    FIELD(17, n_ip)
    FIELD(18, n_cs)
    FIELD(19, n_fl)
    FIELD(20, n_sp)
    FIELD(21, n_ss)
    .quad -1
optional_fields:
    FIELD(0, n_ax)
    FIELD(1, n_cx)
    FIELD(2, n_dx)
    FIELD(3, n_bx)
    FIELD(4, n_bp)
    FIELD(5, n_si)
    FIELD(6, n_di)
    FIELD(7, n_r8)
    FIELD(8, n_r9)
    FIELD(9, n_r10)
    FIELD(10, n_r11)
    FIELD(11, n_r12)
    FIELD(12, n_r13)
    FIELD(13, n_r14)
    FIELD(14, n_r15)
    FIELD(23, n_ds)
    FIELD(24, n_es)
    FIELD(25, n_fs)
    FIELD(26, n_gs)
    FIELD(27, n_fsb)
    FIELD(28, n_gsb)
    FIELD(29, n_kgs)
    FIELD(30, n_cr0)
    FIELD(31, n_cr3)
    FIELD(32, n_cr4)
    FIELD(33, n_cr8)
    FIELD(34, n_efer)
    FIELD(35, n_tr)
    FIELD(36, n_ldtr)
optional_end:
cpuid_list:                          /* printed as leaf=ebx,ecx,edx */
    .quad 1, 7, 0x80000001, 0x80000008, -1

    .section .rodata.str, "a"
n_v: .asciz "v"
n_e: .asciz "e"
n_c2: .asciz "c2"
n_ip: .asciz "ip"
n_cs: .asciz "cs"
n_fl: .asciz "fl"
n_sp: .asciz "sp"
n_ss: .asciz "ss"
n_ax: .asciz "ax"
n_cx: .asciz "cx"
n_dx: .asciz "dx"
n_bx: .asciz "bx"
n_bp: .asciz "bp"
n_si: .asciz "si"
n_di: .asciz "di"
n_r8: .asciz "r8"
n_r9: .asciz "r9"
n_r10: .asciz "r10"
n_r11: .asciz "r11"
n_r12: .asciz "r12"
n_r13: .asciz "r13"
n_r14: .asciz "r14"
n_r15: .asciz "r15"
n_ds: .asciz "ds"
n_es: .asciz "es"
n_fs: .asciz "fs"
n_gs: .asciz "gs"
n_fsb: .asciz "fsb"
n_gsb: .asciz "gsb"
n_kgs: .asciz "kgs"
n_cr0: .asciz "cr0"
n_cr3: .asciz "cr3"
n_cr4: .asciz "cr4"
n_cr8: .asciz "cr8"
n_efer: .asciz "efer"
n_tr: .asciz "tr"
n_ldtr: .asciz "ldtr"
hex_digits: .ascii "0123456789abcdef"
str_header: .asciz "\n@dsys features="
str_vendor: .asciz " vendor="
str_start: .asciz " start="
str_cpuid: .asciz " cpuid"
str_S: .asciz "S "
str_skip: .asciz " skip "
str_begin: .asciz " begin\n"
str_end: .asciz "E\n"
str_R: .asciz "R "
str_M: .asciz "M "
str_H: .asciz "H "
str_done: .asciz "@done\n"
str_runtime_fault: .asciz "@runtime-fault v/e/ip/cr2 "

/* ---- static data: GDT (entries 58h-80h are the scenario's), boot page tables ---- */
    .section .data
    .balign 16
    .globl gdt
gdt:
    .quad 0
    .quad 0x00af9b000000ffff        /* 08 kernel code, 64-bit */
    .quad 0x00cf93000000ffff        /* 10 kernel data */
    .quad 0x00cffb000000ffff        /* 18 user code, 32-bit (SYSRET compatibility target) */
    .quad 0x00cff3000000ffff        /* 20 user data */
    .quad 0x00affb000000ffff        /* 28 user code, 64-bit */
    .quad 0x00cf9b000000ffff        /* 30 kernel code, 32-bit */
    .quad 0, 0                      /* 38 TSS (16 bytes) */
    .quad 0, 0                      /* 48 LDT (16 bytes) */
    .quad 0, 0, 0, 0, 0, 0          /* 58-80 scenario entries */
gdt_end:
    .balign 8
    .word 0
gdt_ptr:
    .word gdt_end - gdt - 1
    .quad gdt
    .balign 8
    .word 0
gdt_ptr32:
    .word gdt_end - gdt - 1
    .long gdt
    .balign 8
    .word 0
idt_ptr:
    .word 256 * 16 - 1
    .quad idt

    .balign 4096
boot_pml4:
    .quad boot_pdpt + 3
    .fill 511, 8, 0
boot_pdpt:
    .quad boot_pd + 3
    .fill 511, 8, 0
boot_pd:
    .set i, 0
    .rept 32
    .quad (i << 21) | 0x83
    .set i, i + 1
    .endr
    .fill 512 - 32, 8, 0

/* ---- the user area: U=1 pages (landing pads, user stack); snippets at CPL 3 go here too ---- */
    .section .user.landing, "awx"
    .globl user_landing
user_landing:                       /* 0x101000 */
    ud2
    .balign 16
user_landing2:                      /* 0x101010 */
    ud2
    .balign 16
compat_syscall:                     /* 0x101020: in compatibility mode, SYSCALL then UD2 */
    .byte 0x0f, 0x05, 0x0f, 0x0b
    .balign 16
compat_sysenter:                    /* 0x101030: SYSENTER then UD2 */
    .byte 0x0f, 0x34, 0x0f, 0x0b
    .section .user.zzstack, "aw"
    .balign 4096
user_stack:
    .fill 8192, 1, 0
    .globl user_stack_top
user_stack_top:

    .section .bss
    .balign 4096
rt_pml4: .skip 4096
rt_pdpt: .skip 4096
rt_pd: .skip 4096
rt_pt: .skip 8 * 4096
    .globl idt
idt: .skip 4096
boot_stack: .skip 4096
boot_stack_top:
kstack: .skip 16384
kstack_top:
rsp0: .skip 8192
rsp0_top:
ist1: .skip 8192
ist1_top:
ist2: .skip 8192
ist2_top:
op_frame: .skip 4096
op_frame_top:
    .globl op_stack
op_stack: .skip 8192
    .globl op_stack_top
op_stack_top:
    .balign 8
mb_info: .skip 8
start_index: .skip 8
features: .skip 8
cur_index: .skip 8
cur_scen: .skip 8
cur_op: .skip 8
cur_op_rec: .skip 8
saved_rsp: .skip 8
op_active: .skip 8
vendor_buf: .skip 16
rec: .skip 64 * 8
out_len: .skip 8
outbuf: .skip OUTBUF_SIZE
