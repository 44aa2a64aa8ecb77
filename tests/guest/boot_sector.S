/* A real-mode boot sector (flat image at 0x7c00): prints through COM1 with polling, adds
   1..100 with a LOOP, checks the sum, exits through the debug-exit port with 0 on success.
   Context: real mode, CS:IP = 0000:7C00, as a BIOS leaves it. */
    .code16
    .globl _start
_start:
    xor %ax, %ax
    mov %ax, %ds
    mov $msg - _start + 0x7c00, %si
print:
    lodsb
    test %al, %al
    jz printed
    mov %al, %bl
    mov $0x3fd, %dx
wait_thr:
    in %dx, %al
    test $0x20, %al
    jz wait_thr
    mov $0x3f8, %dx
    mov %bl, %al
    out %al, %dx
    jmp print
printed:
    xor %ax, %ax
    mov $100, %cx
sum:
    add %cx, %ax
    loop sum
    cmp $5050, %ax
    jne bad
    xor %ax, %ax
    out %al, $0xf4
bad:
    mov $1, %al
    out %al, $0xf4
msg: .asciz "boot sector ok\n"
    .org 510
    .byte 0x55, 0xaa
