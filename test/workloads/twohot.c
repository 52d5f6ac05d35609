// Two hot functions in a known ratio, for the profiler's tests: each thread calls hot_a with three times the work of
// hot_b, and measures the thread CPU time each takes (the ground truth the sampled shares are judged against).
// Usage: twohot [threads] [seconds to live, 0 = forever]. Prints "a_ns b_ns rounds" (all threads) every 100 ms on
// stdout; a round is one call of each (the bench's unit of work).
// Built with -O2 -fno-omit-frame-pointer -g by test/support/profile.ts.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;
static unsigned long long spent_a, spent_b, rounds; /* summed over threads, under lock */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned long long thread_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

__attribute__((noinline)) void hot_a(unsigned long n) {
  for (unsigned long i = 0; i < n; i++) sink += i * 7;
}

__attribute__((noinline)) void hot_b(unsigned long n) {
  for (unsigned long i = 0; i < n; i++) sink += i * 5;
}

static void *work(void *arg) {
  for (;;) {
    unsigned long long t0 = thread_ns();
    hot_a(3000000);
    unsigned long long t1 = thread_ns();
    hot_b(1000000);
    unsigned long long t2 = thread_ns();
    pthread_mutex_lock(&lock);
    spent_a += t1 - t0;
    spent_b += t2 - t1;
    rounds++;
    pthread_mutex_unlock(&lock);
  }
  return arg;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  int seconds = argc > 2 ? atoi(argv[2]) : 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_t t;
  for (int i = 0; i < threads; i++) pthread_create(&t, NULL, work, NULL);
  struct timespec tick = {0, 100000000};
  for (int ms = 0; seconds == 0 || ms < seconds * 1000; ms += 100) {
    nanosleep(&tick, NULL);
    pthread_mutex_lock(&lock);
    printf("%llu %llu %llu\n", spent_a, spent_b, rounds);
    pthread_mutex_unlock(&lock);
  }
  return 0;
}
