/* Freestanding helpers for guest programs: COM1 output and the debug-exit port.
   Context: ring 0, 64-bit, interrupts off. */
#pragma once
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void guest_exit(uint32_t code) { __asm__ volatile("outl %0, %1" : : "a"(code), "Nd"((uint16_t)0xf4)); }

/* 16550: wait for the transmit holding register to empty (LSR bit 5), then write. */
static inline void serial_putc(char c) {
    while (!(inb(0x3f8 + 5) & 0x20)) {}
    outb(0x3f8, (uint8_t)c);
}
static inline void serial_puts(const char* s) {
    while (*s) serial_putc(*s++);
}
static inline void serial_put_u64(uint64_t v) {
    char buf[21];
    int n = 0;
    do { buf[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) serial_putc(buf[--n]);
}
