// Runs one form on the host CPU through native_trampoline.S; catches its faults.
// Context: host user mode, single-threaded.
#include "native_runner.h"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "native_frame.h"

namespace diff {

Executor::~Executor() = default;

namespace {

NativeFrame* frame() { return reinterpret_cast<NativeFrame*>(HVSIM_DIFF_FRAME); }
uint8_t* code_region() { return reinterpret_cast<uint8_t*>(kCodeBase); }
uint8_t* data_page() { return reinterpret_cast<uint8_t*>(kDataAddr); }

volatile sig_atomic_t case_running = 0;

// Exit stub: mov [frame.gpr[0]], rax; mov rax, offset; jmp [frame.exit]. 22 bytes, touches
// no flags and no stack, so any end state survives it.
constexpr size_t kStubSize = 22;

void put_le32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

void write_stub(std::span<uint8_t, kCodeSize> region, int64_t offset) {
    uint8_t* p = region.data() + (kSnippetAddr - kCodeBase) + offset;
    const uint8_t stub[kStubSize] = {0x48, 0x89, 0x04, 0x25, 0, 0, 0, 0,  // mov [abs32], rax
                                     0x48, 0xc7, 0xc0, 0, 0, 0, 0,        // mov rax, imm32
                                     0xff, 0x24, 0x25, 0, 0, 0, 0};       // jmp [abs32]
    std::memcpy(p, stub, kStubSize);
    put_le32(p + 4, HVSIM_DIFF_FRAME + HVSIM_DIFF_F_GPR);
    put_le32(p + 11, static_cast<uint32_t>(offset));
    put_le32(p + 18, HVSIM_DIFF_FRAME + HVSIM_DIFF_F_EXIT);
}

void map_fixed(uint64_t addr, uint64_t size, int prot) {
    void* want = reinterpret_cast<void*>(addr);
    void* got = mmap(want, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == want) return;
    const char* why = got == MAP_FAILED ? std::strerror(errno) : "address not honoured";
    if (got != MAP_FAILED) munmap(got, size);  // a kernel without MAP_FIXED_NOREPLACE
    char what[128];
    std::snprintf(what, sizeof what, "diff: cannot map %#llx: %s",
                  static_cast<unsigned long long>(addr), why);
    throw std::runtime_error(what);
}

// The state at the fault, as the kernel saved it, becomes the case's end state; the case then
// resumes in diff_native_resume, which returns to run().
void on_fault(int sig, siginfo_t*, void* context) {
    auto* uc = static_cast<ucontext_t*>(context);
    greg_t* g = uc->uc_mcontext.gregs;
    const auto rip = static_cast<uint64_t>(g[REG_RIP]);
    if (!case_running || rip < kCodeBase || rip >= kCodeBase + kCodeSize) {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, nullptr);
        return;  // the fault repeats and kills the process with the usual report
    }
    static constexpr int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                      REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                      REG_R12, REG_R13, REG_R14, REG_R15};
    NativeFrame* f = frame();
    for (int i = 0; i < 16; ++i) f->gpr[i] = static_cast<uint64_t>(g[order[i]]);
    f->rflags = static_cast<uint64_t>(g[REG_EFL]);
    f->rip_offset = rip - kSnippetAddr;
    f->fault = g[REG_TRAPNO];
    const fpregset_t fp = uc->uc_mcontext.fpregs;
    f->mxcsr = fp->mxcsr;
    for (int i = 0; i < 16; ++i) std::memcpy(f->xmm[i], &fp->_xmm[i], 16);
    g[REG_RIP] = reinterpret_cast<greg_t>(&diff_native_resume);
    g[REG_EFL] &= ~static_cast<greg_t>(rflags::df | rflags::tf);
}

void install_handlers() {
    static constexpr size_t kAltStackSize = 1 << 16;
    stack_t alt{};
    alt.ss_sp = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (alt.ss_sp == MAP_FAILED) throw std::runtime_error("diff: cannot map a signal stack");
    alt.ss_size = kAltStackSize;
    // The case's RSP may point anywhere (into the data page, even): signal frames must not.
    if (sigaltstack(&alt, nullptr) != 0) throw std::runtime_error("diff: sigaltstack failed");
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP}) {
        if (sigaction(sig, &sa, nullptr) != 0) throw std::runtime_error("diff: sigaction failed");
    }
}

}  // namespace

void build_code_region(const Form& form, std::span<uint8_t, kCodeSize> region) {
    std::memset(region.data(), kCodeFill, region.size());
    std::memcpy(region.data() + (kSnippetAddr - kCodeBase), form.code.data(), form.code.size());
    write_stub(region, static_cast<int64_t>(form.code.size()));
    for (int64_t target : kTargetOffsets) write_stub(region, target);
}

NativeRunner& NativeRunner::instance() {
    static NativeRunner runner;
    return runner;
}

NativeRunner::NativeRunner() {
    map_fixed(kCodeBase, kCodeSize, PROT_READ | PROT_WRITE | PROT_EXEC);
    map_fixed(kDataAddr, kDataSize, PROT_READ | PROT_WRITE);
    map_fixed(kStackBase, kStackSize, PROT_READ | PROT_WRITE);
    map_fixed(HVSIM_DIFF_FRAME, HVSIM_DIFF_FRAME_SIZE, PROT_READ | PROT_WRITE);
    install_handlers();
}

void NativeRunner::load_code(const Form& form) {
    build_code_region(form, std::span<uint8_t, kCodeSize>(code_region(), kCodeSize));
    loaded_ = &form;
}

void NativeRunner::run(const Form& form, const DiffState& in, DiffState& out) {
    if ((in.rflags & ~rflags::random_mask) != rflags::base) {
        throw std::invalid_argument("diff: input RFLAGS has bits the host must not get");
    }
    if (in.mxcsr > 0xffff) throw std::invalid_argument("diff: reserved MXCSR bits set");
    if (&form != loaded_) load_code(form);
    std::memcpy(data_page(), in.mem, kDataSize);
    NativeFrame* f = frame();
    std::memcpy(f->gpr, in.gpr, sizeof f->gpr);
    f->rflags = in.rflags;
    std::memcpy(f->xmm, in.xmm, sizeof f->xmm);
    f->mxcsr = in.mxcsr;
    f->entry = kSnippetAddr;
    f->exit = reinterpret_cast<uint64_t>(&diff_native_exit);
    f->fault = vector::none;
    f->rip_offset = 0;
    case_running = 1;
    asm volatile("" ::: "memory");
    diff_native_enter();
    asm volatile("" ::: "memory");
    case_running = 0;
    std::memcpy(out.gpr, f->gpr, sizeof out.gpr);
    out.rip_offset = f->rip_offset;
    out.rflags = f->rflags;
    std::memcpy(out.xmm, f->xmm, sizeof out.xmm);
    out.mxcsr = f->mxcsr;
    std::memcpy(out.mem, data_page(), kDataSize);
    out.fault_vector = static_cast<int>(f->fault);
}

DiffState NativeExecutor::run(const Form& form, const DiffState& in) {
    DiffState out;
    NativeRunner::instance().run(form, in, out);
    return out;
}

}  // namespace diff
