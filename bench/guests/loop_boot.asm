; A boot sector that runs a load/add/store loop a patchable number of times, then stops the
; emulator it runs on. Context: real mode at 0000:7C00, as a PC BIOS (or `hvsim run
; --load-flat loop_boot.bin@0x7c00`) leaves it; interrupts are turned off at once.
;
; The same bytes run on hvsim, Bochs and QEMU (bench/vs_bochs.py), so they stop through every
; emulator's exit door in turn: port 0xf4 ends hvsim (debug-exit device) and QEMU
; (isa-debug-exit); on Bochs nothing listens there and the string "Shutdown" written to port
; 0x8900 ends it (Bochs' shutdown port).
;
; Patch point: the 4 bytes "HVBN" at offset 0x1f0 are followed by the iteration count, a
; little-endian dword at offset 0x1f4 (0 would mean 2^32 iterations).
;
; Instructions retired from the first byte up to and including the `out` to port 0xf4:
;   7 (set-up) + 6 * count (loop body) + 2 (exit)

bits 16
org 0x7c00

; The loop's memory word lives in another 4 KiB page than the code, so that no emulator sees
; the stores as self-modifying code.
DATA equ 0x9000

start:
    cli                         ; 1
    xor ax, ax                  ; 2
    mov ds, ax                  ; 3  DS = 0 (BIOSes do not promise it)
    mov ecx, [count]            ; 4  iterations (32-bit, operand-size prefix)
    mov si, DATA                ; 5  a word on its own page, away from the code
    xor bx, bx                  ; 6
    mov word [si], 0            ; 7
.loop:                          ; 6 instructions per iteration:
    mov ax, [si]                ;   load
    add ax, bx                  ;   add
    mov [si], ax                ;   store
    inc bx
    dec ecx
    jnz .loop

    mov al, 0                   ; exit value 0: hvsim and QEMU report status 1
    out 0xf4, al                ; hvsim and QEMU stop here

    mov dx, 0x8900              ; Bochs: "Shutdown" to its shutdown port
    mov si, shutdown
.shut:
    mov al, [si]
    out dx, al
    inc si
    cmp al, 'n'
    jne .shut
.hang:
    hlt
    jmp .hang

shutdown: db "Shutdown"

    times 0x1f0 - ($ - $$) db 0
magic: db "HVBN"
count: dd 1000000
    times 510 - ($ - $$) db 0
    dw 0xaa55
