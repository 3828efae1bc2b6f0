#define _GNU_SOURCE
#include "crash_guard.h"

#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define MAX_RANGES 128

static char message[4096];
static size_t message_length;
static char partial_output[4096];
// Executable segments of libhdf5 and its plugins (kind 0) and of CellWeave's own code: the
// program and the Swift runtime (kind 1).
static uintptr_t range_start[MAX_RANGES], range_end[MAX_RANGES];
static int range_kind[MAX_RANGES];
static int range_count;
static struct sigaction previous[NSIG];
static int installed;
// The stack of the thread that reads HDF5 (the one that set the message): [low, high).
static uintptr_t stack_low, stack_high;
// Faults, and the aborts of glibc's heap checks, which libhdf5 trips over its own corrupted state.
static const int guarded_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

static int is_hdf5(const char *name) {
    return name && (strstr(name, "libhdf5") || strstr(name, "/hdf5/serial/plugins/"));
}

static int collect(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size; (void)data;
    const char *name = info->dlpi_name;
    int ours = !name || !name[0] || strstr(name, "/libswift") || strstr(name, "/libFoundation") || strstr(name, "/libdispatch");
    int kind = is_hdf5(name) ? 0 : ours ? 1 : -1;
    if (kind < 0) return 0;
    for (int i = 0; i < info->dlpi_phnum && range_count < MAX_RANGES; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD || !(p->p_flags & PF_X)) continue;
        range_start[range_count] = info->dlpi_addr + p->p_vaddr;
        range_end[range_count] = info->dlpi_addr + p->p_vaddr + p->p_memsz;
        range_kind[range_count] = kind;
        range_count++;
    }
    return 0;
}

static int in_library(uintptr_t address, int kind) {
    for (int i = 0; i < range_count; i++)
        if (range_kind[i] == kind && address >= range_start[i] && address < range_end[i]) return 1;
    return 0;
}

// Whether the fault happened inside libhdf5: its program counter there, or, for a fault elsewhere
// on libhdf5's behalf (libc's memcpy of a wild pointer or free of a corrupted heap, a call through
// a null function pointer), a return address into libhdf5 among the top 64 KiB of the stack. A
// fault in CellWeave's own code (the program, the Swift runtime) never counts.
static int fault_in_hdf5(void *context) {
    ucontext_t *uc = context;
#if defined(__x86_64__)
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP], sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.pc, sp = (uintptr_t)uc->uc_mcontext.sp;
#else
    uintptr_t pc = 0, sp = 0;
    (void)uc;
#endif
    if (in_library(pc, 0)) return 1;
    if (in_library(pc, 1) || sp < stack_low || sp >= stack_high) return 0;  // ours, or another thread's stack
    uintptr_t end = sp + 65536 < stack_high ? sp + 65536 : stack_high;
    for (uintptr_t p = sp; p + sizeof(uintptr_t) <= end; p += sizeof(uintptr_t))
        if (in_library(*(const uintptr_t *)p, 0)) return 1;
    return 0;
}

// The input's error: the partial output removed, the message and its ending printed, exit 1.
// Async-signal-safe.
static void fail_input(const char *ending, size_t length) {
    if (partial_output[0]) unlink(partial_output);
    ssize_t unused = write(STDERR_FILENO, message, message_length);
    unused = write(STDERR_FILENO, ending, length);
    (void)unused;
    _exit(1);
}

static void handler(int signal, siginfo_t *info, void *context) {
    (void)info;
    if (message_length > 0 && fault_in_hdf5(context)) {
        static const char crashed[] = "crashed reading it\n";
        fail_input(crashed, sizeof crashed - 1);
    }
    // Not the input's fault: let the previous handler see the fault when it happens again.
    sigaction(signal, &previous[signal], NULL);
}

static int disabled;

static pthread_mutex_t watchdog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watchdog_changed = PTHREAD_COND_INITIALIZER;
static struct timespec watchdog_deadline;
static int watchdog_armed, watchdog_started;

static void *watchdog(void *unused) {
    (void)unused;
    pthread_mutex_lock(&watchdog_lock);
    for (;;) {
        if (!watchdog_armed) { pthread_cond_wait(&watchdog_changed, &watchdog_lock); continue; }
        if (pthread_cond_timedwait(&watchdog_changed, &watchdog_lock, &watchdog_deadline) == ETIMEDOUT && watchdog_armed) {
            static const char hang[] = "did not finish reading it in the time a read of its size takes (it loops on some corrupt files)\n";
            fail_input(hang, sizeof hang - 1);
        }
    }
    return NULL;
}

void cw_watchdog_arm(double seconds) {
    if (disabled) return;
    pthread_mutex_lock(&watchdog_lock);
    if (!watchdog_started) {
        pthread_t thread;
        watchdog_started = pthread_create(&thread, NULL, watchdog, NULL) == 0;
        if (watchdog_started) pthread_detach(thread);
    }
    clock_gettime(CLOCK_REALTIME, &watchdog_deadline);
    // Fractions of a second count (the fuzz targets allow reads a fifth of one).
    long long nanoseconds = watchdog_deadline.tv_nsec + (long long)((seconds - (double)(time_t)seconds) * 1e9);
    watchdog_deadline.tv_sec += (time_t)seconds + (time_t)(nanoseconds / 1000000000);
    watchdog_deadline.tv_nsec = (long)(nanoseconds % 1000000000);
    watchdog_armed = 1;
    pthread_cond_signal(&watchdog_changed);
    pthread_mutex_unlock(&watchdog_lock);
}

void cw_watchdog_disarm(void) {
    if (disabled) return;
    pthread_mutex_lock(&watchdog_lock);
    watchdog_armed = 0;
    pthread_cond_signal(&watchdog_changed);
    pthread_mutex_unlock(&watchdog_lock);
}

void cw_crash_guard_disable(void) { disabled = 1; }

void cw_crash_guard_set_message(const char *text) {
    if (disabled) return;
    if (!installed) {
        installed = 1;
        static char stack[1 << 16];
        stack_t alternate = {.ss_sp = stack, .ss_size = sizeof stack, .ss_flags = 0};
        sigaltstack(&alternate, NULL);
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = handler;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        for (size_t i = 0; i < sizeof guarded_signals / sizeof guarded_signals[0]; i++)
            sigaction(guarded_signals[i], &action, &previous[guarded_signals[i]]);
    }
    range_count = 0;
    dl_iterate_phdr(collect, NULL);
    pthread_attr_t attributes;
    if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
        void *low;
        size_t size;
        if (pthread_attr_getstack(&attributes, &low, &size) == 0) {
            stack_low = (uintptr_t)low;
            stack_high = (uintptr_t)low + size;
        }
        pthread_attr_destroy(&attributes);
    }
    size_t n = strlen(text);
    if (n >= sizeof message) n = sizeof message - 1;
    memcpy(message, text, n);
    message_length = n;
}

void cw_crash_guard_set_partial_output(const char *path) {
    if (!path) { partial_output[0] = 0; return; }
    size_t n = strlen(path);
    if (n >= sizeof partial_output) { partial_output[0] = 0; return; }
    memcpy(partial_output, path, n + 1);
}
