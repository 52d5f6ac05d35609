// Page-fault storm: map 64 MiB, touch every page (one minor fault each), unmap; repeat for N rounds.
// Prints the mean CPU nanoseconds per fault (user + system, getrusage), then wall-clock ns per fault; a tracer on the
// fault path shows up in the first, which other load on a shared machine mostly does not disturb.
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 20;
  const size_t size = 64UL << 20;
  const long page = sysconf(_SC_PAGESIZE);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long r = 0; r < rounds; r++) {
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return perror("mmap"), 1;
    for (size_t off = 0; off < size; off += page) p[off] = 1;
    munmap(p, size);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double faults = (double)rounds * (size / page);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu_ns = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
  printf("%.2f %.2f\n", cpu_ns / faults, ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / faults);
  return 0;
}
