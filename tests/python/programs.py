# Small real-mode programs, hand-assembled (the nasm source is beside each). Loaded at
# LOAD_ADDRESS: CS = 0, IP = 0x7c00, DS = 0.
# bits 16, org 0x7c00: mov dx, 0x3f8; mov al, 'h'; out dx, al; mov al, 'i'; out dx, al;
# mov al, 10; out dx, al; mov al, 0; out 0xf4, al; hlt           -> "hi\n", exit status 1
HELLO_FLAT = bytes.fromhex("baf803b068eeb069eeb00aeeb000e6f4f4")

# mov cx, 10; xor ax, ax; again: add ax, cx; sub cx, 1; jnz again; mov [0x2000], ax;
# add ax, bx; out 0xf4, al; hlt          -> AX = 55 + BX, [0x2000] = 55, exit status 2*AL+1
SUM_FLAT = bytes.fromhex("b90a0031c001c883e90175f9a3002001d8e6f4f4")

# again: add ax, 1; jmp again            -> AX counts loop iterations, forever
COUNT_FLAT = bytes.fromhex("83c001ebfb")

LOAD_ADDRESS = 0x7C00

# mov dx, 0x3fd; in al, dx; mov dx, 0x3f8; mov al, 'x'; out dx, al; mov al, 0; out 0xf4, al;
# hlt                                    -> reads the UART's line status, prints "x", exit 1
PORTS_FLAT = bytes.fromhex("bafd03ecbaf803b078eeb000e6f4f4")
