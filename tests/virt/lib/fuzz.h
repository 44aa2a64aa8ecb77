/* Shared pieces of the VMX and SVM fuzzers (vmx_fuzz.c, svm_fuzz.c): a deterministic random
   source and the mutations they apply to a 64-bit value, and the outcome histogram. The
   simulator under test must survive every iteration (no host crash, assert or hang); the
   guest-visible outcome of each attempt is counted, not judged. Context: ring 0, 64-bit. */
#pragma once
#include "virt.h"

#ifndef FUZZ_ITERATIONS
#define FUZZ_ITERATIONS 100000u
#endif
#ifndef FUZZ_SEED
#define FUZZ_SEED 0x9e3779b97f4a7c15ull
#endif

/* xorshift64* (Vigna 2014): fixed seed, so a run is reproducible instruction for instruction. */
static inline uint64_t fuzz_next(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* A mutation of `value`: mostly one flipped bit (close to a valid state, so later checks and
   the guest run are reached), sometimes a random word, zero or all ones. */
static inline uint64_t fuzz_mutate(uint64_t *rng, uint64_t value) {
    const uint64_t r = fuzz_next(rng);
    switch (r % 8) {
    case 0: return fuzz_next(rng);
    case 1: return 0;
    case 2: return ~0ull;
    default: return value ^ (1ull << ((r >> 8) % 64));
    }
}

/* The guest's own IDT: every vector's gate (64-bit interrupt gate, SDM Vol. 3A 6.14.1) leads to
   `stub`, which leaves the guest (VMCALL/VMMCALL). Injected events are not subject to the
   exception bitmap / intercepts (SDM Vol. 3C 27.6.1, APM 15.20), so without it an injected
   event would run the host's exception handler inside the guest. Returns the IDT's base. */
static inline uint64_t fuzz_guest_idt(void (*stub)(void)) {
    static uint64_t idt[512] __attribute__((aligned(4096)));
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    const uint64_t handler = (uint64_t)stub;
    for (unsigned v = 0; v < 256; ++v) {
        idt[2 * v] = (handler & 0xffff) | ((uint64_t)cs << 16) | (0x8eull << 40) |
                     ((handler >> 16 & 0xffff) << 48);
        idt[2 * v + 1] = handler >> 32;
    }
    return (uint64_t)idt;
}

/* Outcomes by a small key (VMfail number, exit reason or EXITCODE), printed at the end. */
#define FUZZ_BUCKETS 128
struct fuzz_histogram {
    const char *label[FUZZ_BUCKETS];
    uint64_t key[FUZZ_BUCKETS];
    uint64_t count[FUZZ_BUCKETS];
    unsigned used;
};

static inline void fuzz_count(struct fuzz_histogram *h, const char *label, uint64_t key) {
    for (unsigned i = 0; i < h->used; ++i)
        if (h->key[i] == key && h->label[i] == label) {
            ++h->count[i];
            return;
        }
    if (h->used == FUZZ_BUCKETS) return;
    h->label[h->used] = label;
    h->key[h->used] = key;
    h->count[h->used++] = 1;
}

static inline void fuzz_print(const struct fuzz_histogram *h) {
    for (unsigned i = 0; i < h->used; ++i)
        printf("  %s 0x%llx: %llu\n", h->label[i], (unsigned long long)h->key[i],
               (unsigned long long)h->count[i]);
}
