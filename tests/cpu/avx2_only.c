/* LD_PRELOAD library: the process sees an AVX2-only x86-64 CPU (no AVX-512, no VNNI, no AMX), the laptop class.
 *
 * ONNX Runtime's MLAS picks its kernels from CPUID alone (no option or variable forces AVX2), and so do oneDNN, MKL
 * and PyTorch's cpuinfo. Linux's CPUID faulting (arch_prctl ARCH_SET_CPUID; CPU flag `cpuid_fault`) makes each CPUID
 * instruction of the process trap: the SIGSEGV handler runs the real CPUID with faulting briefly off, clears the
 * feature bits of the newer instruction sets and resumes after the instruction. Threads inherit the setting.
 * Build and use (`make test-avx2`): cc -O2 -shared -fPIC -o avx2_only.so avx2_only.c; LD_PRELOAD=./avx2_only.so CMD.
 * Python's faulthandler replaces the SIGSEGV handler: run pytest with `-p no:faulthandler`.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static void real_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(subleaf));
}

static void on_segv(int signal, siginfo_t *info, void *context) {
    (void)signal;
    (void)info;
    ucontext_t *uc = context;
    greg_t *regs = uc->uc_mcontext.gregs;
    const uint8_t *ip = (const uint8_t *)regs[REG_RIP];
    if (ip[0] != 0x0F || ip[1] != 0xA2) {  /* not CPUID: a real fault */
        struct sigaction fallback = {.sa_handler = SIG_DFL};
        sigaction(SIGSEGV, &fallback, NULL);
        return;  /* the instruction faults again, now fatally */
    }
    uint32_t leaf = (uint32_t)regs[REG_RAX], subleaf = (uint32_t)regs[REG_RCX], r[4];
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
    real_cpuid(leaf, subleaf, r);
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
    if (leaf == 7 && subleaf == 0) {
        /* EBX: AVX512 F, DQ, IFMA, PF, ER, CD, BW, VL */
        r[1] &= ~(1u << 16 | 1u << 17 | 1u << 21 | 1u << 26 | 1u << 27 | 1u << 28 | 1u << 30 | 1u << 31);
        /* ECX: AVX512 VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ */
        r[2] &= ~(1u << 1 | 1u << 6 | 1u << 11 | 1u << 12 | 1u << 14);
        /* EDX: AVX512 4VNNIW, 4FMAPS, VP2INTERSECT, FP16; AMX BF16, TILE, INT8 */
        r[3] &= ~(1u << 2 | 1u << 3 | 1u << 8 | 1u << 23 | 1u << 22 | 1u << 24 | 1u << 25);
    } else if (leaf == 7 && subleaf == 1) {
        r[0] &= ~(1u << 4 | 1u << 5 | 1u << 23);  /* EAX: AVX-VNNI, AVX512_BF16, AVX-IFMA */
        r[3] &= ~(1u << 4 | 1u << 5 | 1u << 10 | 1u << 19);  /* EDX: AVX-VNNI-INT8, AVX-NE-CONVERT, -INT16, AVX10 */
    } else if (leaf == 0xD && subleaf == 0) {
        r[0] &= ~0xE0u;  /* XSAVE state of the AVX-512 registers: not offered */
    }
    regs[REG_RAX] = r[0];
    regs[REG_RBX] = r[1];
    regs[REG_RCX] = r[2];
    regs[REG_RDX] = r[3];
    regs[REG_RIP] += 2;
}

__attribute__((constructor)) static void mask_cpuid(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &action, NULL);
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        fprintf(stderr, "avx2_only: this CPU or kernel has no CPUID faulting (cpuid_fault): nothing is masked\n");
        exit(1);
    }
}
