/* The root partition's device emulator for its children (Hyper-V's worker-process role): a
   16550 UART at COM1 whose output goes to the root's own UART, an IDE disk (ide.c), the demo's
   scenario and scratch ports, and the debug-exit port through which a child reports its end. Unknown
   ports read all-ones and ignore writes, as on an ISA bus.
   Context: root OS, ring 0, 64-bit, interrupts off. */
#include "root.h"

#include "../../tests/guest/guest.h"
#include "../abi/demo.h"

/* 16550 registers (offsets from COM1): the state a driver can observe. */
struct uart16550 {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
};

static struct uart16550 uart;
static uint32_t scratch;

static uint32_t uart_access(uint16_t offset, int is_write, uint32_t value) {
    const int dlab = uart.lcr & 0x80;
    uint8_t *reg = NULL;
    switch (offset) {
    case 0:
        if (dlab) { reg = &uart.dll; break; }
        if (is_write) serial_putc((char)value);  /* THR: out through the root's UART */
        return 0;                                /* RBR: no input */
    case 1: reg = dlab ? &uart.dlm : &uart.ier; break;
    case 2: return is_write ? 0 : 0x01;           /* FCR write ignored; IIR: no interrupt pending */
    case 3: reg = &uart.lcr; break;
    case 4: reg = &uart.mcr; break;
    case 5: return 0x60;                          /* LSR: THR and transmitter empty */
    case 6: return 0xb0;                          /* MSR: CTS, DSR, DCD */
    default: reg = &uart.scr; break;
    }
    if (is_write) *reg = (uint8_t)value;
    return *reg;
}

int root_emulate_io(const struct hv_io_port_intercept *io, uint64_t *value, struct child_state *child) {
    const uint32_t out = (uint32_t)io->rax;
    *value = ~0ull;
    if (io->port >= HV_DEMO_UART_PORT && io->port < HV_DEMO_UART_PORT + 8) {
        *value = uart_access((uint16_t)(io->port - HV_DEMO_UART_PORT), io->is_write, out);
    } else if (root_ide_access(io->port, io->is_write, out, value)) {
        /* done */
    } else if (io->port == HV_DEMO_SCENARIO_PORT) {
        if (io->is_write) child->scenario = out;
        *value = child->scenario;
    } else if (io->port == HV_DEMO_EMULATED_PORT) {
        if (io->is_write) scratch = out;
        *value = scratch;
    } else if (io->port == HV_DEMO_DEBUG_EXIT_PORT && io->is_write) {
        child->finished = 1;
        child->status = out;
        return 0;  /* the child is done: its access is not completed */
    }
    ++child->intercepts;
    return 1;
}
