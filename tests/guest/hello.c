/* The demonstration guest: greets on COM1, then does integer work whose results it checks
   (a sieve of primes, a checksum loop, recursive calls) and reports them.
   Context: ring 0, 64-bit, identity-mapped, interrupts off. */
#include "guest.h"

static uint8_t composite[100000];

static uint64_t count_primes(uint64_t limit) {
    uint64_t count = 0;
    for (uint64_t i = 2; i < limit; ++i) {
        if (composite[i]) continue;
        ++count;
        for (uint64_t j = i * i; j < limit; j += i) composite[j] = 1;
    }
    return count;
}

static uint64_t fib(uint64_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static uint32_t fnv1a(const uint8_t* p, uint64_t n) {
    uint32_t h = 2166136261u;
    for (uint64_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
    return h;
}

int main(void) {
    serial_puts("hello from hvsim: a 64-bit guest in ring 0\n");
    const uint64_t primes = count_primes(sizeof composite);
    serial_puts("primes below 100000: ");
    serial_put_u64(primes);
    serial_puts("\nfib(20): ");
    const uint64_t f = fib(20);
    serial_put_u64(f);
    const uint32_t h = fnv1a(composite, sizeof composite);
    serial_puts("\nfnv1a of the sieve: ");
    serial_put_u64(h);
    serial_puts("\n");
    return (primes == 9592 && f == 6765) ? 0 : 1;
}
