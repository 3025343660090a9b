// A tiny persistent thread pool. Work is described as a fixed list of tasks;
// which thread runs which task does not matter for the results, because every
// task writes its own disjoint output. Nested or concurrent calls run serially.
#include "ckernels.h"
#include "internal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sched.h>

int mlw_ckernels_version(void) { return 2; }

#define MAX_THREADS 256   // helpers (threads - 1) must fit in 8 bits

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int threads_setting = 1;
static int simd_setting = 0;

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;   // for sleeping workers only
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t call_mu = PTHREAD_MUTEX_INITIALIZER;   // one parallel call at a time
static int workers_started = 0;
// (job counter << 8) | number of helper workers: one atomic word, so a worker always
// reads the helper count of the very job it woke up for.
static atomic_long job_generation = 0;
// The caller closes a job once every task has been claimed; helpers that wake up later
// skip it, so the caller never waits for a helper that did not start (under CPU
// contention a sleeping helper can take milliseconds to be scheduled).
static atomic_long closed_counter = 0;
static atomic_int active_helpers = 0;  // helpers inside run_tasks for an open job
static void (*job_body)(void *, int);
static void *job_ctx;
static int job_ntasks;
static atomic_int job_next;
// Pinned jobs (mlw_parallel_for_pinned): bit t is set once task t is taken. Thread t
// (the caller is 0, helper h is h + 1) takes task t first, then any left over.
static int job_pinned;
static atomic_ullong job_claimed;
static _Thread_local int in_parallel = 0;

// Workers spin this many pause-iterations (~tens of microseconds) before sleeping, so
// back-to-back parallel calls (GEMM phases, elementwise ops) do not pay a futex wake-up.
#define SPIN_ITERS 20000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void init_settings(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    const char *env = getenv("MLW_THREADS");
    if (env && atoi(env) > 0) n = atoi(env);
    if (n < 1) n = 1;
    if (n > MAX_THREADS) n = MAX_THREADS;
    threads_setting = (int)n;
    simd_setting = mlw_cpu_simd_level();
    // MLW_SIMD=portable|avx2 caps the level (benchmarks, debugging).
    const char *simd = getenv("MLW_SIMD");
    if (simd && strcmp(simd, "portable") == 0) simd_setting = 0;
    if (simd && strcmp(simd, "avx2") == 0 && simd_setting > 1) simd_setting = 1;
}

int mlw_cpu_simd_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (!mlw_cpu_has_avx2_fma()) return 0;
    return __builtin_cpu_supports("avx512f") ? 2 : 1;
#else
    return 0;
#endif
}

int mlw_cpu_has_avx2_fma(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

void mlw_set_threads(int n) {
    pthread_once(&once, init_settings);
    if (n < 1) n = 1;
    if (n > MAX_THREADS) n = MAX_THREADS;
    threads_setting = n;
}

int mlw_get_threads(void) { pthread_once(&once, init_settings); return threads_setting; }

int mlw_simd_enabled(void) { pthread_once(&once, init_settings); return simd_setting > 0; }

int mlw_simd_level(void) { pthread_once(&once, init_settings); return simd_setting; }

void mlw_set_simd(int level) {
    pthread_once(&once, init_settings);
    int cpu = mlw_cpu_simd_level();
    simd_setting = level < 0 ? 0 : (level > cpu ? cpu : level);
}

static int claim(int t) { unsigned long long bit = 1ull << t; return !(atomic_fetch_or(&job_claimed, bit) & bit); }

static void run_tasks(int self) {
    if (job_pinned) {
        if (self < job_ntasks && claim(self)) job_body(job_ctx, self);
        for (int t = 0; t < job_ntasks; t++) if (claim(t)) job_body(job_ctx, t);
        return;
    }
    int t;
    while ((t = atomic_fetch_add(&job_next, 1)) < job_ntasks) job_body(job_ctx, t);
}

static void *worker_main(void *arg) {
    int id = (int)(intptr_t)arg;
    long seen = 0;
    in_parallel = 1;
    for (;;) {
        long gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&job_generation, memory_order_acquire)) == seen && spins < SPIN_ITERS) { cpu_relax(); spins++; }
        if (gen == seen) {
            pthread_mutex_lock(&pool_mu);
            while ((gen = atomic_load_explicit(&job_generation, memory_order_acquire)) == seen) pthread_cond_wait(&work_cv, &pool_mu);
            pthread_mutex_unlock(&pool_mu);
        }
        seen = gen;
        if (id >= (int)(gen & 0xff)) continue;
        atomic_fetch_add(&active_helpers, 1);
        if (atomic_load(&closed_counter) < (gen >> 8)) run_tasks(id + 1);
        atomic_fetch_sub(&active_helpers, 1);
    }
    return NULL;
}

static void ensure_workers(int wanted) {
    while (workers_started < wanted) {
        pthread_t th;
        if (pthread_create(&th, NULL, worker_main, (void *)(intptr_t)workers_started) != 0) return;
        pthread_detach(th);
        workers_started++;
    }
}

static void parallel_run(int ntasks, int max_threads, int pinned, void (*body)(void *, int), void *ctx) {
    if (ntasks <= 0) return;
    int nt = mlw_get_threads();
    if (max_threads > 0 && max_threads < nt) nt = max_threads;
    if (nt > ntasks) nt = ntasks;
    if (nt <= 1 || in_parallel || pthread_mutex_trylock(&call_mu) != 0) {
        for (int t = 0; t < ntasks; t++) body(ctx, t);
        return;
    }
    ensure_workers(nt - 1);
    int helpers = workers_started < nt - 1 ? workers_started : nt - 1;
    job_body = body; job_ctx = ctx; job_ntasks = ntasks; job_pinned = pinned;
    atomic_store(&job_next, 0);
    atomic_store(&job_claimed, 0);
    pthread_mutex_lock(&pool_mu);      // publish under the lock so sleepers cannot miss it
    long counter = (atomic_load(&job_generation) >> 8) + 1;
    long next = counter << 8 | helpers;
    atomic_store_explicit(&job_generation, next, memory_order_release);
    pthread_cond_broadcast(&work_cv);
    pthread_mutex_unlock(&pool_mu);
    in_parallel = 1;
    run_tasks(0);
    in_parallel = 0;
    // Every task is claimed now; wait only for helpers still running one.
    atomic_store(&closed_counter, counter);
    long spins = 0;
    while (atomic_load(&active_helpers) > 0) {
        if (++spins < SPIN_ITERS) cpu_relax(); else sched_yield();
    }
    pthread_mutex_unlock(&call_mu);
}

void mlw_parallel_for(int ntasks, int max_threads, void (*body)(void *, int), void *ctx) {
    parallel_run(ntasks, max_threads, 0, body, ctx);
}

void mlw_parallel_for_pinned(int ntasks, void (*body)(void *, int), void *ctx) {
    parallel_run(ntasks > 64 ? 64 : ntasks, ntasks, 1, body, ctx);
}
