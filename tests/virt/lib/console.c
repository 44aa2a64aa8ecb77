/* COM1 output (16550, polled), a small printf family and the way out through the debug-exit
   port. Context: ring 0, 64-bit, one CPU, interrupts off. */
#include "virt.h"

#include "../../guest/guest.h"  /* outb, inb, serial_putc, guest_exit */

#define COM1 0x3f8

void *memset(void *d, int c, size_t n) {
    void *r = d;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}

void *memcpy(void *d, const void *s, size_t n) {
    void *r = d;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return r;
}

void console_init(void) {
    outb(COM1 + 1, 0x00);  /* IER: no interrupts */
    outb(COM1 + 3, 0x80);  /* LCR.DLAB: the divisor follows */
    outb(COM1 + 0, 0x01);  /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);  /* 8N1 */
    outb(COM1 + 2, 0x07);  /* FIFO on, cleared */
    outb(COM1 + 4, 0x03);  /* DTR, RTS */
}

/* Where formatted characters go: the serial port (buf == NULL) or a buffer. */
struct sink {
    char *buf;
    size_t size, len;
};

static void put(struct sink *s, char c) {
    if (!s->buf) serial_putc(c);
    else if (s->len + 1 < s->size) s->buf[s->len] = c;
    ++s->len;
}

static void put_str(struct sink *s, const char *str) {
    while (*str) put(s, *str++);
}

static void put_unsigned(struct sink *s, uint64_t v, unsigned base, int width, char pad) {
    char digits[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    for (int i = n; i < width; ++i) put(s, pad);
    while (n) put(s, digits[--n]);
}

static void format(struct sink *s, const char *fmt, va_list ap) {
    for (; *fmt; ++fmt) {
        if (*fmt != '%') {
            put(s, *fmt);
            continue;
        }
        bool alt = false, wide = false;
        char pad = ' ';
        int width = 0;
        ++fmt;
        if (*fmt == '#') { alt = true; ++fmt; }
        if (*fmt == '0') { pad = '0'; ++fmt; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') { wide = true; ++fmt; }
        switch (*fmt) {
        case 's': { const char *str = va_arg(ap, const char *); put_str(s, str ? str : "(null)"); break; }
        case 'c': put(s, (char)va_arg(ap, int)); break;
        case 'd':
        case 'i': {
            int64_t v = wide ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (v < 0) { put(s, '-'); v = -v; }
            put_unsigned(s, (uint64_t)v, 10, width, pad);
            break;
        }
        case 'u': put_unsigned(s, wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad); break;
        case 'x':
            if (alt) put_str(s, "0x");
            put_unsigned(s, wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad);
            break;
        case 'p': put_str(s, "0x"); put_unsigned(s, (uint64_t)va_arg(ap, void *), 16, 0, ' '); break;
        case '%': put(s, '%'); break;
        default: put(s, '?'); break;
        }
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    struct sink s = {buf, size, 0};
    format(&s, fmt, ap);
    if (size) buf[s.len < size ? s.len : size - 1] = '\0';
    return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...) {
    struct sink s = {NULL, 0, 0};
    va_list ap;
    va_start(ap, fmt);
    format(&s, fmt, ap);
    va_end(ap);
    return (int)s.len;
}

void virt_exit(uint32_t status) {
    guest_exit(status);
    for (;;) __asm__ volatile("cli; hlt");
}

void virt_abort(const char *fmt, ...) {
    struct sink s = {NULL, 0, 0};
    va_list ap;
    va_start(ap, fmt);
    put_str(&s, "ABORT: ");
    format(&s, fmt, ap);
    put(&s, '\n');
    va_end(ap);
    virt_exit(1);
}
