/* COM1 output (16550, polled), a small printf, the check ledger and the way out through the
   debug-exit port. Context: ring 0, 64-bit, any CPU (lines are serialised by a spinlock). */
#include <stdarg.h>

#include "kernel.h"

#define COM1 0x3f8

unsigned checks_passed, checks_failed;
static volatile int print_lock;

void* memset(void* d, int c, size_t n) {
    void* r = d;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}

void* memcpy(void* d, const void* s, size_t n) {
    void* r = d;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return r;
}

void console_init(void) {
    outb(COM1 + 1, 0x00);  /* IER: no interrupts */
    outb(COM1 + 3, 0x80);  /* LCR.DLAB: divisor follows */
    outb(COM1 + 0, 0x01);  /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);  /* 8N1 */
    outb(COM1 + 2, 0x07);  /* FIFO on, cleared */
    outb(COM1 + 4, 0x03);  /* DTR, RTS */
}

static void lock(void) {
    while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE)) cpu_relax();
}
static void unlock(void) { __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE); }

static void put_unsigned(uint64_t v, unsigned base, int width, char pad) {
    char buf[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (n < width) buf[n++] = pad;
    while (n) serial_putc(buf[--n]);
}

/* Supports %s %c %d %u %x %p with the flags '#', '0', a width and the 'l' length. */
static void vprint(const char* fmt, va_list ap) {
    for (; *fmt; ++fmt) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        bool alt = false, is_long = false;
        char pad = ' ';
        int width = 0;
        ++fmt;
        if (*fmt == '#') { alt = true; ++fmt; }
        if (*fmt == '0') { pad = '0'; ++fmt; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') { is_long = true; ++fmt; }
        switch (*fmt) {
        case 's': { const char* s = va_arg(ap, const char*); serial_puts(s ? s : "(null)"); break; }
        case 'c': serial_putc((char)va_arg(ap, int)); break;
        case 'd': {
            int64_t v = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (v < 0) { serial_putc('-'); v = -v; }
            put_unsigned((uint64_t)v, 10, width, pad);
            break;
        }
        case 'u': put_unsigned(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad); break;
        case 'x':
            if (alt) serial_puts("0x");
            put_unsigned(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad);
            break;
        case 'p': serial_puts("0x"); put_unsigned((uint64_t)va_arg(ap, void*), 16, 0, ' '); break;
        case '%': serial_putc('%'); break;
        default: serial_putc('?'); break;
        }
    }
}

void kprintf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    lock();
    vprint(fmt, ap);
    unlock();
    va_end(ap);
}

void pass(const char* step) {
    ++checks_passed;
    kprintf("ok %s\n", step);
}

void passf(const char* step, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ++checks_passed;
    lock();
    serial_puts("ok ");
    serial_puts(step);
    serial_puts(" (");
    vprint(fmt, ap);
    serial_puts(")\n");
    unlock();
    va_end(ap);
}

static void vfail(const char* step, const char* fmt, va_list ap) {
    ++checks_failed;
    lock();
    serial_puts("FAIL ");
    serial_puts(step);
    serial_puts(": ");
    vprint(fmt, ap);
    serial_putc('\n');
    unlock();
}

void fail(const char* step, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(step, fmt, ap);
    va_end(ap);
}

bool check(bool ok, const char* step, const char* fmt, ...) {
    if (ok) {
        pass(step);
        return true;
    }
    va_list ap;
    va_start(ap, fmt);
    vfail(step, fmt, ap);
    va_end(ap);
    return false;
}

void skip(const char* step, const char* why) { kprintf("skip %s: %s\n", step, why); }

/* Debug-exit port 0xf4: the host exits with (value << 1) | 1 on QEMU and hvsim alike. */
__attribute__((noreturn)) static void exit_with(uint32_t value) {
    guest_exit(value);
    for (;;) __asm__ volatile("cli; hlt");
}

void kernel_finish(void) {
    const unsigned total = checks_passed + checks_failed;
    if (checks_failed == 0) {
        kprintf("kernel: all %u checks passed\n", total);
        exit_with(0);
    }
    kprintf("kernel: %u of %u checks failed\n", checks_failed, total);
    exit_with(checks_failed);
}

void kernel_abort(const char* why) {
    ++checks_failed;
    kprintf("kernel: aborted (%s) after %u passed, %u failed checks\n", why, checks_passed, checks_failed);
    exit_with(checks_failed);
}
