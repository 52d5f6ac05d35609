// Pipe ping-pong: two processes pinned to one CPU bounce a byte N times, so every round trip is two context
// switches. Prints the mean CPU microseconds per round trip (user + system time of both processes, from
// getrusage): a tracer on sched_switch runs in the switching task's context, so its cost shows up here, while
// other load on a shared machine (which steals wall-clock time, not CPU time) mostly does not.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set)) perror("sched_setaffinity");
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000;
  int a[2], b[2];
  char c = 0;
  if (pipe(a) || pipe(b)) return perror("pipe"), 1;
  pin(0);
  pid_t child = fork();
  if (child == 0) {
    for (long i = 0; i < n; i++)
      if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1) _exit(1);
    _exit(0);
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++)
    if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1) return 1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  waitpid(child, NULL, 0);
  struct rusage self, kids;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  double cpu_us = (self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) * 1e6 +
                  self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec + kids.ru_stime.tv_usec;
  double wall_us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3;
  printf("%.4f %.4f\n", cpu_us / n, wall_us / n);
  return 0;
}
